package transforms

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const (
	valueToKeyDoc        = "Replace the record key with a new key formed from a subset of fields in the record value."
	extractFieldDoc      = "Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data. Any null values are passed through unmodified."
	hoistFieldDoc        = "Wrap data using the specified field name in a Struct when schema present, or a Map in the case of schemaless data."
	setSchemaMetadataDoc = "Set the schema name, version or both on the record's key or value schema."
)

// ---- ValueToKey ----

func valueToKeyDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "fields", Type: config.List, Default: config.NoDefault, Importance: config.High, Validator: nonEmptyList,
			Doc: "Field names on the record value to extract as the record key."}).
		Define(replaceNullKey()).
		Define(fieldSyntaxKey())
}

type valueToKey struct {
	fields      []string
	replaceNull bool
	schemas     cache[*schema.Schema, *replaced]
}

func newValueToKey(v *config.Values) (transformer, error) {
	if err := v1Only(v, v.List("fields")...); err != nil {
		return nil, err
	}
	return &valueToKey{fields: v.List("fields"), replaceNull: v.Bool(keyReplaceNullWithDefault)}, nil
}

// v1Only rejects field.syntax.version=V2 with nested paths in transforms that
// implement only top-level field names.
func v1Only(v *config.Values, fields ...string) error {
	if v.String(keyFieldSyntaxVersion) != "V2" {
		return nil
	}
	for _, f := range fields {
		if strings.Contains(f, ".") {
			return keyError(keyFieldSyntaxVersion, "field.syntax.version=V2 (nested field paths) is supported by ExtractField only")
		}
	}
	return nil
}

func (t *valueToKey) apply(r schema.Record) (schema.Record, bool, error) {
	if r.Value == nil {
		return r, true, nil
	}
	if r.ValueSchema == nil {
		in, err := requireMap(r.Value, "copying fields from value to key")
		if err != nil {
			return r, false, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = in[f]
		}
		r.KeySchema, r.Key = nil, key
		return r, true, nil
	}
	st, err := requireStruct(r.Value, "copying fields from value to key")
	if err != nil {
		return r, false, err
	}
	rp, err := t.schemas.getOrBuild(st.Schema, func() (*replaced, error) {
		fields := make([]schema.Field, 0, len(t.fields))
		src := make([]int, 0, len(t.fields))
		for _, f := range t.fields {
			fld, ok := st.Schema.Field(f)
			if !ok {
				return nil, fmt.Errorf("field %s: Field does not exist: %s", f, f)
			}
			fields = append(fields, schema.Field{Name: f, Schema: fld.Schema})
			src = append(src, fld.Index)
		}
		ks, err := deriveStruct(nil, false, fields)
		if err != nil {
			return nil, err
		}
		return &replaced{schema: ks, src: src}, nil
	})
	if err != nil {
		return r, false, err
	}
	key := rp.project(st, t.replaceNull)
	r.KeySchema, r.Key = rp.schema, key
	return r, true, nil
}

// ---- ExtractField ----

func extractFieldDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "field", Type: config.String, Default: config.NoDefault, Importance: config.Medium,
			Doc: "Field name to extract."}).
		Define(replaceNullKey()).
		Define(fieldSyntaxKey())
}

type extractField struct {
	side        side
	path        []string
	orig        string
	replaceNull bool
	schemas     cache[*schema.Schema, *extracted]
}

type extracted struct {
	schema *schema.Schema
	idx    []int
}

func newExtractField(v *config.Values, s side) (transformer, error) {
	f := v.String("field")
	path := []string{f}
	if v.String(keyFieldSyntaxVersion) == "V2" {
		p, err := parseFieldPathV2(f)
		if err != nil {
			return nil, keyError("field", "Invalid value %s for configuration field: %v", f, err)
		}
		path = p
	}
	return &extractField{side: s, path: path, orig: f, replaceNull: v.Bool(keyReplaceNullWithDefault)}, nil
}

// parseFieldPathV2 splits a KIP-821 field path: dots separate names; a name
// wrapped in backticks may contain dots (a doubled backtick is a literal one).
func parseFieldPathV2(p string) ([]string, error) {
	var out []string
	for i := 0; i <= len(p); {
		if i < len(p) && p[i] == '`' {
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("unterminated backtick in field path %q", p)
				}
				if p[j] == '`' {
					if j+1 < len(p) && p[j+1] == '`' {
						b.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(p[j])
				j++
			}
			out = append(out, b.String())
			i = j + 1
			if i < len(p) && p[i] != '.' {
				return nil, fmt.Errorf("expected '.' after backtick-quoted name in %q", p)
			}
			i++
			continue
		}
		end := strings.IndexByte(p[i:], '.')
		if end < 0 {
			out = append(out, p[i:])
			break
		}
		out = append(out, p[i:i+end])
		i += end + 1
	}
	return out, nil
}

func (t *extractField) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := t.side.get(&r)
	if sc == nil {
		if val == nil {
			return r, true, nil
		}
		m, err := requireMap(val, "field extraction")
		if err != nil {
			return r, false, err
		}
		var cur any = m
		for _, p := range t.path {
			mm, _ := cur.(map[string]any)
			if mm == nil {
				if ma, ok := cur.(map[any]any); ok {
					cur = ma[p]
					continue
				}
				cur = nil
				break
			}
			cur = mm[p]
		}
		t.side.set(&r, nil, cur)
		return r, true, nil
	}
	ex, err := t.schemas.getOrBuild(sc, func() (*extracted, error) {
		cur := sc
		idx := make([]int, 0, len(t.path))
		for _, p := range t.path {
			if cur.Type != schema.TypeStruct {
				return nil, fmt.Errorf("field %s: Unknown field: %s", t.orig, t.orig)
			}
			f, ok := cur.Field(p)
			if !ok {
				return nil, fmt.Errorf("field %s: Unknown field: %s", t.orig, t.orig)
			}
			idx = append(idx, f.Index)
			cur = f.Schema
		}
		return &extracted{schema: cur, idx: idx}, nil
	})
	if err != nil {
		return r, false, err
	}
	if val == nil {
		t.side.set(&r, ex.schema, nil)
		return r, true, nil
	}
	st, err := requireStruct(val, "field extraction")
	if err != nil {
		return r, false, err
	}
	var cur any = st
	for _, i := range ex.idx {
		s, _ := cur.(*schema.Struct)
		if s == nil {
			cur = nil
			break
		}
		cur = fieldValue(s, i, t.replaceNull)
	}
	t.side.set(&r, ex.schema, cur)
	return r, true, nil
}

// ---- HoistField ----

func hoistFieldDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "field", Type: config.String, Default: config.NoDefault, Importance: config.Medium,
			Doc: "Field name for the single field that will be created in the resulting Struct or Map."})
}

type hoistField struct {
	side    side
	field   string
	schemas cache[*schema.Schema, *schema.Schema]
}

func newHoistField(v *config.Values, s side) (transformer, error) {
	return &hoistField{side: s, field: v.String("field")}, nil
}

func (t *hoistField) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := t.side.get(&r)
	if sc == nil {
		t.side.set(&r, nil, map[string]any{t.field: val})
		return r, true, nil
	}
	ns, _ := t.schemas.getOrBuild(sc, func() (*schema.Schema, error) {
		return deriveStruct(nil, false, []schema.Field{{Name: t.field, Schema: sc}})
	})
	if val == nil && !sc.Optional && sc.Default == nil {
		return r, false, fmt.Errorf("field %s: Invalid value: null used for required field: %q, schema type: %s", t.field, t.field, sc.Type)
	}
	t.side.set(&r, ns, &schema.Struct{Schema: ns, Values: []any{val}})
	return r, true, nil
}

// ---- SetSchemaMetadata ----

func setSchemaMetadataDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "schema.name", Type: config.String, Default: nil, Importance: config.High, Doc: "Schema name to set."}).
		Define(config.Key{Name: "schema.version", Type: config.Int, Default: nil, Importance: config.High, Doc: "Schema version to set."}).
		Define(replaceNullKey())
}

type setSchemaMetadata struct {
	side        side
	name        *string
	version     *int
	replaceNull bool
	schemas     cache[*schema.Schema, *schema.Schema]
}

func newSetSchemaMetadata(v *config.Values, s side) (transformer, error) {
	t := &setSchemaMetadata{side: s, replaceNull: v.Bool(keyReplaceNullWithDefault)}
	if n, ok := v.Get("schema.name").(string); ok {
		t.name = &n
	}
	if n, ok := v.Get("schema.version").(int); ok {
		t.version = &n
	}
	if t.name == nil && t.version == nil {
		return nil, keyError("schema.name", "Neither schema name nor version configured")
	}
	return t, nil
}

func (t *setSchemaMetadata) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := t.side.get(&r)
	if sc == nil && val == nil {
		return r, true, nil // a tombstone passes, as in Kafka 4.4.0
	}
	if sc == nil {
		return r, false, errors.New("Schema required for [updating schema metadata]")
	}
	ns, _ := t.schemas.getOrBuild(sc, func() (*schema.Schema, error) {
		c := *sc
		if t.name != nil {
			c.Name = *t.name
		}
		if t.version != nil {
			c.Version = *t.version
		}
		return &c, nil
	})
	if st, ok := val.(*schema.Struct); ok && st != nil {
		out, vals := newStruct(ns)
		for i := range vals {
			vals[i] = fieldValue(st, i, t.replaceNull)
		}
		val = out
	}
	t.side.set(&r, ns, val)
	return r, true, nil
}
