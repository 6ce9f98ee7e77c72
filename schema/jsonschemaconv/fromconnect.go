package jsonschemaconv

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// Annotations Confluent's JsonSchemaData writes into JSON Schemas.
const (
	propConnectType       = "connect.type"
	propConnectVersion    = "connect.version"
	propConnectParameters = "connect.parameters"
	propConnectIndex      = "connect.index"

	// namespace prefixes the parameters JsonSchemaData keeps to itself
	// (they are not written to connect.parameters).
	namespace = "io.confluent.connect.json"
	// OneOfName names the Connect struct a JSON oneOf/anyOf becomes; its
	// fields are OneOfName + ".field." + index.
	OneOfName = namespace + ".OneOf"
	// EnumParam is the Connect string parameter marking a JSON enum; its
	// symbols are parameters EnumParam + "." + symbol.
	EnumParam = namespace + ".Enum"
	// nullMarker stands for a null enum symbol.
	nullMarker = "<NULL>"
)

// Decimal formats (decimal.format).
const (
	DecimalBase64  = "BASE64"
	DecimalNumeric = "NUMERIC"
)

// dataConfig is what the Connect <-> JSON Schema mapping depends on
// (Confluent's JsonSchemaDataConfig).
type dataConfig struct {
	decimalNumeric       bool // decimal.format=NUMERIC
	additionalProperties bool // object.additional.properties
	optionalNonRequired  bool // use.optional.for.nonrequired
}

func defaultDataConfig() dataConfig { return dataConfig{additionalProperties: true} }

// jsonSchemaOf is JsonSchemaData.fromConnectSchema: the JSON Schema of a
// Connect schema, as an ordered document.
func (dc dataConfig) jsonSchemaOf(s *schema.Schema) (*object, error) {
	return dc.rawSchema(s, -1, false)
}

func nullSchema() *object { return newObject().set("type", "null") }

func nonOptional(s *schema.Schema) *schema.Schema { return s.WithOptional(false) }

// rawSchema is rawSchemaFromConnectSchema; index < 0 means none.
func (dc dataConfig) rawSchema(s *schema.Schema, index int, ignoreOptional bool) (*object, error) {
	o := newObject()
	props := newObject() // unprocessed properties, written last
	combined := false
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64:
		o.set("type", "integer")
		props.set(propConnectType, s.Type.String())
	case schema.TypeFloat32, schema.TypeFloat64:
		o.set("type", "number")
		props.set(propConnectType, s.Type.String())
	case schema.TypeBoolean:
		o.set("type", "boolean")
	case schema.TypeString:
		if _, ok := s.Param(EnumParam); ok {
			var symbols []any
			for _, p := range s.Parameters {
				if sym, ok := strings.CutPrefix(p.Key, EnumParam+"."); ok {
					if sym == nullMarker {
						symbols = append(symbols, nil)
					} else {
						symbols = append(symbols, sym)
					}
				}
			}
			o.set("enum", symbols)
		} else {
			o.set("type", "string")
		}
	case schema.TypeBytes:
		if s.Name == schema.DecimalName && dc.decimalNumeric {
			o.set("type", "number")
		} else {
			o.set("type", "string")
		}
		props.set(propConnectType, "bytes")
	case schema.TypeArray:
		if s.ValueSchema == nil {
			return nil, fmt.Errorf("array schema %s has no element schema", s)
		}
		items, err := dc.rawSchema(s.ValueSchema, -1, false)
		if err != nil {
			return nil, err
		}
		o.set("type", "array").set("items", items)
	case schema.TypeMap:
		if s.KeySchema == nil || s.ValueSchema == nil {
			return nil, fmt.Errorf("map schema %s needs key and value schemas", s)
		}
		if s.KeySchema.Type == schema.TypeString && !s.KeySchema.Optional {
			vs, err := dc.rawSchema(s.ValueSchema, -1, false)
			if err != nil {
				return nil, err
			}
			o.set("type", "object").set("additionalProperties", vs)
		} else {
			ks, err := dc.rawSchema(s.KeySchema, 0, false)
			if err != nil {
				return nil, err
			}
			vs, err := dc.rawSchema(s.ValueSchema, 1, false)
			if err != nil {
				return nil, err
			}
			entry := newObject().set("type", "object").set("properties", newObject().set("key", ks).set("value", vs))
			o.set("type", "array").set("items", entry)
		}
		props.set(propConnectType, "map")
	case schema.TypeStruct:
		switch {
		case s.Name == OneOfName:
			combined = true
			var subs []any
			if s.Optional {
				subs = append(subs, nullSchema())
			}
			for _, f := range s.Fields {
				sub, err := dc.rawSchema(nonOptional(f.Schema), f.Index, true)
				if err != nil {
					return nil, err
				}
				subs = append(subs, sub)
			}
			o.set("oneOf", subs)
		case s.Optional:
			combined = true
			inner, err := dc.rawSchema(nonOptional(s), -1, false)
			if err != nil {
				return nil, err
			}
			o.set("oneOf", []any{nullSchema(), inner})
		default:
			o.set("type", "object")
			fields := newObject()
			for _, f := range s.Fields {
				fs, err := dc.rawSchema(f.Schema, f.Index, false)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", f.Name, err)
				}
				fields.set(f.Name, fs)
			}
			o.set("properties", fields)
			if !dc.additionalProperties {
				o.set("additionalProperties", false)
			}
		}
	default:
		return nil, fmt.Errorf("unsupported Connect type %s", s.Type)
	}

	if !combined {
		// everit writes title, description and default before the type's
		// own keywords
		head := newObject()
		if s.Name != "" {
			head.set("title", s.Name)
		}
		if s.Doc != "" {
			head.set("description", s.Doc)
		}
		if s.Default != nil {
			b, err := dc.appendValue(nil, s, s.Default)
			if err != nil {
				return nil, fmt.Errorf("default of %s: %w", s, err)
			}
			head.set("default", rawJSON(b))
		}
		for i, k := range o.keys {
			head.set(k, o.vals[i])
		}
		o = head
		if s.Version != 0 {
			props.set(propConnectVersion, s.Version)
		}
		params := newObject()
		for _, p := range s.Parameters {
			if !strings.HasPrefix(p.Key, namespace) {
				params.set(p.Key, p.Value)
			}
		}
		if len(params.keys) > 0 {
			props.set(propConnectParameters, params)
		}
		if !ignoreOptional && s.Optional {
			for i, k := range props.keys {
				o.set(k, props.vals[i])
			}
			o = newObject().set("oneOf", []any{nullSchema(), o})
			props = newObject()
		}
	}
	if index >= 0 {
		// connect.index goes first among the annotations, as the others
		// are already on the inner schema of a wrapped optional one
		p := newObject().set(propConnectIndex, index)
		for i, k := range props.keys {
			p.set(k, props.vals[i])
		}
		props = p
	}
	for i, k := range props.keys {
		o.set(k, props.vals[i])
	}
	return o, nil
}

// appendValue is JsonSchemaData.fromConnectData: v as JSON under s. A nil v
// of a required schema without default is written as null only at the top
// level; struct fields leave it out (see appendStruct).
func (dc dataConfig) appendValue(b []byte, s *schema.Schema, v any) ([]byte, error) {
	if v == nil {
		if s.Default != nil {
			return dc.appendValue(b, s, s.Default)
		}
		return append(b, "null"...), nil
	}
	switch s.Name {
	case schema.DecimalName:
		if s.Type == schema.TypeBytes {
			d, ok := v.(decimal.Decimal)
			if !ok {
				return nil, fmt.Errorf("invalid type for Decimal: %T", v)
			}
			scale, err := schema.DecimalScale(s)
			if err != nil {
				return nil, err
			}
			if dc.decimalNumeric {
				return append(b, d.StringFixed(scale)...), nil
			}
			return appendBase64(b, schema.DecimalToUnscaled(d, scale)), nil
		}
	case schema.DateName, schema.TimeName, schema.TimestampName:
		if t, ok := v.(time.Time); ok {
			switch s.Name {
			case schema.DateName:
				return strconv.AppendInt(b, int64(schema.DateToDays(t)), 10), nil
			case schema.TimeName:
				return strconv.AppendInt(b, int64(schema.TimeToMillis(t)), 10), nil
			default:
				return strconv.AppendInt(b, t.UnixMilli(), 10), nil
			}
		}
		if schema.LogicalOf(s) != nil {
			return nil, fmt.Errorf("invalid type for %s: %T", s.Name, v)
		}
	}
	bad := func() ([]byte, error) { return nil, fmt.Errorf("invalid type for %s: %T", s.Type, v) }
	switch s.Type {
	case schema.TypeInt8:
		x, ok := v.(int8)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case schema.TypeInt16:
		x, ok := v.(int16)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case schema.TypeInt32:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case schema.TypeInt64:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, x, 10), nil
	case schema.TypeFloat32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		return jsonconv.AppendJavaDouble(b, float64(x), 32), nil
	case schema.TypeFloat64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		return jsonconv.AppendJavaDouble(b, x, 64), nil
	case schema.TypeBoolean:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		return strconv.AppendBool(b, x), nil
	case schema.TypeString:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return jsonconv.AppendString(b, x), nil
	case schema.TypeBytes:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		return appendBase64(b, x), nil
	case schema.TypeArray:
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		b = append(b, '[')
		for i, e := range a {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = dc.appendValue(b, s.ValueSchema, e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return append(b, ']'), nil
	case schema.TypeMap:
		m, ok := v.(map[any]any)
		if !ok {
			return bad()
		}
		return dc.appendMap(b, s, m)
	case schema.TypeStruct:
		st, ok := v.(*schema.Struct)
		if !ok {
			return bad()
		}
		if s.Name == OneOfName {
			for i, f := range s.Fields {
				if i < len(st.Values) && st.Values[i] != nil {
					return dc.appendValue(b, f.Schema, st.Values[i])
				}
			}
			return dc.appendValue(b, s, nil)
		}
		return dc.appendStruct(b, s, st)
	}
	return nil, fmt.Errorf("unsupported Connect type %s", s.Type)
}

func (dc dataConfig) appendStruct(b []byte, s *schema.Schema, st *schema.Struct) ([]byte, error) {
	if len(st.Values) != len(s.Fields) {
		return nil, fmt.Errorf("struct %s has %d values for %d fields", s, len(st.Values), len(s.Fields))
	}
	b = append(b, '{')
	first := true
	for i, f := range s.Fields {
		v := st.Values[i]
		if v == nil && f.Schema.Default == nil && !f.Schema.Optional {
			continue // JsonSchemaData leaves a missing required value out
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonconv.AppendString(b, f.Name)
		b = append(b, ':')
		var err error
		if b, err = dc.appendValue(b, f.Schema, v); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	return append(b, '}'), nil
}

func (dc dataConfig) appendMap(b []byte, s *schema.Schema, m map[any]any) ([]byte, error) {
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Go maps have no order; sort for stable bytes.
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	objectMode := s.KeySchema.Type == schema.TypeString && !s.KeySchema.Optional
	if objectMode {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if objectMode {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("map key %v: %T is not a string", k, k)
			}
			b = jsonconv.AppendString(b, ks)
			b = append(b, ':')
		} else {
			b = append(b, `{"key":`...)
			if b, err = dc.appendValue(b, s.KeySchema, k); err != nil {
				return nil, fmt.Errorf("map key: %w", err)
			}
			b = append(b, `,"value":`...)
		}
		if b, err = dc.appendValue(b, s.ValueSchema, m[k]); err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		if !objectMode {
			b = append(b, '}')
		}
	}
	if objectMode {
		return append(b, '}'), nil
	}
	return append(b, ']'), nil
}

func appendBase64(b, data []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, data)
	return append(b, '"')
}
