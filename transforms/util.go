package transforms

import (
	"encoding/base64"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// side selects the record key or value, like Kafka's $Key/$Value classes.
type side uint8

const (
	valueSide side = iota
	keySide
)

func (s side) String() string {
	if s == keySide {
		return "key"
	}
	return "value"
}

func (s side) get(r *schema.Record) (*schema.Schema, any) {
	if s == keySide {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

func (s side) set(r *schema.Record, sc *schema.Schema, v any) {
	if s == keySide {
		r.KeySchema, r.Key = sc, v
		return
	}
	r.ValueSchema, r.Value = sc, v
}

// requireStruct returns v as a Struct, or Kafka's error for anything else.
func requireStruct(v any, purpose string) (*schema.Struct, error) {
	st, ok := v.(*schema.Struct)
	if !ok || st == nil {
		return nil, fmt.Errorf("only Struct objects supported for [%s], found: %s", purpose, typeName(v))
	}
	return st, nil
}

// requireMap returns a schemaless map value. map[any]any with string keys is
// accepted too (and copied into a map[string]any).
func requireMap(v any, purpose string) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		if m != nil {
			return m, nil
		}
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("only Map objects with string keys supported in absence of schema for [%s], found key %s", purpose, typeName(k))
			}
			out[ks] = e
		}
		return out, nil
	}
	return nil, fmt.Errorf("only Map objects supported in absence of schema for [%s], found: %s", purpose, typeName(v))
}

func typeName(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// fieldValue returns field i of st; with replaceNull a null value of a field
// whose schema has a default gives the default, as Connect's Struct.get does
// (replace.null.with.default=true).
func fieldValue(st *schema.Struct, i int, replaceNull bool) any {
	if i >= len(st.Values) {
		return defaultOf(st.Schema.Fields[i].Schema, replaceNull)
	}
	v := st.Values[i]
	if v == nil {
		return defaultOf(st.Schema.Fields[i].Schema, replaceNull)
	}
	return v
}

func defaultOf(s *schema.Schema, replaceNull bool) any {
	if replaceNull && s != nil {
		return s.Default
	}
	return nil
}

// copyBasics returns a builder of type t carrying s's name, version, doc and
// parameters, as Connect's SchemaUtil.copySchemaBasics (optionality and
// default are not copied).
func copyBasics(s *schema.Schema, t schema.Type) *schema.Builder {
	b := schema.NewBuilder(t).Name(s.Name).Version(s.Version).Doc(s.Doc)
	for _, p := range s.Parameters {
		b.Param(p.Key, p.Value)
	}
	return b
}

// schemaFor returns the schema of a primitive type, optional or not.
func schemaFor(t schema.Type, optional bool) *schema.Schema {
	if optional {
		switch t {
		case schema.TypeInt8:
			return schema.OptionalInt8
		case schema.TypeInt16:
			return schema.OptionalInt16
		case schema.TypeInt32:
			return schema.OptionalInt32
		case schema.TypeInt64:
			return schema.OptionalInt64
		case schema.TypeFloat32:
			return schema.OptionalFloat32
		case schema.TypeFloat64:
			return schema.OptionalFloat64
		case schema.TypeBoolean:
			return schema.OptionalBoolean
		case schema.TypeString:
			return schema.OptionalString
		case schema.TypeBytes:
			return schema.OptionalBytes
		}
	}
	switch t {
	case schema.TypeInt8:
		return schema.Int8Schema
	case schema.TypeInt16:
		return schema.Int16Schema
	case schema.TypeInt32:
		return schema.Int32Schema
	case schema.TypeInt64:
		return schema.Int64Schema
	case schema.TypeFloat32:
		return schema.Float32Schema
	case schema.TypeFloat64:
		return schema.Float64Schema
	case schema.TypeBoolean:
		return schema.BooleanSchema
	case schema.TypeString:
		return schema.StringSchema
	case schema.TypeBytes:
		return schema.BytesSchema
	}
	return nil
}

// inferType is Connect's ConnectSchema.schemaType for schemaless values.
func inferType(v any) (schema.Type, bool) {
	switch v.(type) {
	case int8:
		return schema.TypeInt8, true
	case int16:
		return schema.TypeInt16, true
	case int32:
		return schema.TypeInt32, true
	case int64, int:
		return schema.TypeInt64, true
	case float32:
		return schema.TypeFloat32, true
	case float64:
		return schema.TypeFloat64, true
	case bool:
		return schema.TypeBoolean, true
	case string:
		return schema.TypeString, true
	case []byte:
		return schema.TypeBytes, true
	case []any:
		return schema.TypeArray, true
	case map[string]any, map[any]any:
		return schema.TypeMap, true
	case *schema.Struct:
		return schema.TypeStruct, true
	}
	return 0, false
}

// appendHeaders returns hs plus extra without touching hs's backing array.
func appendHeaders(hs []schema.Header, extra ...schema.Header) []schema.Header {
	out := make([]schema.Header, 0, len(hs)+len(extra))
	out = append(out, hs...)
	return append(out, extra...)
}

// headerBytes renders a value as Connect's SimpleHeaderConverter does:
// strings raw, numbers and booleans as text, bytes as Base64, logical
// temporal values in ISO-8601, structs/maps/arrays in Connect's Values
// string form ({"a":1,"b":"x"}). A null value gives nil bytes.
func headerBytes(v any) []byte {
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	return appendValueString(nil, v, false)
}

// appendValueString is Connect's Values.append.
func appendValueString(b []byte, v any, embedded bool) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		if embedded {
			return appendJavaQuoted(b, x)
		}
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float32:
		return append(b, javaFloat32(x)...)
	case float64:
		return append(b, javaFloat64(x)...)
	case decimal.Decimal:
		return append(b, x.String()...)
	case []byte:
		s := base64.StdEncoding.EncodeToString(x)
		if embedded {
			return appendJavaQuoted(b, s)
		}
		return append(b, s...)
	case time.Time:
		return append(b, javaDateString(x)...)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValueString(b, e, true)
		}
		return append(b, ']')
	case map[string]any:
		b = append(b, '{')
		first := true
		for _, k := range sortedKeys(x) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJavaQuoted(b, k)
			b = append(b, ':')
			b = appendValueString(b, x[k], true)
		}
		return append(b, '}')
	case map[any]any:
		// Entries in the order of their written keys: Go's map order is
		// random, and the same record must give the same bytes.
		type entry struct {
			k string
			v any
		}
		es := make([]entry, 0, len(x))
		for k, e := range x {
			es = append(es, entry{string(appendValueString(nil, k, true)), e})
		}
		sort.Slice(es, func(i, j int) bool { return es[i].k < es[j].k })
		b = append(b, '{')
		for i, e := range es {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(b, e.k...), ':')
			b = appendValueString(b, e.v, true)
		}
		return append(b, '}')
	case *schema.Struct:
		b = append(b, '{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJavaQuoted(b, f.Name)
			b = append(b, ':')
			b = appendValueString(b, fieldValue(x, i, true), true)
		}
		return append(b, '}')
	}
	return fmt.Appendf(b, "%v", v)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	// small maps: insertion sort keeps this allocation-light
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// javaDateString is Connect's Values.dateFormatFor(d).format(d) in UTC:
// a time of day before 1970-01-02 renders as HH:mm:ss.SSS'Z', a midnight as
// yyyy-MM-dd, anything else as yyyy-MM-dd'T'HH:mm:ss.SSS'Z'.
func javaDateString(t time.Time) string {
	t = t.UTC()
	ms := t.UnixMilli()
	switch {
	case ms < 24*3600*1000:
		return t.Format("15:04:05.000Z")
	case ms%(24*3600*1000) == 0:
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// javaFloat64 formats f as Java's Double.toString: plain decimal with at
// least one fractional digit for 1e-3 <= |f| < 1e7, otherwise d.dddE±n.
func javaFloat64(f float64) string { return javaFloat(f, 64) }

// javaFloat32 formats f as Java's Float.toString.
func javaFloat32(f float32) string { return javaFloat(float64(f), 32) }

func javaFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, bits) // d.ddde+XX
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}

// javaToString renders a primitive the way Java's toString does, for Cast to
// string.
func javaToString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float32:
		return javaFloat32(x)
	case float64:
		return javaFloat64(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return javaDateString(x)
	case decimal.Decimal:
		return x.String()
	}
	return string(appendValueString(nil, v, false))
}

// deriveStruct builds a struct schema with basis's name, version, doc and
// parameters (Connect's copySchemaBasics) and the given fields. Duplicate
// field names are an error, not a panic: they come from user config.
func deriveStruct(basis *schema.Schema, optional bool, fields []schema.Field) (*schema.Schema, error) {
	seen := make(map[string]struct{}, len(fields))
	for _, f := range fields {
		if _, dup := seen[f.Name]; dup {
			return nil, fmt.Errorf("duplicate field name %q in the resulting schema", f.Name)
		}
		seen[f.Name] = struct{}{}
	}
	name := ""
	if basis != nil {
		name = basis.Name
	}
	s := schema.NewStructSchema(name, fields...)
	if basis != nil {
		s.Version, s.Doc = basis.Version, basis.Doc
		if len(basis.Parameters) > 0 {
			s.Parameters = append([]schema.Param(nil), basis.Parameters...)
		}
	}
	s.Optional = optional
	return s, nil
}

// fieldsOf returns a copy of s's fields (Index is reassigned on build).
func fieldsOf(s *schema.Schema) []schema.Field {
	return append(make([]schema.Field, 0, len(s.Fields)+2), s.Fields...)
}

// optionalCopy returns s made optional (a copy; s itself when already so).
func optionalCopy(s *schema.Schema) *schema.Schema { return s.WithOptional(true) }

// newStruct allocates a struct value for s with its values in the same
// allocation (one allocation per derived row instead of two).
func newStruct(s *schema.Schema) (*schema.Struct, []any) {
	n := len(s.Fields)
	switch {
	case n <= 4:
		h := &struct {
			st  schema.Struct
			buf [4]any
		}{}
		h.st = schema.Struct{Schema: s, Values: h.buf[:n:n]}
		return &h.st, h.st.Values
	case n <= 8:
		h := &struct {
			st  schema.Struct
			buf [8]any
		}{}
		h.st = schema.Struct{Schema: s, Values: h.buf[:n:n]}
		return &h.st, h.st.Values
	case n <= 12:
		h := &struct {
			st  schema.Struct
			buf [12]any
		}{}
		h.st = schema.Struct{Schema: s, Values: h.buf[:n:n]}
		return &h.st, h.st.Values
	case n <= 16:
		h := &struct {
			st  schema.Struct
			buf [16]any
		}{}
		h.st = schema.Struct{Schema: s, Values: h.buf[:n:n]}
		return &h.st, h.st.Values
	case n <= 32:
		h := &struct {
			st  schema.Struct
			buf [32]any
		}{}
		h.st = schema.Struct{Schema: s, Values: h.buf[:n:n]}
		return &h.st, h.st.Values
	}
	vals := make([]any, n)
	return &schema.Struct{Schema: s, Values: vals}, vals
}

// javaClass names the Java class Connect holds for a Go value of a
// Connect type, for error messages worded as Kafka's ("class
// org.apache.kafka.connect.data.Struct").
func javaClass(v any) string {
	switch v.(type) {
	case *schema.Struct:
		return "org.apache.kafka.connect.data.Struct"
	case map[string]any, map[any]any:
		return "java.util.HashMap"
	case []any:
		return "java.util.ArrayList"
	case string:
		return "java.lang.String"
	case bool:
		return "java.lang.Boolean"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case []byte:
		return "[B"
	case decimal.Decimal:
		return "java.math.BigDecimal"
	case time.Time:
		return "java.util.Date"
	}
	return fmt.Sprintf("%T", v)
}

// appendJavaQuoted appends s quoted as Connect's Values.append quotes an
// embedded string: backslash and double quote escaped, nothing else.
func appendJavaQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '"' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
