package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const replaceFieldDoc = "Filter or rename fields. exclude wins over include; renames are old:new pairs."

func replaceFieldDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "exclude", Type: config.List, Default: []string{}, Importance: config.Medium, Aliases: []string{"blacklist"},
			Doc: "Fields to exclude. This takes precedence over the fields to include."}).
		Define(config.Key{Name: "include", Type: config.List, Default: []string{}, Importance: config.Medium, Aliases: []string{"whitelist"},
			Doc: "Fields to include. If specified, only these fields will be used."}).
		Define(config.Key{Name: "renames", Type: config.List, Default: []string{}, Importance: config.Medium,
			Validator: func(v any) error { _, err := parseRenames(v.([]string)); return err },
			Doc:       "Field rename mappings."}).
		Define(replaceNullKey())
}

func parseRenames(l []string) (map[string]string, error) {
	m := make(map[string]string, len(l))
	for _, s := range l {
		parts := strings.Split(s, ":")
		if len(parts) != 2 {
			return nil, fmt.Errorf("Invalid rename mapping: %s", s)
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

type replaceField struct {
	side        side
	exclude     map[string]bool
	include     map[string]bool
	renames     map[string]string
	replaceNull bool
	schemas     cache[*schema.Schema, *replaced]
}

// replaced is a derived schema plus, per output field, the input position.
type replaced struct {
	schema *schema.Schema
	src    []int
}

// keepFields derives a struct schema from s with, in order, the fields keep
// accepts, under the name it returns; like Connect's copySchemaBasics the
// result is not optional.
func keepFields(s *schema.Schema, keep func(name string) (string, bool)) (*replaced, error) {
	var fields []schema.Field
	var src []int
	for i, f := range s.Fields {
		if name, ok := keep(f.Name); ok {
			fields = append(fields, schema.Field{Name: name, Schema: f.Schema})
			src = append(src, i)
		}
	}
	ns, err := deriveStruct(s, false, fields)
	if err != nil {
		return nil, err
	}
	return &replaced{schema: ns, src: src}, nil
}

// project builds the derived struct from st: output field i takes st's
// field src[i], read as fieldValue reads it.
func (rp *replaced) project(st *schema.Struct, replaceNull bool) *schema.Struct {
	out, vals := newStruct(rp.schema)
	for i, j := range rp.src {
		vals[i] = fieldValue(st, j, replaceNull)
	}
	return out
}

func newReplaceField(v *config.Values, s side) (transformer, error) {
	t := &replaceField{side: s, exclude: map[string]bool{}, include: map[string]bool{}, replaceNull: v.Bool(keyReplaceNullWithDefault)}
	for _, f := range v.List("exclude") {
		t.exclude[f] = true
	}
	for _, f := range v.List("include") {
		t.include[f] = true
	}
	t.renames, _ = parseRenames(v.List("renames"))
	return t, nil
}

func (t *replaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *replaceField) renamed(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

func (t *replaceField) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := t.side.get(&r)
	if val == nil {
		return r, true, nil
	}
	if sc == nil {
		in, err := requireMap(val, "field replacement")
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(in))
		for k, e := range in {
			if t.keep(k) {
				out[t.renamed(k)] = e
			}
		}
		t.side.set(&r, nil, out)
		return r, true, nil
	}
	st, err := requireStruct(val, "field replacement")
	if err != nil {
		return r, false, err
	}
	rp, err := t.schemas.getOrBuild(st.Schema, func() (*replaced, error) {
		return keepFields(st.Schema, func(name string) (string, bool) { return t.renamed(name), t.keep(name) })
	})
	if err != nil {
		return r, false, err
	}
	out := rp.project(st, t.replaceNull)
	t.side.set(&r, rp.schema, out)
	return r, true, nil
}
