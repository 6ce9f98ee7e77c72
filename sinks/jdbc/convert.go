package jdbcsink

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// convFunc turns a non-nil Connect value into the value bound to the
// driver: int64, uint64, float64, bool, string, []byte or time.Time.
type convFunc func(v any) (any, error)

// convCtx is what value conversion depends on besides the schema.
type convCtx struct {
	d      dialect        // the flavor's own conversions (bind)
	dbTZ   *time.Location // Connect Time/Timestamp, ZonedTimestamp on zone-less columns
	dateTZ *time.Location // Connect Date
}

// Debezium's encodings of PostgreSQL's ±infinity timestamps.
const (
	dbzPosInfinity int64 = 9223372036825200000
	dbzNegInfinity int64 = -9223372036832400000
)

// converter returns the conversion for values of s: the dialect's own
// (convCtx.d.bind), else the common one by semantic name, else by type.
func (cc convCtx) converter(s *schema.Schema) (convFunc, error) {
	if f, ok, err := cc.d.bind(cc, s); ok {
		return f, err
	}
	if f, ok, err := cc.byName(s); ok {
		return f, err
	}
	return cc.byType(s)
}

// byName is the common conversion of a semantic type; ok=false leaves s to
// byType.
func (cc convCtx) byName(s *schema.Schema) (convFunc, bool, error) {
	switch s.Name {
	case schema.DecimalName:
		if s.Type != schema.TypeBytes {
			break
		}
		scale, err := schema.DecimalScale(s)
		if err != nil {
			return nil, true, err
		}
		return func(v any) (any, error) { return decimalString(v, scale) }, true, nil
	case schema.DebeziumVariableScaleDec:
		if s.Type != schema.TypeStruct {
			break
		}
		return func(v any) (any, error) {
			st, ok := v.(*schema.Struct)
			if !ok {
				return nil, fmt.Errorf("%T is not a %s struct", v, s.Name)
			}
			sc, _ := toInt64(st.Get("scale"))
			b, _ := st.Get("value").([]byte)
			return fixed(decimal.NewFromBigInt(schema.FromTwosComplement(b), -int32(sc)), int32(sc)), nil
		}, true, nil
	case schema.DateName:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case time.Time:
				return x.In(cc.dateTZ).Format("2006-01-02"), nil
			}
			if n, ok := toInt64(v); ok {
				return schema.DaysToDate(int32(n)).Format("2006-01-02"), nil
			}
			return nil, badValue(v, s)
		}, true, nil
	case schema.TimeName:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case time.Time:
				t := x.In(cc.dbTZ)
				return fmtClock(int64(t.Hour())*3600e9+int64(t.Minute())*60e9+int64(t.Second())*1e9+int64(t.Nanosecond()), 3), nil
			}
			if n, ok := toInt64(v); ok {
				return fmtClock(n*1e6, 3), nil
			}
			return nil, badValue(v, s)
		}, true, nil
	case schema.TimestampName:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case time.Time:
				return wallClock(x.In(cc.dbTZ)), nil
			}
			if n, ok := toInt64(v); ok {
				return wallClock(time.UnixMilli(n).In(cc.dbTZ)), nil
			}
			return nil, badValue(v, s)
		}, true, nil
	case schema.DebeziumDate:
		return intConv(s, func(n int64) any { return schema.DaysToDate(int32(n)).Format("2006-01-02") }), true, nil
	case schema.DebeziumTime:
		return intConv(s, func(n int64) any { return fmtClock(n*1e6, 3) }), true, nil
	case schema.DebeziumMicroTime:
		return intConv(s, func(n int64) any { return fmtClock(n*1e3, 6) }), true, nil
	case schema.DebeziumNanoTime:
		return intConv(s, func(n int64) any { return fmtClock(n, 9) }), true, nil
	case schema.DebeziumTimestamp, schema.DebeziumMicroTimestamp, schema.DebeziumNanoTimestamp:
		unit := map[string]int64{schema.DebeziumTimestamp: 1e6, schema.DebeziumMicroTimestamp: 1e3, schema.DebeziumNanoTimestamp: 1}[s.Name]
		return intConv(s, func(n int64) any {
			if unit == 1 {
				return time.Unix(0, n).UTC()
			}
			sec, rem := n/(1e9/unit), n%(1e9/unit)
			if rem < 0 {
				sec--
				rem += 1e9 / unit
			}
			return time.Unix(sec, rem*unit).UTC()
		}), true, nil
	case schema.DebeziumZonedTimestamp:
		return strConv(s, func(str string) (any, error) {
			t, err := time.Parse(time.RFC3339Nano, str)
			if err != nil {
				return nil, fmt.Errorf("bad %s value %q: %w", s.Name, str, err)
			}
			return wallClock(t.In(cc.dbTZ)), nil
		}), true, nil
	case schema.DebeziumZonedTime:
		return strConv(s, func(str string) (any, error) {
			t, err := time.Parse("15:04:05.999999999Z07:00", str)
			if err != nil {
				return nil, fmt.Errorf("bad %s value %q: %w", s.Name, str, err)
			}
			t = t.UTC()
			return fmtClock(int64(t.Hour())*3600e9+int64(t.Minute())*60e9+int64(t.Second())*1e9+int64(t.Nanosecond()), 6), nil
		}), true, nil
	}
	return nil, false, nil
}

// byType is the common conversion by Connect type.
func (cc convCtx) byType(s *schema.Schema) (convFunc, error) {
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64:
		return intConv(s, func(n int64) any { return n }), nil
	case schema.TypeFloat32:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case float32:
				// The shortest decimal form, so 0.1f is written as 0.1.
				f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
				return f, nil
			case float64:
				return x, nil
			}
			if n, ok := toInt64(v); ok {
				return float64(n), nil
			}
			return nil, badValue(v, s)
		}, nil
	case schema.TypeFloat64:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case float64:
				return x, nil
			case float32:
				return float64(x), nil
			}
			if n, ok := toInt64(v); ok {
				return float64(n), nil
			}
			return nil, badValue(v, s)
		}, nil
	case schema.TypeBoolean:
		return func(v any) (any, error) {
			if b, ok := v.(bool); ok {
				return b, nil
			}
			return nil, badValue(v, s)
		}, nil
	case schema.TypeString:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case string:
				return x, nil
			case []byte:
				return string(x), nil
			}
			return nil, badValue(v, s)
		}, nil
	case schema.TypeBytes:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case []byte:
				return x, nil
			case string:
				return []byte(x), nil
			}
			return nil, badValue(v, s)
		}, nil
	case schema.TypeArray, schema.TypeMap, schema.TypeStruct:
		return func(v any) (any, error) {
			b, err := appendJSON(nil, s, v)
			if err != nil {
				return nil, err
			}
			return string(b), nil
		}, nil
	}
	return nil, unsupportedType(s)
}

func intConv(s *schema.Schema, f func(int64) any) convFunc {
	return func(v any) (any, error) {
		n, ok := toInt64(v)
		if !ok {
			return nil, badValue(v, s)
		}
		return f(n), nil
	}
}

// strConv converts string values with f.
func strConv(s *schema.Schema, f func(string) (any, error)) convFunc {
	return func(v any) (any, error) {
		str, ok := v.(string)
		if !ok {
			return nil, badValue(v, s)
		}
		return f(str)
	}
}

func badValue(v any, s *schema.Schema) error {
	return fmt.Errorf("%T is not a valid value of %s", v, s)
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	}
	return 0, false
}

func decimalString(v any, scale int32) (any, error) {
	switch x := v.(type) {
	case decimal.Decimal:
		return fixed(x, scale), nil
	case *decimal.Decimal:
		return fixed(*x, scale), nil
	case []byte:
		return fixed(schema.DecimalFromUnscaled(x, scale), scale), nil
	case string:
		d, err := decimal.NewFromString(x)
		if err != nil {
			return nil, fmt.Errorf("bad decimal %q: %w", x, err)
		}
		return d.String(), nil
	case float64:
		return decimal.NewFromFloat(x).String(), nil
	case *big.Rat:
		return x.FloatString(int(max(scale, 0))), nil
	}
	if n, ok := toInt64(v); ok {
		return strconv.FormatInt(n, 10), nil
	}
	return nil, fmt.Errorf("%T is not a decimal value", v)
}

// fixed renders d with the schema's scale (keeping trailing zeros, which an
// unconstrained PostgreSQL NUMERIC stores), or as is when d has more digits.
func fixed(d decimal.Decimal, scale int32) string {
	if scale < 0 || -d.Exponent() > scale {
		return d.String()
	}
	return d.StringFixed(scale)
}

// wallClock keeps t's wall-clock reading and drops its zone: both drivers
// write time.Time values in UTC, so this writes the reading in t's zone.
func wallClock(t time.Time) time.Time {
	if t.Location() == time.UTC {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// fmtClock formats ns since midnight as [-]HH:MM:SS.fff…, hours unbounded
// (MySQL TIME spans ±838 hours).
func fmtClock(ns int64, digits int) string {
	b := make([]byte, 0, 20)
	if ns < 0 {
		b = append(b, '-')
		ns = -ns
	}
	h, m, sec, frac := ns/3600e9, ns/60e9%60, ns/1e9%60, ns%1e9
	if h < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, h, 10)
	b = append(b, ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+sec/10), byte('0'+sec%10), '.')
	fs := strconv.FormatInt(frac+1e9, 10)[1:] // 9 digits
	if digits < 9 && digits > 0 {
		fs = fs[:digits]
	}
	return string(append(b, fs...))
}

// bitString renders Debezium's little-endian Bits bytes as a PostgreSQL bit
// string of n bits (most significant first).
func bitString(b []byte, n int) string {
	if n <= 0 {
		n = len(b) * 8
	}
	out := make([]byte, n)
	for j := 0; j < n; j++ {
		i := n - 1 - j
		bit := byte('0')
		if i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 {
			bit = '1'
		}
		out[j] = bit
	}
	return string(out)
}

// pgArrayLiteral renders an array as PostgreSQL's text form {a,b,NULL}.
func pgArrayLiteral(a []any, elem convFunc, zoned bool) (any, error) {
	b := []byte{'{'}
	for i, e := range a {
		if i > 0 {
			b = append(b, ',')
		}
		if e == nil {
			b = append(b, "NULL"...)
			continue
		}
		cv, err := elem(e)
		if err != nil {
			return nil, fmt.Errorf("array element %d: %w", i, err)
		}
		var s string
		switch x := cv.(type) {
		case string:
			s = x
		case int64:
			s = strconv.FormatInt(x, 10)
		case uint64:
			s = strconv.FormatUint(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'g', -1, 64)
			if math.IsInf(x, 1) {
				s = "Infinity"
			} else if math.IsInf(x, -1) {
				s = "-Infinity"
			}
		case bool:
			s = "f"
			if x {
				s = "t"
			}
		case []byte:
			s = `\x` + hex.EncodeToString(x)
		case time.Time:
			if zoned {
				s = x.Format("2006-01-02 15:04:05.999999Z07:00")
			} else {
				s = x.Format("2006-01-02 15:04:05.999999")
			}
		default:
			s = fmt.Sprint(cv)
		}
		b = append(b, '"')
		for k := 0; k < len(s); k++ {
			if s[k] == '"' || s[k] == '\\' {
				b = append(b, '\\')
			}
			b = append(b, s[k])
		}
		b = append(b, '"')
	}
	return string(append(b, '}')), nil
}

// appendJSON writes a Connect value as JSON (for JSON/JSONB columns holding
// structs, maps and arrays): struct fields in schema order, bytes as
// Base64, decimals as numbers, dates and times as ISO strings.
func appendJSON(b []byte, s *schema.Schema, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	if s == nil {
		return appendSchemalessJSON(b, v)
	}
	switch s.Name {
	case schema.DecimalName:
		scale, _ := schema.DecimalScale(s)
		d, err := decimalString(v, scale)
		if err != nil {
			return nil, err
		}
		return append(b, d.(string)...), nil
	case schema.DateName:
		if t, ok := v.(time.Time); ok {
			return appendJSONString(b, t.Format("2006-01-02")), nil
		}
	case schema.TimeName:
		if t, ok := v.(time.Time); ok {
			return appendJSONString(b, t.Format("15:04:05.000")), nil
		}
	case schema.TimestampName:
		if t, ok := v.(time.Time); ok {
			return appendJSONString(b, t.UTC().Format(time.RFC3339Nano)), nil
		}
	}
	switch s.Type {
	case schema.TypeStruct:
		st, ok := v.(*schema.Struct)
		if !ok {
			return nil, badValue(v, s)
		}
		b = append(b, '{')
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			var err error
			var fv any
			if i < len(st.Values) {
				fv = st.Values[i]
			}
			if b, err = appendJSON(b, f.Schema, fv); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case schema.TypeArray:
		a, ok := v.([]any)
		if !ok {
			return nil, badValue(v, s)
		}
		b = append(b, '[')
		for i, e := range a {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, s.ValueSchema, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case schema.TypeMap:
		m, ok := v.(map[any]any)
		if !ok {
			return nil, badValue(v, s)
		}
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		if s.KeySchema != nil && s.KeySchema.Type == schema.TypeString {
			b = append(b, '{')
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, fmt.Sprint(k))
				b = append(b, ':')
				var err error
				if b, err = appendJSON(b, s.ValueSchema, m[k]); err != nil {
					return nil, err
				}
			}
			return append(b, '}'), nil
		}
		b = append(b, '[')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			var err error
			if b, err = appendJSON(b, s.KeySchema, k); err != nil {
				return nil, err
			}
			b = append(b, ',')
			if b, err = appendJSON(b, s.ValueSchema, m[k]); err != nil {
				return nil, err
			}
			b = append(b, ']')
		}
		return append(b, ']'), nil
	}
	return appendSchemalessJSON(b, v)
}

// appendSchemalessJSON writes plain Go values (schemaless data, primitives).
func appendSchemalessJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendJSONString(b, x), nil
	case []byte:
		return appendJSONString(b, base64.StdEncoding.EncodeToString(x)), nil
	case float32:
		return appendJSONFloat(b, float64(x), 32), nil
	case float64:
		return appendJSONFloat(b, x, 64), nil
	case decimal.Decimal:
		return append(b, x.String()...), nil
	case time.Time:
		return appendJSONString(b, x.UTC().Format(time.RFC3339Nano)), nil
	case *schema.Struct:
		return appendJSON(b, x.Schema, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendSchemalessJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendSchemalessJSON(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = e
		}
		return appendSchemalessJSON(b, m)
	}
	if n, ok := toInt64(v); ok {
		return strconv.AppendInt(b, n, 10), nil
	}
	if u, ok := v.(uint64); ok {
		return strconv.AppendUint(b, u, 10), nil
	}
	return nil, fmt.Errorf("cannot write %T as JSON", v)
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
