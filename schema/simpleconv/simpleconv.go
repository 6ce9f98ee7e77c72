package simpleconv

import (
	"fmt"
	"strconv"

	"github.com/tributary-cdc/tributary/schema"
)

// String is Connect's StringConverter: FromConnect writes the value's string
// form as UTF-8 (a string as is, numbers and booleans as Java prints them,
// bytes unchanged), ToConnect gives an optional STRING.
type String struct{}

// FromConnect implements schema.Converter.
func (String) FromConnect(_ string, _ []schema.Header, _ *schema.Schema, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	case bool:
		return strconv.AppendBool(nil, x), nil
	case int8:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case fmt.Stringer:
		return []byte(x.String()), nil
	}
	return []byte(fmt.Sprint(v)), nil
}

// ToConnect implements schema.Converter.
func (String) ToConnect(_ string, _ []schema.Header, b []byte) (*schema.Schema, any, error) {
	if b == nil {
		return schema.OptionalString, nil, nil
	}
	return schema.OptionalString, string(b), nil
}

// ByteArray is Connect's ByteArrayConverter: values must be BYTES (or have
// no schema) and pass through unchanged; ToConnect gives an optional BYTES.
type ByteArray struct{}

// FromConnect implements schema.Converter.
func (ByteArray) FromConnect(_ string, _ []schema.Header, s *schema.Schema, v any) ([]byte, error) {
	if s != nil && s.Type != schema.TypeBytes {
		return nil, fmt.Errorf("ByteArrayConverter is not compatible with objects of type %s", s.Type)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return x, nil
	}
	return nil, fmt.Errorf("ByteArrayConverter is not compatible with objects of type %T", v)
}

// ToConnect implements schema.Converter.
func (ByteArray) ToConnect(_ string, _ []schema.Header, b []byte) (*schema.Schema, any, error) {
	if b == nil {
		return schema.OptionalBytes, nil, nil
	}
	return schema.OptionalBytes, b, nil
}
