package postgres

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// Built-in type OIDs (pg_type.oid is stable for these).
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidXML         = 142
	oidPoint       = 600
	oidCIDR        = 650
	oidFloat4      = 700
	oidFloat8      = 701
	oidMacaddr8    = 774
	oidMoney       = 790
	oidMacaddr     = 829
	oidInet        = 869
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidInterval    = 1186
	oidTimeTZ      = 1266
	oidBit         = 1560
	oidVarbit      = 1562
	oidNumeric     = 1700
	oidUUID        = 2950
	oidTSVector    = 3614
	oidJSONB       = 3802
)

// pgType is a type as the catalog describes it.
type pgType struct {
	oid      uint32
	name     string // pg_type.typname
	kind     byte   // pg_type.typtype: b base, d domain, e enum, r range, m multirange, c composite, p pseudo
	category byte   // pg_type.typcategory ('A' for arrays)
	elem     *pgType
	base     *pgType // domains: the base type
	baseMod  int32   // domains: typtypmod
	labels   []string
}

// convFn converts a value's text form to its Connect value.
type convFn func(b []byte) (any, error)

// mapping is how one column (or array element) is represented.
type mapping struct {
	schema *schema.Schema // required variant; columns apply their own optionality
	conv   convFn
	toast  func() any // value for an unchanged TOASTed column; nil when not applicable
}

// Debezium semantic schemas (version 1).
func named(t schema.Type, name string) *schema.Schema {
	return schema.NewBuilder(t).Name(name).Version(1).Build()
}

var (
	variableScaleSchema = schema.NewBuilder(schema.TypeStruct).Name(schema.DebeziumVariableScaleDec).Version(1).
				Doc("Variable scaled decimal").Field("scale", schema.Int32Schema).Field("value", schema.BytesSchema).Build()
	pointSchema = schema.NewBuilder(schema.TypeStruct).Name(schema.DebeziumPoint).Version(1).Doc("Geometry (POINT)").
			Field("x", schema.Float64Schema).Field("y", schema.Float64Schema).
			Field("wkb", schema.OptionalBytes).Field("srid", schema.OptionalInt32).Build()
)

// mapper maps PostgreSQL types to Connect schemas and converters under the
// connector's handling modes.
type mapper struct {
	decimalMode, timeMode, intervalMode, hstoreMode, binaryMode string
	moneyDigits                                                 int
	placeholder                                                 string
	placeholderBytes                                            []byte
}

func newMapper(s *settings) *mapper {
	m := &mapper{decimalMode: s.decimalMode, timeMode: s.timeMode, intervalMode: s.intervalMode,
		hstoreMode: s.hstoreMode, binaryMode: s.binaryMode, moneyDigits: s.moneyDigits, placeholder: s.placeholder}
	m.placeholderBytes = []byte(s.placeholder)
	if h, ok := strings.CutPrefix(s.placeholder, "hex:"); ok {
		if b, err := hex.DecodeString(h); err == nil {
			m.placeholderBytes = b
		}
	}
	return m
}

func (m *mapper) stringToast() any { return m.placeholder }

// errUnsupported marks a type the connector cannot represent; such columns
// are left out of events, as Debezium does without include.unknown.datatypes.
type errUnsupported struct{ typ string }

func (e errUnsupported) Error() string { return "unsupported type " + e.typ }

func precisionOf(typmod int32) int {
	if typmod < 0 {
		return 6
	}
	return int(typmod)
}

// numericTypmod returns precision and scale; ok is false without a declared
// precision (unconstrained NUMERIC).
func numericTypmod(typmod int32) (prec, scale int, ok bool) {
	if typmod < 4 {
		return 0, 0, false
	}
	t := typmod - 4
	prec = int((t >> 16) & 0xffff)
	scale = int(((t & 0x7ff) ^ 1024) - 1024)
	return prec, scale, true
}

// mapType returns the mapping of t with modifier typmod.
func (m *mapper) mapType(t *pgType, typmod int32) (mapping, error) {
	for t.kind == 'd' && t.base != nil {
		if typmod < 0 {
			typmod = t.baseMod
		}
		t = t.base
	}
	str := func(s *schema.Schema) mapping {
		return mapping{schema: s, conv: func(b []byte) (any, error) { return string(b), nil }, toast: m.stringToast}
	}
	switch t.oid {
	case oidBool:
		return mapping{schema: schema.BooleanSchema, conv: func(b []byte) (any, error) { return len(b) > 0 && b[0] == 't', nil }}, nil
	case oidInt2:
		return mapping{schema: schema.Int16Schema, conv: func(b []byte) (any, error) {
			n, err := strconv.ParseInt(string(b), 10, 16)
			return int16(n), err
		}}, nil
	case oidInt4:
		return mapping{schema: schema.Int32Schema, conv: func(b []byte) (any, error) {
			n, err := strconv.ParseInt(string(b), 10, 32)
			return int32(n), err
		}}, nil
	case oidInt8, oidOID:
		return mapping{schema: schema.Int64Schema, conv: func(b []byte) (any, error) {
			return strconv.ParseInt(string(b), 10, 64)
		}}, nil
	case oidFloat4:
		return mapping{schema: schema.Float32Schema, conv: func(b []byte) (any, error) {
			f, err := strconv.ParseFloat(string(b), 32)
			return float32(f), err
		}}, nil
	case oidFloat8:
		return mapping{schema: schema.Float64Schema, conv: func(b []byte) (any, error) {
			return strconv.ParseFloat(string(b), 64)
		}}, nil
	case oidText, oidVarchar, oidBPChar, oidChar, oidName, oidInet, oidCIDR, oidMacaddr, oidMacaddr8:
		return str(schema.StringSchema), nil
	case oidJSON, oidJSONB:
		return str(named(schema.TypeString, schema.DebeziumJSON)), nil
	case oidXML:
		return str(named(schema.TypeString, schema.DebeziumXML)), nil
	case oidUUID:
		return str(named(schema.TypeString, schema.DebeziumUUID)), nil
	case oidTSVector:
		return str(named(schema.TypeString, "io.debezium.data.Tsvector")), nil
	case oidBytea:
		return m.bytea(), nil
	case oidNumeric:
		return m.numeric(typmod), nil
	case oidMoney:
		return m.money(), nil
	case oidBit, oidVarbit:
		return m.bits(t.oid, typmod), nil
	case oidDate:
		return m.date(), nil
	case oidTime:
		return m.time(precisionOf(typmod)), nil
	case oidTimestamp:
		return m.timestamp(precisionOf(typmod)), nil
	case oidTimestampTZ:
		width := precisionOf(typmod)
		return mapping{schema: named(schema.TypeString, schema.DebeziumZonedTimestamp), conv: func(b []byte) (any, error) {
			us, kind, err := parseTimestamp(b)
			switch {
			case err != nil:
				return nil, err
			case kind == tsPosInf:
				return "infinity", nil
			case kind == tsNegInf:
				return "-infinity", nil
			}
			return formatZonedTimestamp(us, width), nil
		}}, nil
	case oidTimeTZ:
		return mapping{schema: named(schema.TypeString, schema.DebeziumZonedTime), conv: func(b []byte) (any, error) {
			return parseTimeTZ(b)
		}}, nil
	case oidInterval:
		return m.interval(), nil
	case oidPoint:
		return mapping{schema: pointSchema, conv: parsePoint}, nil
	}
	switch {
	case t.kind == 'e':
		s := schema.NewBuilder(schema.TypeString).Name(schema.DebeziumEnum).Version(1).Param("allowed", strings.Join(t.labels, ",")).Build()
		return str(s), nil
	case t.kind == 'r' || t.kind == 'm':
		return str(schema.StringSchema), nil
	case t.category == 'A' && t.elem != nil:
		return m.array(t, typmod)
	case t.name == "hstore":
		return m.hstore(), nil
	case t.name == "citext", t.name == "isbn", t.name == "isbn13", t.name == "issn", t.name == "ean13":
		return str(schema.StringSchema), nil
	case t.name == "ltree":
		return str(named(schema.TypeString, schema.DebeziumLtree)), nil
	}
	return mapping{}, errUnsupported{t.name}
}

func (m *mapper) bytea() mapping {
	// An unchanged TOASTed bytea is the placeholder in bytes and hex
	// modes; in the base64 modes Debezium 3.6.1's converter does not
	// recognise it and writes null (the column's zero or default when
	// required), so no toast value there.
	switch m.binaryMode {
	case "base64":
		return mapping{schema: schema.StringSchema, conv: func(b []byte) (any, error) {
			raw, err := parseBytea(b)
			return base64.StdEncoding.EncodeToString(raw), err
		}}
	case "base64-url-safe":
		return mapping{schema: schema.StringSchema, conv: func(b []byte) (any, error) {
			raw, err := parseBytea(b)
			return base64.URLEncoding.EncodeToString(raw), err
		}}
	case "hex":
		return mapping{schema: schema.StringSchema, toast: m.stringToast, conv: func(b []byte) (any, error) {
			raw, err := parseBytea(b)
			return hex.EncodeToString(raw), err
		}}
	}
	return mapping{schema: schema.BytesSchema, toast: func() any { return m.placeholderBytes }, conv: func(b []byte) (any, error) {
		return parseBytea(b)
	}}
}

// special numeric values and their string-mode names (SpecialValueDecimal).
var numericSpecial = map[string]string{"NaN": "NAN", "Infinity": "POSITIVE_INFINITY", "-Infinity": "NEGATIVE_INFINITY"}

func (m *mapper) numeric(typmod int32) mapping {
	prec, scale, fixed := numericTypmod(typmod)
	switch m.decimalMode {
	case "double":
		return mapping{schema: schema.Float64Schema, conv: func(b []byte) (any, error) {
			return strconv.ParseFloat(string(b), 64)
		}}
	case "string":
		return mapping{schema: schema.StringSchema, conv: func(b []byte) (any, error) {
			if s, ok := numericSpecial[string(b)]; ok {
				return s, nil
			}
			return string(b), nil
		}}
	}
	if !fixed {
		return mapping{schema: variableScaleSchema, conv: func(b []byte) (any, error) {
			if _, ok := numericSpecial[string(b)]; ok {
				return nil, nil // NaN, ±Infinity: null, as Debezium 3.6.1 writes them
			}
			d, err := decimal.NewFromString(string(b))
			if err != nil {
				return nil, err
			}
			return variableScale(d), nil
		}}
	}
	return mapping{schema: schema.DecimalSchema(scale, prec, false), conv: func(b []byte) (any, error) {
		if _, ok := numericSpecial[string(b)]; ok {
			// NaN, ±Infinity have no Decimal: null (the column's zero or
			// default when required), as Debezium 3.6.1 writes them.
			return nil, nil
		}
		return decimal.NewFromString(string(b))
	}}
}

// variableScale builds a VariableScaleDecimal struct: trailing zeros
// stripped, scale never negative.
func variableScale(d decimal.Decimal) *schema.Struct {
	coef := d.Coefficient()
	exp := d.Exponent()
	ten := big.NewInt(10)
	if coef.Sign() != 0 {
		for exp < 0 {
			q, r := new(big.Int).QuoRem(coef, ten, new(big.Int))
			if r.Sign() != 0 {
				break
			}
			coef = q
			exp++
		}
	}
	if exp > 0 {
		coef = new(big.Int).Mul(coef, new(big.Int).Exp(ten, big.NewInt(int64(exp)), nil))
		exp = 0
	}
	if coef.Sign() == 0 {
		exp = 0
	}
	return &schema.Struct{Schema: variableScaleSchema, Values: []any{int32(-exp), schema.TwosComplement(coef)}}
}

func (m *mapper) money() mapping {
	switch m.decimalMode {
	case "double":
		return mapping{schema: schema.Float64Schema, conv: func(b []byte) (any, error) {
			s, err := parseMoney(b)
			if err != nil {
				return nil, err
			}
			return strconv.ParseFloat(s, 64)
		}}
	case "string":
		return mapping{schema: schema.StringSchema, conv: func(b []byte) (any, error) { return parseMoney(b) }}
	}
	digits := int32(m.moneyDigits)
	return mapping{schema: schema.DecimalSchema(m.moneyDigits, 0, false), conv: func(b []byte) (any, error) {
		s, err := parseMoney(b)
		if err != nil {
			return nil, err
		}
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, err
		}
		return d.Round(digits), nil
	}}
}

func (m *mapper) bits(oid uint32, typmod int32) mapping {
	length := int(typmod)
	if oid == oidVarbit && typmod < 0 {
		length = math.MaxInt32
	}
	if length == 1 {
		return mapping{schema: schema.BooleanSchema, conv: func(b []byte) (any, error) {
			return len(b) > 0 && b[0] == '1', nil
		}}
	}
	s := schema.NewBuilder(schema.TypeBytes).Name(schema.DebeziumBits).Version(1).Param("length", strconv.Itoa(length)).Build()
	return mapping{schema: s, conv: func(b []byte) (any, error) { return parseBits(b) }}
}

func (m *mapper) date() mapping {
	conv := func(b []byte) (int64, error) {
		switch string(b) {
		case "infinity":
			return schema.DaysFromCivil(-5877611, 6, 21), nil
		case "-infinity":
			return schema.DaysFromCivil(-5877611, 6, 22), nil
		}
		return parseDate(b)
	}
	if m.timeMode == "connect" {
		return mapping{schema: schema.DateSchema(false), conv: func(b []byte) (any, error) {
			d, err := conv(b)
			return time.Unix(d*86400, 0).UTC(), err
		}}
	}
	return mapping{schema: named(schema.TypeInt32, schema.DebeziumDate), conv: func(b []byte) (any, error) {
		d, err := conv(b)
		return int32(d), err
	}}
}

func (m *mapper) time(prec int) mapping {
	parse := func(b []byte) (int64, error) {
		us, rest, err := parseClock(b)
		if err == nil && len(rest) > 0 {
			err = fmt.Errorf("time %q: %w", b, errSyntax)
		}
		return us, err
	}
	switch {
	case m.timeMode == "connect":
		return mapping{schema: schema.TimeSchema(false), conv: func(b []byte) (any, error) {
			us, err := parse(b)
			return time.UnixMilli(us / 1000).UTC(), err
		}}
	case m.timeMode == "adaptive" && prec <= 3:
		return mapping{schema: named(schema.TypeInt32, schema.DebeziumTime), conv: func(b []byte) (any, error) {
			us, err := parse(b)
			return int32(us / 1000), err
		}}
	}
	return mapping{schema: named(schema.TypeInt64, schema.DebeziumMicroTime), conv: func(b []byte) (any, error) {
		return parse(b)
	}}
}

func (m *mapper) timestamp(prec int) mapping {
	parse := func(b []byte) (int64, error) {
		us, kind, err := parseTimestamp(b)
		switch kind {
		case tsPosInf:
			return posInfinityMicros, nil
		case tsNegInf:
			return negInfinityMicros, nil
		}
		return us, err
	}
	switch {
	case m.timeMode == "connect":
		return mapping{schema: schema.TimestampSchema(false), conv: func(b []byte) (any, error) {
			us, err := parse(b)
			return time.UnixMilli(schema.FloorDiv(us, 1000)).UTC(), err
		}}
	case prec <= 3:
		return mapping{schema: named(schema.TypeInt64, schema.DebeziumTimestamp), conv: func(b []byte) (any, error) {
			us, err := parse(b)
			return schema.FloorDiv(us, 1000), err
		}}
	}
	return mapping{schema: named(schema.TypeInt64, schema.DebeziumMicroTimestamp), conv: func(b []byte) (any, error) {
		return parse(b)
	}}
}

func (m *mapper) interval() mapping {
	if m.intervalMode == "string" {
		return mapping{schema: named(schema.TypeString, schema.DebeziumInterval), conv: func(b []byte) (any, error) {
			iv, err := parseInterval(b)
			return iv.iso(), err
		}}
	}
	return mapping{schema: named(schema.TypeInt64, schema.DebeziumMicroDuration), conv: func(b []byte) (any, error) {
		iv, err := parseInterval(b)
		return iv.micros(), err
	}}
}

func (m *mapper) hstore() mapping {
	if m.hstoreMode == "map" {
		return mapping{schema: schema.MapOf(schema.StringSchema, schema.OptionalString),
			toast: func() any { return map[any]any{m.placeholder: m.placeholder} },
			conv: func(b []byte) (any, error) {
				entries, err := parseHstore(b)
				if err != nil {
					return nil, err
				}
				out := make(map[any]any, len(entries))
				for _, e := range entries {
					if e.value == nil {
						out[e.key] = nil
					} else {
						out[e.key] = *e.value
					}
				}
				return out, nil
			}}
	}
	return mapping{schema: named(schema.TypeString, schema.DebeziumJSON), toast: m.stringToast, conv: func(b []byte) (any, error) {
		entries, err := parseHstore(b)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+2)
		out = append(out, '{')
		for i, e := range entries {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendJSONString(out, e.key)
			out = append(out, ':')
			if e.value == nil {
				out = append(out, "null"...)
			} else {
				out = appendJSONString(out, *e.value)
			}
		}
		return string(append(out, '}')), nil
	}}
}

// appendJSONString quotes s as Jackson does: '"', '\\' and control
// characters escaped, everything else raw.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			if c < 0x20 {
				dst = append(dst, fmt.Sprintf(`\u%04X`, c)...)
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

func (m *mapper) array(t *pgType, typmod int32) (mapping, error) {
	em, err := m.mapType(t.elem, typmod)
	if err != nil {
		return mapping{}, err
	}
	elemSchema := em.schema.WithOptional(true)
	s := schema.ArrayOf(elemSchema)
	mp := mapping{schema: s, conv: func(b []byte) (any, error) {
		parts, err := parseArray(b)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			if p == nil {
				continue
			}
			if out[i], err = em.conv(p); err != nil {
				return nil, fmt.Errorf("array element %d: %w", i, err)
			}
		}
		return out, nil
	}}
	switch {
	case t.elem.name == "int4" || t.elem.name == "int8":
		// Debezium 3.6 (UnchangedToastedPlaceholder): an unchanged
		// TOASTed integer[] or bigint[] is the placeholder's bytes, each
		// as a (signed) Integer or Long.
		long := t.elem.name == "int8"
		mp.toast = func() any {
			out := make([]any, len(m.placeholderBytes))
			for i, b := range m.placeholderBytes {
				if long {
					out[i] = int64(int8(b))
				} else {
					out[i] = int32(int8(b))
				}
			}
			return out
		}
	case em.toast != nil:
		mp.toast = func() any { return []any{em.toast()} }
	}
	return mp, nil
}

// parsePoint parses "(x,y)" into Debezium's Point struct with its WKB.
func parsePoint(b []byte) (any, error) {
	s := strings.TrimSpace(string(b))
	s = strings.TrimPrefix(strings.TrimSuffix(s, ")"), "(")
	xs, ys, ok := strings.Cut(s, ",")
	if !ok {
		return nil, fmt.Errorf("point %q: %w", b, errSyntax)
	}
	x, err1 := strconv.ParseFloat(strings.TrimSpace(xs), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(ys), 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("point %q: %w", b, errSyntax)
	}
	wkb := make([]byte, 21)
	wkb[0] = 1 // little endian
	binary.LittleEndian.PutUint32(wkb[1:], 1)
	binary.LittleEndian.PutUint64(wkb[5:], math.Float64bits(x))
	binary.LittleEndian.PutUint64(wkb[13:], math.Float64bits(y))
	return &schema.Struct{Schema: pointSchema, Values: []any{x, y, wkb, nil}}, nil
}

// zeroValue is what Debezium puts into a required field whose value the
// WAL does not carry (e.g. non-key columns of a key-only old tuple).
func zeroValue(s *schema.Schema) any {
	switch s.Name {
	case schema.DecimalName:
		return decimal.Zero
	case schema.DateName, schema.TimeName, schema.TimestampName:
		return time.Unix(0, 0).UTC()
	}
	switch s.Type {
	case schema.TypeInt8:
		return int8(0)
	case schema.TypeInt16:
		return int16(0)
	case schema.TypeInt32:
		return int32(0)
	case schema.TypeInt64:
		return int64(0)
	case schema.TypeFloat32:
		return float32(0)
	case schema.TypeFloat64:
		return float64(0)
	case schema.TypeBoolean:
		return false
	case schema.TypeString:
		return ""
	case schema.TypeBytes:
		return []byte{}
	case schema.TypeArray:
		return []any{}
	case schema.TypeMap:
		return map[any]any{}
	case schema.TypeStruct:
		st := schema.NewStruct(s)
		for i, f := range s.Fields {
			if !f.Schema.Optional {
				st.Values[i] = zeroValue(f.Schema)
			}
		}
		return st
	}
	return nil
}
