package jdbcsink

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// inferrer builds Connect schemas for schemaless JSON values
// (schemaless.infer=true). Inferred schemas are cached by signature so a
// topic of uniform objects shares one schema and one statement shape.
//
// Mapping: JSON integers → optional int64, fractions → optional float64,
// strings → optional string, booleans → optional boolean, nested objects and
// arrays → optional string named io.debezium.data.Json (a JSON column),
// null → a field of unknown type that is written only when the column
// already exists. Fields are ordered by name (JSON objects arrive as maps).
type inferrer struct {
	cache map[string]*schema.Schema
}

var inferredNullSchema = &schema.Schema{Type: schema.TypeString, Optional: true, Name: inferredNullName}

var inferredJSONSchema = &schema.Schema{Type: schema.TypeString, Optional: true, Name: schema.DebeziumJSON, Version: 1}

func inferPrimitive(v any) (*schema.Schema, any, error) {
	switch x := v.(type) {
	case nil:
		return inferredNullSchema, nil, nil
	case bool:
		return schema.OptionalBoolean, x, nil
	case string:
		return schema.OptionalString, x, nil
	case []byte:
		return schema.OptionalBytes, x, nil
	case float64:
		return schema.OptionalFloat64, x, nil
	case float32:
		return schema.OptionalFloat64, float64(x), nil
	case map[string]any, map[any]any, []any:
		b, err := appendSchemalessJSON(nil, x)
		if err != nil {
			return nil, nil, err
		}
		return inferredJSONSchema, string(b), nil
	}
	if n, ok := toInt64(v); ok {
		return schema.OptionalInt64, n, nil
	}
	return nil, nil, fmt.Errorf("cannot infer a schema for %T", v)
}

// value infers a struct schema for a JSON object.
func (in *inferrer) value(v any) (*schema.Schema, any, error) {
	m, err := asStringMap(v)
	if err != nil {
		return nil, nil, err
	}
	return in.object(m)
}

// key infers a key schema: a struct for objects, a primitive otherwise.
func (in *inferrer) key(v any) (*schema.Schema, any, error) {
	switch v.(type) {
	case map[string]any, map[any]any:
		m, err := asStringMap(v)
		if err != nil {
			return nil, nil, err
		}
		return in.object(m)
	}
	s, x, err := inferPrimitive(v)
	if err != nil {
		return nil, nil, err
	}
	if s == inferredNullSchema || s == inferredJSONSchema {
		return nil, nil, fmt.Errorf("cannot use a %T as a key", v)
	}
	return s.WithOptional(false), x, nil
}

func asStringMap(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("object key %v is a %T, not a string", k, k)
			}
			m[ks] = e
		}
		return m, nil
	}
	return nil, fmt.Errorf("schemaless value is a %T, not a JSON object", v)
}

func (in *inferrer) object(m map[string]any) (*schema.Schema, any, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	schemas := make([]*schema.Schema, len(names))
	values := make([]any, len(names))
	var sig strings.Builder
	for i, n := range names {
		s, x, err := inferPrimitive(m[n])
		if err != nil {
			return nil, nil, fmt.Errorf("field %q: %w", n, err)
		}
		schemas[i], values[i] = s, x
		sig.WriteString(n)
		sig.WriteByte(0)
		sig.WriteString(s.Type.String())
		sig.WriteString(s.Name)
		sig.WriteByte(0)
	}
	key := sig.String()
	s := in.cache[key]
	if s == nil {
		fields := make([]schema.Field, len(names))
		for i, n := range names {
			fields[i] = schema.Field{Name: n, Schema: schemas[i]}
		}
		s = schema.NewStructSchema("", fields...)
		if len(in.cache) > 1024 {
			clear(in.cache)
		}
		in.cache[key] = s
	}
	return s, &schema.Struct{Schema: s, Values: values}, nil
}
