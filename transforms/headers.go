package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const (
	headerFromDoc   = "Moves or copies fields in the key/value of a record into that record's headers."
	insertHeaderDoc = "Add a header to each record."
	dropHeadersDoc  = "Removes one or more headers from each record."
)

func headerFromDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "fields", Type: config.List, Default: config.NoDefault, Importance: config.High, Validator: nonEmptyList,
			Doc: "Field names in the record whose values are to be copied or moved to headers."}).
		Define(config.Key{Name: "headers", Type: config.List, Default: config.NoDefault, Importance: config.High, Validator: nonEmptyList,
			Doc: "Header names, in the same order as the field names listed in the fields configuration property."}).
		Define(config.Key{Name: "operation", Type: config.String, Default: config.NoDefault, Importance: config.High,
			Validator: config.OneOf("move", "copy"),
			Doc:       "Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value)."}).
		Define(replaceNullKey()).
		Define(fieldSyntaxKey())
}

type headerFrom struct {
	side        side
	fields      []string
	headers     []string
	move        bool
	replaceNull bool
	schemas     cache[*schema.Schema, *replaced]
}

func newHeaderFrom(v *config.Values, s side) (transformer, error) {
	t := &headerFrom{side: s, fields: v.List("fields"), headers: v.List("headers"),
		move: strings.EqualFold(v.String("operation"), "move"), replaceNull: v.Bool(keyReplaceNullWithDefault)}
	if err := v1Only(v, t.fields...); err != nil {
		return nil, err
	}
	if len(t.fields) != len(t.headers) {
		return nil, keyError("fields", "'fields' config must have the same number of elements as 'headers' config.")
	}
	return t, nil
}

func (t *headerFrom) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := t.side.get(&r)
	if val == nil {
		return r, true, nil
	}
	hs := make([]schema.Header, 0, len(r.Headers)+len(t.fields))
	hs = append(hs, r.Headers...)
	if sc == nil {
		in, err := requireMap(val, "header "+t.op())
		if err != nil {
			return r, false, err
		}
		for i, f := range t.fields {
			hs = append(hs, schema.Header{Key: t.headers[i], Value: headerBytes(in[f])})
		}
		if t.move {
			out := make(map[string]any, len(in))
			for k, e := range in {
				out[k] = e
			}
			for _, f := range t.fields {
				delete(out, f)
			}
			t.side.set(&r, nil, out)
		}
		r.Headers = hs
		return r, true, nil
	}
	st, err := requireStruct(val, "header "+t.op())
	if err != nil {
		return r, false, err
	}
	for i, f := range t.fields {
		fld, ok := st.Schema.Field(f)
		if !ok {
			return r, false, fmt.Errorf("field %s: %s is not a valid field name", f, f)
		}
		hs = append(hs, schema.Header{Key: t.headers[i], Value: headerBytes(fieldValue(st, fld.Index, t.replaceNull))})
	}
	r.Headers = hs
	if !t.move {
		return r, true, nil
	}
	rp, err := t.schemas.getOrBuild(st.Schema, func() (*replaced, error) {
		return keepFields(st.Schema, func(name string) (string, bool) { return name, !contains(t.fields, name) })
	})
	if err != nil {
		return r, false, err
	}
	out := rp.project(st, t.replaceNull)
	t.side.set(&r, rp.schema, out)
	return r, true, nil
}

func (t *headerFrom) op() string {
	if t.move {
		return "move"
	}
	return "copy"
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// InsertHeader's Kafka keys are header and value.literal; header.name and
// header.value are accepted as aliases.
func insertHeaderDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "header", Type: config.String, Default: config.NoDefault, Importance: config.High,
			Validator: config.NonEmpty, Aliases: []string{"header.name"}, Doc: "The name of the header."}).
		Define(config.Key{Name: "value.literal", Type: config.String, Default: config.NoDefault, Importance: config.High,
			Aliases: []string{"header.value"},
			Doc:     "The literal value that is to be set as the header value on all records."})
}

type insertHeader struct {
	header schema.Header
}

func newInsertHeader(v *config.Values) (transformer, error) {
	// Connect trims string config values, the literal included.
	return &insertHeader{header: schema.Header{Key: v.String("header"), Value: []byte(v.String("value.literal"))}}, nil
}

func (t *insertHeader) apply(r schema.Record) (schema.Record, bool, error) {
	r.Headers = appendHeaders(r.Headers, t.header)
	return r, true, nil
}

func dropHeadersDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "headers", Type: config.List, Default: config.NoDefault, Importance: config.High, Validator: nonEmptyList,
			Doc: "The name of the headers to be removed."})
}

type dropHeaders struct {
	names map[string]bool
}

func newDropHeaders(v *config.Values) (transformer, error) {
	t := &dropHeaders{names: map[string]bool{}}
	for _, h := range v.List("headers") {
		t.names[h] = true
	}
	return t, nil
}

func (t *dropHeaders) apply(r schema.Record) (schema.Record, bool, error) {
	n := 0
	for _, h := range r.Headers {
		if t.names[h.Key] {
			n++
		}
	}
	if n == 0 {
		return r, true, nil
	}
	hs := make([]schema.Header, 0, len(r.Headers)-n)
	for _, h := range r.Headers {
		if !t.names[h.Key] {
			hs = append(hs, h)
		}
	}
	r.Headers = hs
	return r, true, nil
}
