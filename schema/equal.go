package schema

import (
	"bytes"
	"math"
	"reflect"
	"time"

	"github.com/shopspring/decimal"
)

// Equal reports whether a and b describe the same schema, as Connect's
// ConnectSchema.equals: type, optional, name, version, doc, parameters (in
// order), default value, and recursively fields, keys and values. Two nil
// schemas are equal.
func Equal(a, b *Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	if a.Type != b.Type || a.Optional != b.Optional || a.Name != b.Name || a.Version != b.Version || a.Doc != b.Doc {
		return false
	}
	if len(a.Parameters) != len(b.Parameters) || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Parameters {
		if a.Parameters[i] != b.Parameters[i] {
			return false
		}
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || !Equal(a.Fields[i].Schema, b.Fields[i].Schema) {
			return false
		}
	}
	if !Equal(a.KeySchema, b.KeySchema) || !Equal(a.ValueSchema, b.ValueSchema) {
		return false
	}
	return EqualValues(a.Default, b.Default)
}

// EqualValues reports whether two Connect values are equal: structs by schema
// (Equal) and values, arrays and maps element-wise, bytes by content, decimals
// by numeric value, times by instant, floats with NaN equal to NaN. Other values
// are compared with reflect.DeepEqual.
func EqualValues(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := a.(type) {
	case *Struct:
		y, ok := b.(*Struct)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		if x == nil || y == nil || !Equal(x.Schema, y.Schema) || len(x.Values) != len(y.Values) {
			return false
		}
		for i := range x.Values {
			if !EqualValues(x.Values[i], y.Values[i]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !EqualValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		return ok && equalMaps(x, y)
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && equalMaps(x, y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		return ok && decimalsEqual(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	case float32:
		y, ok := b.(float32)
		return ok && (x == y || (x != x && y != y))
	}
	return reflect.DeepEqual(a, b)
}

// decimalsEqual compares by value without rescaling across huge exponent gaps
// (1E+999999999 vs 1 must not build a billion-digit number).
func decimalsEqual(x, y decimal.Decimal) bool {
	if x.Sign() != y.Sign() {
		return false
	}
	if x.Sign() == 0 {
		return true
	}
	if int64(x.NumDigits())+int64(x.Exponent()) != int64(y.NumDigits())+int64(y.Exponent()) {
		return false
	}
	return x.Equal(y)
}

// equalMaps reports whether x and y hold the same keys with EqualValues
// values.
func equalMaps[K comparable](x, y map[K]any) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		w, ok := y[k]
		if !ok || !EqualValues(v, w) {
			return false
		}
	}
	return true
}
