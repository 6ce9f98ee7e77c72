package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const flattenDoc = "Flatten a nested data structure, generating names for each field by concatenating the field names at each level " +
	"with a configurable delimiter character. Applies to Struct when schema present, or a Map in the case of schemaless data. " +
	"Array fields and their contents are not modified. The default delimiter is '.'."

func flattenDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "delimiter", Type: config.String, Default: ".", Importance: config.Medium,
			Doc: "Delimiter to insert between field names from the input record when generating field names for the output record"})
}

type flatten struct {
	side    side
	delim   string
	schemas cache[*schema.Schema, *schema.Schema]
}

func newFlatten(v *config.Values, s side) (transformer, error) {
	return &flatten{side: s, delim: v.String("delimiter")}, nil
}

func (f *flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + f.delim + field
}

func (f *flatten) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := f.side.get(&r)
	if val == nil {
		return r, true, nil
	}
	if sc == nil {
		m, err := requireMap(val, "flattening")
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(m))
		if err := f.flatMap(m, "", out); err != nil {
			return r, false, err
		}
		f.side.set(&r, nil, out)
		return r, true, nil
	}
	st, err := requireStruct(val, "flattening")
	if err != nil {
		return r, false, err
	}
	ns, err := f.schemas.getOrBuild(st.Schema, func() (*schema.Schema, error) {
		var fields []schema.Field
		def, _ := st.Schema.Default.(*schema.Struct)
		if err := f.flatSchema(st.Schema, "", &fields, st.Schema.Optional, def); err != nil {
			return nil, err
		}
		return deriveStruct(st.Schema, st.Schema.Optional, fields)
	})
	if err != nil {
		return r, false, err
	}
	vals := make([]any, 0, len(ns.Fields))
	vals = f.flatStruct(st, vals)
	f.side.set(&r, ns, &schema.Struct{Schema: ns, Values: vals})
	return r, true, nil
}

func (f *flatten) flatMap(m map[string]any, prefix string, out map[string]any) error {
	for k, v := range m {
		name := f.name(prefix, k)
		if v == nil {
			out[name] = nil
			continue
		}
		t, ok := inferType(v)
		if !ok {
			return fmt.Errorf("Flatten transformation was passed a value of type %T which is not supported by Connect's data API (field %s)", v, name)
		}
		switch t {
		case schema.TypeMap:
			inner, err := requireMap(v, "flattening")
			if err != nil {
				return fmt.Errorf("field %s: %w", name, err)
			}
			if err := f.flatMap(inner, name, out); err != nil {
				return err
			}
		case schema.TypeStruct:
			return fmt.Errorf("Flatten transformation does not support class %s for record without schemas (for field %s).", javaClass(v), name)
		default:
			out[name] = v
		}
	}
	return nil
}

func (f *flatten) flatSchema(s *schema.Schema, prefix string, out *[]schema.Field, optional bool, parentDefault *schema.Struct) error {
	for i, fld := range s.Fields {
		name := f.name(prefix, fld.Name)
		opt := optional || fld.Schema.Optional
		var def any
		if fld.Schema.Default != nil {
			def = fld.Schema.Default
		} else if parentDefault != nil && i < len(parentDefault.Values) {
			def = parentDefault.Values[i]
		}
		switch {
		case fld.Schema.Type.IsPrimitive() || fld.Schema.Type == schema.TypeArray:
			ns := fld.Schema
			if opt != ns.Optional || (ns.Default == nil && def != nil) {
				c := *ns
				c.Optional, c.Default = opt, def
				ns = &c
			}
			*out = append(*out, schema.Field{Name: name, Schema: ns})
		case fld.Schema.Type == schema.TypeStruct:
			d, _ := def.(*schema.Struct)
			if err := f.flatSchema(fld.Schema, name, out, opt, d); err != nil {
				return err
			}
		default:
			return fmt.Errorf("Flatten transformation does not support %s for record with schemas (for field %s).", strings.ToUpper(fld.Schema.Type.String()), name)
		}
	}
	return nil
}

// flatStruct appends st's leaves in schema order; a null nested struct gives
// nulls for all its leaves.
func (f *flatten) flatStruct(st *schema.Struct, out []any) []any {
	for i, fld := range st.Schema.Fields {
		if fld.Schema.Type == schema.TypeStruct {
			inner, _ := fieldValue(st, i, true).(*schema.Struct)
			if inner == nil {
				out = appendNulls(out, fld.Schema)
				continue
			}
			out = f.flatStruct(inner, out)
			continue
		}
		out = append(out, fieldValue(st, i, true))
	}
	return out
}

func appendNulls(out []any, s *schema.Schema) []any {
	for _, fld := range s.Fields {
		if fld.Schema.Type == schema.TypeStruct {
			out = appendNulls(out, fld.Schema)
		} else {
			out = append(out, nil)
		}
	}
	return out
}
