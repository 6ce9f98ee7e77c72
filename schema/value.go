package schema

import (
	"errors"
	"fmt"
)

// Struct is a struct value: positional values for the fields of its schema.
type Struct struct {
	Schema *Schema
	Values []any
}

// NewStruct returns an empty struct value of schema s (all fields nil).
func NewStruct(s *Schema) *Struct {
	return &Struct{Schema: s, Values: make([]any, len(s.Fields))}
}

// Get returns the value of field name, or nil if absent.
func (st *Struct) Get(name string) any {
	f, ok := st.Schema.Field(name)
	if !ok {
		return nil
	}
	return st.Values[f.Index]
}

// Set sets field name. It fails when the schema has no such field.
func (st *Struct) Set(name string, v any) error {
	f, ok := st.Schema.Field(name)
	if !ok {
		return fmt.Errorf("%w: %q in %s", ErrNoField, name, st.Schema)
	}
	st.Values[f.Index] = v
	return nil
}

// ErrNoField is returned when a struct has no field of the requested name.
var ErrNoField = errors.New("no such field")

// Validate checks that v is a valid value of s, recursively, and returns an
// error naming the offending field path.
func Validate(s *Schema, v any) error { return validate(s, v, "") }

func validate(s *Schema, v any, path string) error {
	if s == nil {
		return nil
	}
	if v == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return fmt.Errorf("%s: null value for required %s", fieldPath(path), s)
	}
	if li := LogicalOf(s); li != nil {
		if !li.Accepts(v) {
			return fmt.Errorf("%s: %T is not a valid %s value", fieldPath(path), v, s.Name)
		}
		return nil
	}
	ok := false
	switch s.Type {
	case TypeInt8:
		_, ok = v.(int8)
	case TypeInt16:
		_, ok = v.(int16)
	case TypeInt32:
		_, ok = v.(int32)
	case TypeInt64:
		_, ok = v.(int64)
	case TypeFloat32:
		_, ok = v.(float32)
	case TypeFloat64:
		_, ok = v.(float64)
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeString:
		_, ok = v.(string)
	case TypeBytes:
		_, ok = v.([]byte)
	case TypeArray:
		a, isArr := v.([]any)
		if !isArr {
			break
		}
		for i, e := range a {
			if err := validate(s.ValueSchema, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case TypeMap:
		m, isMap := v.(map[any]any)
		if !isMap {
			break
		}
		for k, e := range m {
			if err := validate(s.KeySchema, k, path+"{key}"); err != nil {
				return err
			}
			if err := validate(s.ValueSchema, e, fmt.Sprintf("%s[%v]", path, k)); err != nil {
				return err
			}
		}
		return nil
	case TypeStruct:
		st, isStruct := v.(*Struct)
		if !isStruct {
			break
		}
		if len(st.Values) != len(s.Fields) {
			return fmt.Errorf("%s: struct has %d values for %d fields", fieldPath(path), len(st.Values), len(s.Fields))
		}
		for i, f := range s.Fields {
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			if err := validate(f.Schema, st.Values[i], p); err != nil {
				return err
			}
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("%s: %T is not a valid %s value", fieldPath(path), v, s.Type)
	}
	return nil
}

func fieldPath(p string) string {
	if p == "" {
		return "value"
	}
	return "field " + p
}
