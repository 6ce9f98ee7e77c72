package jsonconv

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// Converter is Kafka Connect's JsonConverter. It implements schema.Converter
// and is safe for concurrent use.
type Converter struct {
	cfg     Config
	numeric bool
	enc     *cache[*schema.Schema, []byte]
	dec     *cache[string, *schema.Schema]
	last    atomic.Pointer[lastSchema]
	bufs    sync.Pool
}

var _ schema.Converter = (*Converter)(nil)

// New returns a converter for cfg. A DecimalFormat other than NUMERIC means
// BASE64; use ConfigFromMap to validate user input.
func New(cfg Config) *Converter {
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	c := &Converter{
		cfg:     cfg,
		numeric: strings.EqualFold(cfg.DecimalFormat, DecimalNumeric),
		enc:     newCache[*schema.Schema, []byte](cfg.CacheSize),
		dec:     newCache[string, *schema.Schema](cfg.CacheSize),
	}
	c.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	return c
}

// Config returns the converter's configuration.
func (c *Converter) Config() Config { return c.cfg }

// FromConnect serializes v (of schema s). A nil schema and nil value give
// nil bytes, a Kafka tombstone.
func (c *Converter) FromConnect(_ string, _ []schema.Header, s *schema.Schema, v any) ([]byte, error) {
	if s == nil && v == nil {
		return nil, nil
	}
	bp := c.bufs.Get().(*[]byte)
	b, err := c.Append((*bp)[:0], s, v)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= 1<<20 {
		*bp = b
		c.bufs.Put(bp)
	}
	return out, err
}

// Append appends the serialized form of v (of schema s) to dst, the envelope
// included when schemas are enabled. Unlike FromConnect it writes "null" for
// a nil schema and value.
func (c *Converter) Append(dst []byte, s *schema.Schema, v any) ([]byte, error) {
	var err error
	if c.cfg.SchemasEnable {
		dst = append(dst, `{"schema":`...)
		if s == nil {
			dst = append(dst, "null"...)
		} else {
			sj, err := c.SchemaJSON(s)
			if err != nil {
				return dst, err
			}
			dst = append(dst, sj...)
		}
		dst = append(dst, `,"payload":`...)
		if dst, err = c.appendValue(dst, s, v); err != nil {
			return dst, public(err)
		}
		return append(dst, '}'), nil
	}
	if dst, err = c.appendValue(dst, s, v); err != nil {
		return dst, public(err)
	}
	return dst, nil
}

// SchemaJSON returns the JSON form of s as the converter writes it in the
// envelope, cached per schema pointer. The returned slice must not be modified.
func (c *Converter) SchemaJSON(s *schema.Schema) ([]byte, error) {
	if sj, ok := c.enc.get(s); ok {
		return sj, nil
	}
	sj, err := c.appendSchema(nil, s, "", false)
	if err != nil {
		return nil, public(inField(err, "schema"))
	}
	return c.enc.put(s, sj), nil
}

func (c *Converter) appendSchema(b []byte, s *schema.Schema, field string, isField bool) ([]byte, error) {
	if s == nil {
		return b, errorf("missing schema")
	}
	b = append(b, `{"type":`...)
	switch s.Type {
	case schema.TypeFloat32:
		b = append(b, `"float"`...)
	case schema.TypeFloat64:
		b = append(b, `"double"`...)
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64,
		schema.TypeBoolean, schema.TypeString, schema.TypeBytes:
		b = append(b, '"')
		b = append(b, s.Type.String()...)
		b = append(b, '"')
	case schema.TypeArray:
		b = append(b, `"array","items":`...)
		var err error
		if b, err = c.appendSchema(b, s.ValueSchema, "", false); err != nil {
			return b, inField(err, "items")
		}
	case schema.TypeMap:
		b = append(b, `"map","keys":`...)
		var err error
		if b, err = c.appendSchema(b, s.KeySchema, "", false); err != nil {
			return b, inField(err, "keys")
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.ValueSchema, "", false); err != nil {
			return b, inField(err, "values")
		}
	case schema.TypeStruct:
		b = append(b, `"struct","fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = c.appendSchema(b, f.Schema, f.Name, true); err != nil {
				return b, inField(err, f.Name)
			}
		}
		b = append(b, ']')
	default:
		return b, errorf("unknown schema type %s", s.Type)
	}
	if s.Optional {
		b = append(b, `,"optional":true`...)
	} else {
		b = append(b, `,"optional":false`...)
	}
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, s.Name)
	}
	if s.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendString(b, s.Doc)
	}
	if len(s.Parameters) > 0 {
		b = append(b, `,"parameters":{`...)
		for i, p := range s.Parameters {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p.Key)
			b = append(b, ':')
			b = appendString(b, p.Value)
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		var err error
		if b, err = c.appendValue(b, s, s.Default); err != nil {
			return b, inField(err, "default")
		}
	}
	if isField {
		b = append(b, `,"field":`...)
		b = appendString(b, field)
	}
	return append(b, '}'), nil
}

func (c *Converter) appendValue(b []byte, s *schema.Schema, v any) ([]byte, error) {
	if s == nil {
		return appendSchemaless(c, b, v)
	}
	if v == nil {
		switch {
		case s.Default != nil && c.cfg.ReplaceNullWithDefault:
			v = s.Default
		case s.Optional:
			return append(b, "null"...), nil
		default:
			return b, errorf("conversion error: null value for field that is required and has no default value (%s)", s)
		}
	}
	if s.Name != "" {
		if l := schema.LogicalOf(s); l != nil {
			return c.appendLogical(b, s, v)
		}
	}
	switch s.Type {
	case schema.TypeInt8:
		if x, ok := v.(int8); ok {
			return strconv.AppendInt(b, int64(x), 10), nil
		}
	case schema.TypeInt16:
		if x, ok := v.(int16); ok {
			return strconv.AppendInt(b, int64(x), 10), nil
		}
	case schema.TypeInt32:
		if x, ok := v.(int32); ok {
			return strconv.AppendInt(b, int64(x), 10), nil
		}
	case schema.TypeInt64:
		if x, ok := v.(int64); ok {
			return strconv.AppendInt(b, x, 10), nil
		}
	case schema.TypeFloat32:
		if x, ok := v.(float32); ok {
			return appendJavaDouble(b, float64(x), 32), nil
		}
	case schema.TypeFloat64:
		if x, ok := v.(float64); ok {
			return appendJavaDouble(b, x, 64), nil
		}
	case schema.TypeBoolean:
		if x, ok := v.(bool); ok {
			if x {
				return append(b, "true"...), nil
			}
			return append(b, "false"...), nil
		}
	case schema.TypeString:
		if x, ok := v.(string); ok {
			return appendString(b, x), nil
		}
	case schema.TypeBytes:
		if x, ok := v.([]byte); ok {
			return appendBase64(b, x), nil
		}
	case schema.TypeArray:
		if x, ok := v.([]any); ok {
			b = append(b, '[')
			for i, e := range x {
				if i > 0 {
					b = append(b, ',')
				}
				var err error
				if b, err = c.appendValue(b, s.ValueSchema, e); err != nil {
					return b, inIndex(err, i)
				}
			}
			return append(b, ']'), nil
		}
	case schema.TypeMap:
		if x, ok := v.(map[any]any); ok {
			return c.appendMap(b, s, x)
		}
	case schema.TypeStruct:
		if x, ok := v.(*schema.Struct); ok {
			return c.appendStruct(b, s, x)
		}
	default:
		return b, errorf("unknown schema type %s", s.Type)
	}
	return b, errorf("invalid Java object for schema %s: %T", s, v)
}

func (c *Converter) appendStruct(b []byte, s *schema.Schema, st *schema.Struct) ([]byte, error) {
	if st == nil {
		return c.appendValue(b, s, nil)
	}
	if len(st.Values) != len(s.Fields) || (st.Schema != s && st.Schema != nil && st.Schema.Name != s.Name) {
		return b, errorf("mismatching schema: struct of %s for field schema %s", st.Schema, s)
	}
	b = append(b, '{')
	for i := range s.Fields {
		f := &s.Fields[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.Name)
		b = append(b, ':')
		var err error
		if b, err = c.appendValue(b, f.Schema, st.Values[i]); err != nil {
			return b, inField(err, f.Name)
		}
	}
	return append(b, '}'), nil
}

func (c *Converter) appendMap(b []byte, s *schema.Schema, m map[any]any) ([]byte, error) {
	keys := sortedKeys(m)
	objectMode := s.KeySchema != nil && s.KeySchema.Type == schema.TypeString
	var err error
	if objectMode {
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			ks, ok := k.(string)
			if !ok {
				return b, errorf("map key %v: %T is not a string", k, k)
			}
			b = appendString(b, ks)
			b = append(b, ':')
			if b, err = c.appendValue(b, s.ValueSchema, m[k]); err != nil {
				return b, inField(err, ks)
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
		if b, err = c.appendValue(b, s.KeySchema, k); err != nil {
			return b, inField(err, fmt.Sprintf("{key %v}", k))
		}
		b = append(b, ',')
		if b, err = c.appendValue(b, s.ValueSchema, m[k]); err != nil {
			return b, inField(err, fmt.Sprintf("[%v]", k))
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

func (c *Converter) appendLogical(b []byte, s *schema.Schema, v any) ([]byte, error) {
	switch s.Name {
	case schema.DecimalName:
		switch x := v.(type) {
		case decimal.Decimal:
			scale, err := schema.DecimalScale(s)
			if err != nil {
				return b, errorf("%w", err)
			}
			if c.numeric {
				unscaled, err := unscaledBig(x, scale)
				if err != nil {
					return b, err
				}
				return appendBigDecimal(b, unscaled, scale), nil
			}
			return appendDecimalBase64(b, x, scale)
		case []byte: // already the unscaled two's complement
			if c.numeric {
				scale, err := schema.DecimalScale(s)
				if err != nil {
					return b, errorf("%w", err)
				}
				return appendBigDecimal(b, schema.FromTwosComplement(x), scale), nil
			}
			return appendBase64(b, x), nil
		}
		return b, errorf("invalid type for Decimal, expected decimal.Decimal but was %T", v)
	case schema.DateName:
		switch x := v.(type) {
		case time.Time:
			return strconv.AppendInt(b, int64(schema.DateToDays(x)), 10), nil
		case int32:
			return strconv.AppendInt(b, int64(x), 10), nil
		}
		return b, errorf("invalid type for Date, expected time.Time but was %T", v)
	case schema.TimeName:
		switch x := v.(type) {
		case time.Time:
			return strconv.AppendInt(b, int64(schema.TimeToMillis(x)), 10), nil
		case int32:
			return strconv.AppendInt(b, int64(x), 10), nil
		}
		return b, errorf("invalid type for Time, expected time.Time but was %T", v)
	case schema.TimestampName:
		switch x := v.(type) {
		case time.Time:
			return strconv.AppendInt(b, x.UnixMilli(), 10), nil
		case int64:
			return strconv.AppendInt(b, x, 10), nil
		}
		return b, errorf("invalid type for Timestamp, expected time.Time but was %T", v)
	}
	return b, errorf("unknown logical type %s", s.Name)
}

// unscaledBig returns d's unscaled value at scale, refusing to drop digits
// (Connect refuses a BigDecimal whose scale differs from the schema's).
func unscaledBig(d decimal.Decimal, scale int32) (*big.Int, error) {
	exp := d.Exponent()
	if exp == -scale {
		return d.Coefficient(), nil
	}
	if int64(exp)+int64(scale) > maxDecimalShift || int64(exp)+int64(scale) < -maxDecimalShift {
		return nil, errorf("decimal %sE%d cannot be written with scale %d", d.Coefficient(), exp, scale)
	}
	if exp > -scale {
		// fewer fractional digits than the scale: pad with zeros
		n := d.Coefficient()
		return n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp+scale)), nil)), nil
	}
	shifted := d.Shift(scale)
	if !shifted.IsInteger() {
		return nil, errorf("decimal %sE%d has more fractional digits than the schema scale %d", d.Coefficient(), exp, scale)
	}
	return shifted.BigInt(), nil
}

// maxDecimalShift bounds how far a decimal is rescaled to the schema scale, so
// a value like 1E+999999999 fails instead of building a gigantic number.
const maxDecimalShift = 4096

func appendDecimalBase64(b []byte, d decimal.Decimal, scale int32) ([]byte, error) {
	if d.Exponent() == -scale {
		if co := d.Coefficient(); co.IsInt64() {
			var buf [8]byte
			return appendBase64(b, minimalTwos(&buf, co.Int64())), nil
		}
	}
	n, err := unscaledBig(d, scale)
	if err != nil {
		return b, err
	}
	if n.IsInt64() {
		var buf [8]byte
		return appendBase64(b, minimalTwos(&buf, n.Int64())), nil
	}
	return appendBase64(b, schema.TwosComplement(n)), nil
}

// minimalTwos returns n as minimal big-endian two's complement (BigInteger.toByteArray).
func minimalTwos(buf *[8]byte, n int64) []byte {
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	i := 0
	for i < 7 && ((buf[i] == 0 && buf[i+1]&0x80 == 0) || (buf[i] == 0xff && buf[i+1]&0x80 != 0)) {
		i++
	}
	return buf[i:]
}

func appendBase64(b, data []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, data)
	return append(b, '"')
}

const hexUpper = "0123456789ABCDEF"

// appendString writes s as a JSON string the way Jackson does: raw UTF-8,
// only '"', '\\' and control characters escaped (\b \t \n \f \r or \u00XX).
// Invalid UTF-8 is replaced by U+FFFD.
func appendString(b []byte, s string) []byte { return appendStringEsc(b, s, true) }

// appendStringEsc is appendString; supp writes characters beyond the Basic
// Multilingual Plane as escaped UTF-16 surrogate pairs (\uD83D\uDE00), as
// Jackson's UTF-8 generator does, so JsonConverter's bytes match Kafka's.
func appendStringEsc(b []byte, s string, supp bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i++
				start = i
				continue
			}
			if supp && r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				b = append(b, s[start:i]...)
				b = append(b, '\\', 'u', hexUpper[r1>>12], hexUpper[r1>>8&0xF], hexUpper[r1>>4&0xF], hexUpper[r1&0xF],
					'\\', 'u', hexUpper[r2>>12], hexUpper[r2>>8&0xF], hexUpper[r2>>4&0xF], hexUpper[r2&0xF])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendSchemaless writes a value without a schema, inferring its type from
// the Go value as Connect does from the Java class.
func appendSchemaless(c *Converter, b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float32:
		return appendJavaDouble(b, float64(x), 32), nil
	case float64:
		return appendJavaDouble(b, x, 64), nil
	case string:
		return appendString(b, x), nil
	case []byte:
		return appendBase64(b, x), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendSchemaless(c, b, e); err != nil {
				return b, inIndex(err, i)
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b, err = appendSchemaless(c, b, x[k]); err != nil {
				return b, inField(err, k)
			}
		}
		return append(b, '}'), nil
	case map[any]any:
		keys := sortedKeys(x)
		objectMode := true
		for _, k := range keys {
			if _, ok := k.(string); !ok {
				objectMode = false
				break
			}
		}
		if objectMode {
			b = append(b, '{')
		} else {
			b = append(b, '[')
		}
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			if objectMode {
				b = appendString(b, k.(string))
				b = append(b, ':')
			} else {
				b = append(b, '[')
				if b, err = appendSchemaless(c, b, k); err != nil {
					return b, inField(err, fmt.Sprintf("{key %v}", k))
				}
				b = append(b, ',')
			}
			if b, err = appendSchemaless(c, b, x[k]); err != nil {
				return b, inField(err, fmt.Sprint(k))
			}
			if !objectMode {
				b = append(b, ']')
			}
		}
		if objectMode {
			return append(b, '}'), nil
		}
		return append(b, ']'), nil
	case *schema.Struct:
		if x == nil {
			return append(b, "null"...), nil
		}
		return c.appendStruct(b, x.Schema, x)
	}
	return b, errorf("Go type %T does not have a corresponding schema type", v)
}

// sortedKeys returns m's keys in a deterministic order: numbers numerically,
// strings lexically, mixed kinds by kind name.
func sortedKeys(m map[any]any) []any {
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

func compareKeys(a, b any) int {
	ka, kb := keyKind(a), keyKind(b)
	if ka != kb {
		return cmp.Compare(ka, kb)
	}
	switch ka {
	case 1:
		return cmp.Compare(asInt(a), asInt(b))
	case 2:
		return cmp.Compare(asFloat(a), asFloat(b))
	case 3:
		return cmp.Compare(a.(string), b.(string))
	case 4:
		ab, bb := a.(bool), b.(bool)
		if ab == bb {
			return 0
		}
		if !ab {
			return -1
		}
		return 1
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func keyKind(v any) int {
	switch v.(type) {
	case int8, int16, int32, int64, int:
		return 1
	case float32, float64:
		return 2
	case string:
		return 3
	case bool:
		return 4
	}
	return 5
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
