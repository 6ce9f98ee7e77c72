package mysql

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// Handling modes (Debezium's option values).
const (
	decimalPrecise = "precise"
	decimalDouble  = "double"
	decimalString  = "string"

	timeAdaptiveMicros = "adaptive_time_microseconds"
	timeAdaptive       = "adaptive"
	timeConnect        = "connect"

	bigintLong    = "long"
	bigintPrecise = "precise"

	binaryBytes     = "bytes"
	binaryBase64    = "base64"
	binaryBase64URL = "base64-url-safe"
	binaryHex       = "hex"
)

// typeOptions are the handling modes that shape schemas and values.
type typeOptions struct {
	decimal string
	time    string
	bigint  string
	binary  string
}

// valueFn converts a source value (never nil) to its Connect value.
type valueFn func(v any) (any, error)

// converter turns one column's values into Connect values, from the binlog
// (go-mysql's decoded row values) or from a snapshot read (go-sql-driver's
// binary-protocol values).
type converter struct {
	col    *column
	schema *schema.Schema
	binlog valueFn
	snap   valueFn
	// zero is the value for a zero date in a NOT NULL column (nil for
	// optional columns, where zero dates become null).
	zero any
}

// errZeroDate marks a zero/invalid date ('0000-00-00'); the caller maps it to
// null or the epoch, as Debezium does.
var errZeroDate = fmt.Errorf("zero date")

func (cv *converter) fromBinlog(v any) (any, error) { return cv.apply(cv.binlog, v) }

func (cv *converter) fromSnapshot(v any) (any, error) { return cv.apply(cv.snap, v) }

// apply converts a non-null v with f; a zero date gives cv.zero.
func (cv *converter) apply(f valueFn, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	out, err := f(v)
	if err == errZeroDate {
		return cv.zero, nil
	}
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", cv.col.name, err)
	}
	return out, nil
}

// newConverter builds the schema and value functions for a column.
func newConverter(c *column, o typeOptions) (*converter, error) {
	cv := &converter{col: c}
	opt := c.nullable
	var b *schema.Builder
	same := func(f valueFn) { cv.binlog, cv.snap = f, f }
	switch c.kind {
	case kBool:
		b = schema.NewBuilder(schema.TypeBoolean)
		same(func(v any) (any, error) {
			if bs, ok := v.([]byte); ok {
				for _, x := range bs {
					if x != 0 {
						return true, nil
					}
				}
				return false, nil
			}
			n, err := asInt64(v)
			return n != 0, err
		})
	case kBits:
		nbytes := (c.length + 7) / 8
		b = schema.NewBuilder(schema.TypeBytes).Name(schema.DebeziumBits).Version(1).Param("length", strconv.Itoa(c.length))
		same(func(v any) (any, error) {
			out := make([]byte, nbytes)
			if bs, ok := v.([]byte); ok { // big-endian from the server
				for i := 0; i < len(bs) && i < nbytes; i++ {
					out[i] = bs[len(bs)-1-i]
				}
				return out, nil
			}
			n, err := asInt64(v)
			if err != nil {
				return nil, err
			}
			for i := 0; i < nbytes && i < 8; i++ {
				out[i] = byte(uint64(n) >> (8 * i))
			}
			return out, nil
		})
	case kTiny:
		b = schema.NewBuilder(schema.TypeInt16)
		same(func(v any) (any, error) { n, err := asInt64(v); return int16(n), err })
	case kSmall:
		if c.unsigned {
			b = schema.NewBuilder(schema.TypeInt32)
			same(func(v any) (any, error) { n, err := asInt64(v); return int32(n), err })
		} else {
			b = schema.NewBuilder(schema.TypeInt16)
			same(func(v any) (any, error) { n, err := asInt64(v); return int16(n), err })
		}
	case kMedium:
		b = schema.NewBuilder(schema.TypeInt32)
		same(func(v any) (any, error) { n, err := asInt64(v); return int32(n), err })
	case kInt:
		if c.unsigned {
			b = schema.NewBuilder(schema.TypeInt64)
			same(func(v any) (any, error) { return asInt64(v) })
		} else {
			b = schema.NewBuilder(schema.TypeInt32)
			same(func(v any) (any, error) { n, err := asInt64(v); return int32(n), err })
		}
	case kBig:
		if c.unsigned && o.bigint == bigintPrecise {
			b = decimalBuilder(0, 20)
			same(func(v any) (any, error) {
				u, err := asUint64(v)
				if err != nil {
					return nil, err
				}
				return decimal.NewFromBigInt(new(big.Int).SetUint64(u), 0), nil
			})
		} else {
			b = schema.NewBuilder(schema.TypeInt64)
			if c.unsigned {
				same(func(v any) (any, error) { u, err := asUint64(v); return int64(u), err })
			} else {
				same(func(v any) (any, error) { return asInt64(v) })
			}
		}
	case kDecimal:
		scale := int32(c.scale)
		switch o.decimal {
		case decimalDouble:
			b = schema.NewBuilder(schema.TypeFloat64)
			same(func(v any) (any, error) {
				d, err := asDecimal(v)
				return d.InexactFloat64(), err
			})
		case decimalString:
			b = schema.NewBuilder(schema.TypeString)
			same(func(v any) (any, error) {
				d, err := asDecimal(v)
				return d.StringFixed(scale), err
			})
		default:
			b = decimalBuilder(c.scale, c.precision)
			same(func(v any) (any, error) { return asDecimal(v) })
		}
	case kFloat:
		b = schema.NewBuilder(schema.TypeFloat32)
		same(func(v any) (any, error) {
			switch x := v.(type) {
			case float32:
				return x, nil
			case float64:
				return float32(x), nil
			}
			f, err := strconv.ParseFloat(asString(v), 32)
			return float32(f), err
		})
	case kDouble:
		b = schema.NewBuilder(schema.TypeFloat64)
		same(func(v any) (any, error) {
			switch x := v.(type) {
			case float64:
				return x, nil
			case float32:
				return float64(x), nil
			}
			return strconv.ParseFloat(asString(v), 64)
		})
	case kString, kJSON:
		b = schema.NewBuilder(schema.TypeString)
		if c.kind == kJSON {
			b.Name(schema.DebeziumJSON).Version(1)
		}
		dec := charsetDecoder(c.charset)
		cv.binlog = func(v any) (any, error) {
			switch x := v.(type) {
			case string:
				return dec(x), nil
			case []byte:
				return dec(string(x)), nil
			}
			return nil, fmt.Errorf("unexpected %T for a string column", v)
		}
		cv.snap = func(v any) (any, error) { return asString(v), nil }
	case kBinary:
		enc := binaryEncoder(o.binary)
		if o.binary == binaryBytes || o.binary == "" {
			b = schema.NewBuilder(schema.TypeBytes)
		} else {
			b = schema.NewBuilder(schema.TypeString)
		}
		fixed := 0
		if c.fixed {
			fixed = c.length
		}
		same(func(v any) (any, error) {
			bs := asBytes(v)
			if len(bs) < fixed { // BINARY(n) is right-padded with 0x00 (DBZ-254)
				p := make([]byte, fixed)
				copy(p, bs)
				bs = p
			}
			return enc(bs), nil
		})
	case kEnum, kSet:
		allowed := strings.Join(c.enumValues, ",")
		if c.kind == kEnum {
			b = schema.NewBuilder(schema.TypeString).Name(schema.DebeziumEnum).Version(1).Param("allowed", allowed)
		} else {
			b = schema.NewBuilder(schema.TypeString).Name(schema.DebeziumEnumSet).Version(1).Param("allowed", allowed)
		}
		members := c.enumValues
		isSet := c.kind == kSet
		cv.binlog = func(v any) (any, error) {
			switch v.(type) {
			case string, []byte:
				return asString(v), nil
			}
			n, err := asInt64(v)
			if err != nil {
				return nil, err
			}
			if !isSet {
				if n <= 0 || int(n) > len(members) {
					return "", nil
				}
				return members[n-1], nil
			}
			var sb strings.Builder
			for i := 0; i < 64 && i < len(members); i++ {
				if uint64(n)&(1<<uint(i)) != 0 {
					if sb.Len() > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString(members[i])
				}
			}
			return sb.String(), nil
		}
		cv.snap = func(v any) (any, error) { return asString(v), nil }
	case kYear:
		b = schema.NewBuilder(schema.TypeInt32).Name(schema.DebeziumYear).Version(1)
		same(func(v any) (any, error) { n, err := asInt64(v); return int32(n), err })
	case kDate:
		if o.time == timeConnect {
			b = schema.NewBuilder(schema.TypeInt32).Name(schema.DateName).Version(1)
			same(func(v any) (any, error) {
				days, err := parseDate(v)
				if err != nil {
					return nil, err
				}
				return schema.DaysToDate(int32(days)), nil
			})
			cv.zero = schema.DaysToDate(0)
		} else {
			b = schema.NewBuilder(schema.TypeInt32).Name(schema.DebeziumDate).Version(1)
			same(func(v any) (any, error) {
				days, err := parseDate(v)
				return int32(days), err
			})
			cv.zero = int32(0)
		}
	case kTime:
		switch {
		case o.time == timeConnect:
			b = schema.NewBuilder(schema.TypeInt32).Name(schema.TimeName).Version(1)
			same(func(v any) (any, error) {
				us, err := parseTime(v)
				if err != nil {
					return nil, err
				}
				return time.UnixMilli(schema.FloorDiv(us, 1000)).UTC(), nil
			})
		case o.time == timeAdaptive && c.fsp <= 3:
			b = schema.NewBuilder(schema.TypeInt32).Name(schema.DebeziumTime).Version(1)
			same(func(v any) (any, error) {
				us, err := parseTime(v)
				return int32(schema.FloorDiv(us, 1000)), err
			})
		default:
			b = schema.NewBuilder(schema.TypeInt64).Name(schema.DebeziumMicroTime).Version(1)
			same(func(v any) (any, error) { return parseTime(v) })
		}
	case kDateTime:
		switch {
		case o.time == timeConnect:
			b = schema.NewBuilder(schema.TypeInt64).Name(schema.TimestampName).Version(1)
			same(func(v any) (any, error) {
				us, err := parseDateTime(v)
				if err != nil {
					return nil, err
				}
				return time.UnixMilli(schema.FloorDiv(us, 1000)).UTC(), nil
			})
			cv.zero = time.UnixMilli(0).UTC()
		case c.fsp <= 3:
			b = schema.NewBuilder(schema.TypeInt64).Name(schema.DebeziumTimestamp).Version(1)
			same(func(v any) (any, error) {
				us, err := parseDateTime(v)
				return schema.FloorDiv(us, 1000), err
			})
			cv.zero = int64(0)
		default:
			b = schema.NewBuilder(schema.TypeInt64).Name(schema.DebeziumMicroTimestamp).Version(1)
			same(func(v any) (any, error) { return parseDateTime(v) })
			cv.zero = int64(0)
		}
	case kTimestamp:
		fsp := c.fsp
		b = schema.NewBuilder(schema.TypeString).Name(schema.DebeziumZonedTimestamp).Version(1)
		same(func(v any) (any, error) {
			us, err := parseDateTime(v)
			if err != nil {
				return nil, err
			}
			return formatZoned(us, fsp), nil
		})
		cv.zero = formatZoned(0, fsp)
	case kUUID:
		b = schema.NewBuilder(schema.TypeString).Name(schema.DebeziumUUID).Version(1)
		cv.binlog = func(v any) (any, error) {
			return formatUUID(padBytes(asBytes(v), 16)), nil
		}
		cv.snap = func(v any) (any, error) { return asString(v), nil }
	case kInet4, kInet6:
		b = schema.NewBuilder(schema.TypeString)
		v4 := c.kind == kInet4
		cv.binlog = func(v any) (any, error) {
			// the binlog strips trailing zero bytes of fixed-length values
			if v4 {
				return netip.AddrFrom4([4]byte(padBytes(asBytes(v), 4))).String(), nil
			}
			return netip.AddrFrom16([16]byte(padBytes(asBytes(v), 16))).String(), nil
		}
		cv.snap = func(v any) (any, error) { return asString(v), nil }
	case kGeometry:
		b = geometrySchema()
		same(func(v any) (any, error) {
			srid, wkb := splitGeometry(asBytes(v))
			return &schema.Struct{Schema: cv.schema, Values: []any{wkb, srid}}, nil
		})
	case kPoint:
		b = pointSchema()
		same(func(v any) (any, error) {
			srid, wkb := splitGeometry(asBytes(v))
			x, y := pointXY(wkb)
			return &schema.Struct{Schema: cv.schema, Values: []any{x, y, wkb, srid}}, nil
		})
	default:
		return nil, fmt.Errorf("column %s: unsupported type %q", c.name, c.columnType)
	}
	if opt {
		b.Optional()
		cv.zero = nil
	}
	if d := defaultValue(c, cv); d != nil {
		b.Default(d)
	}
	cv.schema = b.Build()
	return cv, nil
}

func decimalBuilder(scale, precision int) *schema.Builder {
	b := schema.NewBuilder(schema.TypeBytes).Name(schema.DecimalName).Version(1).Param(schema.DecimalScaleParam, strconv.Itoa(scale))
	if precision > 0 {
		b.Param(schema.DecimalPrecisionParam, strconv.Itoa(precision))
	}
	return b
}

func geometrySchema() *schema.Builder {
	return schema.NewBuilder(schema.TypeStruct).Name(schema.DebeziumGeometry).Version(1).Doc("Geometry").
		Field("wkb", schema.BytesSchema).Field("srid", schema.OptionalInt32)
}

func pointSchema() *schema.Builder {
	return schema.NewBuilder(schema.TypeStruct).Name(schema.DebeziumPoint).Version(1).Doc("Geometry (POINT)").
		Field("x", schema.Float64Schema).Field("y", schema.Float64Schema).
		Field("wkb", schema.OptionalBytes).Field("srid", schema.OptionalInt32)
}

// splitGeometry splits MySQL's internal geometry (4-byte little-endian SRID +
// WKB).
func splitGeometry(b []byte) (any, []byte) {
	if len(b) < 4 {
		return nil, b
	}
	srid := int32(binary.LittleEndian.Uint32(b))
	if srid == 0 {
		return nil, b[4:]
	}
	return srid, b[4:]
}

func pointXY(wkb []byte) (float64, float64) {
	if len(wkb) < 21 {
		return 0, 0
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if wkb[0] == 0 {
		bo = binary.BigEndian
	}
	return math.Float64frombits(bo.Uint64(wkb[5:])), math.Float64frombits(bo.Uint64(wkb[13:]))
}

func binaryEncoder(mode string) func([]byte) any {
	switch mode {
	case binaryBase64:
		return func(b []byte) any { return base64.StdEncoding.EncodeToString(b) }
	case binaryBase64URL:
		return func(b []byte) any { return base64.URLEncoding.EncodeToString(b) }
	case binaryHex:
		return func(b []byte) any { return hex.EncodeToString(b) }
	}
	return func(b []byte) any { return b }
}

// padBytes right-pads b with zero bytes to n (truncating longer input).
func padBytes(b []byte, n int) []byte {
	if len(b) == n {
		return b
	}
	p := make([]byte, n)
	copy(p, b)
	return p
}

func formatUUID(b []byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], b[10:16])
	return string(buf[:])
}

// ---- value helpers ----

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return []byte(fmt.Sprint(v))
}

func asInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case uint:
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		return int64(math.Round(x)), nil
	case []byte, string:
		s := strings.TrimSpace(asString(v))
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return n, nil
		}
		if u, err2 := strconv.ParseUint(s, 10, 64); err2 == nil {
			return int64(u), nil
		}
		if f, err3 := strconv.ParseFloat(s, 64); err3 == nil {
			return int64(math.Round(f)), nil
		}
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	return 0, fmt.Errorf("unexpected %T for an integer column", v)
}

func asUint64(v any) (uint64, error) {
	switch x := v.(type) {
	case uint64:
		return x, nil
	case []byte, string:
		s := strings.TrimSpace(asString(v))
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("not an unsigned integer: %q", s)
		}
		return u, nil
	}
	n, err := asInt64(v)
	return uint64(n), err
}

func asDecimal(v any) (decimal.Decimal, error) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, nil
	case []byte, string:
		return decimal.NewFromString(strings.TrimSpace(asString(v)))
	case float64:
		return decimal.NewFromFloat(x), nil
	case float32:
		return decimal.NewFromFloat32(x), nil
	}
	n, err := asInt64(v)
	return decimal.NewFromInt(n), err
}

// ---- temporal helpers ----

// atoiN parses a run of digits.
func atoiN(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseDateText parses "YYYY-MM-DD".
func parseDateText(s string) (y, m, d int64, err error) {
	parts := strings.SplitN(s, "-", 3)
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("bad date %q", s)
	}
	var ok1, ok2, ok3 bool
	y, ok1 = atoiN(parts[0])
	m, ok2 = atoiN(parts[1])
	d, ok3 = atoiN(parts[2])
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, fmt.Errorf("bad date %q", s)
	}
	if m == 0 || d == 0 {
		return 0, 0, 0, errZeroDate
	}
	return y, m, d, nil
}

// parseDate returns days since the epoch.
func parseDate(v any) (int64, error) {
	if t, ok := v.(time.Time); ok {
		y, m, d := t.Date()
		return schema.DaysFromCivil(int64(y), int64(m), int64(d)), nil
	}
	y, m, d, err := parseDateText(strings.TrimSpace(asString(v)))
	if err != nil {
		return 0, err
	}
	return schema.DaysFromCivil(y, m, d), nil
}

// parseFraction turns "123" into microseconds (123000).
func parseFraction(s string) (int64, bool) {
	if len(s) > 6 {
		s = s[:6]
	}
	n, ok := atoiN(s)
	if !ok {
		return 0, false
	}
	for i := len(s); i < 6; i++ {
		n *= 10
	}
	return n, true
}

// parseTime parses a TIME value "[-]H+:MM:SS[.ffffff]" into microseconds.
func parseTime(v any) (int64, error) {
	if d, ok := v.(time.Duration); ok {
		return d.Microseconds(), nil
	}
	s := strings.TrimSpace(asString(v))
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	frac := int64(0)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		f, ok := parseFraction(s[i+1:])
		if !ok {
			return 0, fmt.Errorf("bad time %q", v)
		}
		frac = f
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("bad time %q", v)
	}
	h, ok1 := atoiN(parts[0])
	m, ok2 := atoiN(parts[1])
	sec, ok3 := atoiN(parts[2])
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("bad time %q", v)
	}
	us := ((h*60+m)*60+sec)*1_000_000 + frac
	if neg {
		us = -us
	}
	return us, nil
}

// parseDateTime returns microseconds since the epoch for a DATETIME or
// TIMESTAMP value (time.Time from the binlog, "YYYY-MM-DD HH:MM:SS[.f]" text
// from the snapshot or for values go-mysql leaves as text). Wall-clock values
// are taken as UTC.
func parseDateTime(v any) (int64, error) {
	if t, ok := v.(time.Time); ok {
		return t.UnixMicro(), nil
	}
	s := strings.TrimSpace(asString(v))
	datePart, timePart, _ := strings.Cut(s, " ")
	if timePart == "" {
		datePart, timePart, _ = strings.Cut(s, "T")
	}
	y, m, d, err := parseDateText(datePart)
	if err != nil {
		return 0, err
	}
	us := int64(0)
	if timePart != "" {
		us, err = parseTime(timePart)
		if err != nil {
			return 0, err
		}
	}
	return schema.DaysFromCivil(y, m, d)*86_400_000_000 + us, nil
}

// formatZoned renders io.debezium.time.ZonedTimestamp: ISO-8601 in UTC with
// exactly fsp fraction digits.
func formatZoned(us int64, fsp int) string {
	days := schema.FloorDiv(us, 86_400_000_000)
	rem := us - days*86_400_000_000
	y, m, d := schema.CivilFromDays(days)
	secs := rem / 1_000_000
	frac := rem % 1_000_000
	b := make([]byte, 0, 32)
	b = appendPadded(b, y, 4)
	b = append(b, '-')
	b = appendPadded(b, m, 2)
	b = append(b, '-')
	b = appendPadded(b, d, 2)
	b = append(b, 'T')
	b = appendPadded(b, secs/3600, 2)
	b = append(b, ':')
	b = appendPadded(b, secs/60%60, 2)
	b = append(b, ':')
	b = appendPadded(b, secs%60, 2)
	if fsp > 0 {
		if fsp > 6 {
			fsp = 6
		}
		b = append(b, '.')
		f := appendPadded(nil, frac, 6)
		b = append(b, f[:fsp]...)
	}
	b = append(b, 'Z')
	return string(b)
}

func appendPadded(b []byte, n int64, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// defaultValue converts information_schema's COLUMN_DEFAULT into the schema
// default, as Debezium does: literals are converted like values; NULL and
// expressions give no default, except CURRENT_TIMESTAMP on NOT NULL
// temporal columns, which Debezium maps to the epoch.
func defaultValue(c *column, cv *converter) any {
	if c.defaultSQL == nil || c.autoInc || c.generated {
		return nil
	}
	raw := strings.TrimSpace(*c.defaultSQL)
	if raw == "" || strings.EqualFold(raw, "NULL") {
		return nil
	}
	var lit string
	switch {
	case strings.HasPrefix(raw, "'") && strings.HasSuffix(raw, "'") && len(raw) >= 2:
		lit = unquoteSQL(raw[1 : len(raw)-1])
	case isNumericLiteral(raw):
		lit = raw
	case strings.HasPrefix(strings.ToLower(raw), "current_timestamp") || strings.HasPrefix(strings.ToLower(raw), "now("):
		if c.nullable {
			return nil
		}
		switch c.kind {
		case kTimestamp, kDateTime:
			return cv.zero
		}
		return nil
	case strings.HasPrefix(raw, "b'") && strings.HasSuffix(raw, "'"):
		u, err := strconv.ParseUint(raw[2:len(raw)-1], 2, 64)
		if err != nil {
			return nil
		}
		v, err := cv.snap(int64(u))
		if err != nil {
			return nil
		}
		return v
	default:
		return nil
	}
	switch c.kind {
	case kGeometry, kPoint, kUnknown:
		return nil
	case kBits, kBool:
		u, err := strconv.ParseUint(lit, 10, 64)
		if err != nil {
			return nil
		}
		v, err := cv.snap(int64(u))
		if err != nil {
			return nil
		}
		return v
	}
	v, err := cv.snap([]byte(lit))
	if err == errZeroDate {
		return cv.zero
	}
	if err != nil {
		return nil
	}
	return v
}

func isNumericLiteral(s string) bool {
	if s == "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func unquoteSQL(s string) string {
	if !strings.ContainsAny(s, `'\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
