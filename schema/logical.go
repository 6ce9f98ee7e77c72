package schema

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Names of Connect's logical types.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal"
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"

	// DecimalScaleParam is the Decimal parameter holding the scale.
	DecimalScaleParam = "scale"
	// DecimalPrecisionParam is the parameter Debezium adds with the column precision.
	DecimalPrecisionParam = "connect.decimal.precision"
)

// Names of Debezium's semantic types. Their values are plain primitives.
const (
	DebeziumDate             = "io.debezium.time.Date"
	DebeziumTime             = "io.debezium.time.Time"
	DebeziumMicroTime        = "io.debezium.time.MicroTime"
	DebeziumNanoTime         = "io.debezium.time.NanoTime"
	DebeziumTimestamp        = "io.debezium.time.Timestamp"
	DebeziumMicroTimestamp   = "io.debezium.time.MicroTimestamp"
	DebeziumNanoTimestamp    = "io.debezium.time.NanoTimestamp"
	DebeziumZonedTimestamp   = "io.debezium.time.ZonedTimestamp"
	DebeziumZonedTime        = "io.debezium.time.ZonedTime"
	DebeziumYear             = "io.debezium.time.Year"
	DebeziumMicroDuration    = "io.debezium.time.MicroDuration"
	DebeziumInterval         = "io.debezium.time.Interval"
	DebeziumJSON             = "io.debezium.data.Json"
	DebeziumUUID             = "io.debezium.data.Uuid"
	DebeziumEnum             = "io.debezium.data.Enum"
	DebeziumEnumSet          = "io.debezium.data.EnumSet"
	DebeziumBits             = "io.debezium.data.Bits"
	DebeziumXML              = "io.debezium.data.Xml"
	DebeziumVariableScaleDec = "io.debezium.data.VariableScaleDecimal"
	DebeziumGeometry         = "io.debezium.data.geometry.Geometry"
	DebeziumPoint            = "io.debezium.data.geometry.Point"
	DebeziumLtree            = "io.debezium.data.Ltree"
)

// Logical describes how a Connect logical type maps to its base type.
type Logical struct {
	Name string
	Base Type
	// Accepts reports whether v is a Go value of this logical type.
	Accepts func(v any) bool
}

func isTime(v any) bool    { _, ok := v.(time.Time); return ok }
func isDecimal(v any) bool { _, ok := v.(decimal.Decimal); return ok }

var logicals = map[string]*Logical{
	DecimalName:   {DecimalName, TypeBytes, isDecimal},
	DateName:      {DateName, TypeInt32, isTime},
	TimeName:      {TimeName, TypeInt32, isTime},
	TimestampName: {TimestampName, TypeInt64, isTime},
}

// LogicalOf returns the Connect logical type of s, or nil when s is not one
// (Debezium's semantic types are not logical types in this sense).
func LogicalOf(s *Schema) *Logical {
	if s == nil || s.Name == "" {
		return nil
	}
	l := logicals[s.Name]
	if l == nil || l.Base != s.Type {
		return nil
	}
	return l
}

// DecimalSchema returns a Decimal schema with the given scale, as Connect's
// Decimal.builder(scale). precision > 0 adds Debezium's precision parameter.
func DecimalSchema(scale, precision int, optional bool) *Schema {
	b := NewBuilder(TypeBytes).Name(DecimalName).Version(1).Param(DecimalScaleParam, strconv.Itoa(scale))
	if precision > 0 {
		b.Param(DecimalPrecisionParam, strconv.Itoa(precision))
	}
	return b.SetOptional(optional).Build()
}

// DecimalScale returns the scale parameter of a Decimal schema.
func DecimalScale(s *Schema) (int32, error) {
	v, ok := s.Param(DecimalScaleParam)
	if !ok {
		return 0, fmt.Errorf("decimal schema %s has no %q parameter", s, DecimalScaleParam)
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("decimal schema %s: bad scale %q: %w", s, v, err)
	}
	return int32(n), nil
}

// DateSchema returns Connect's Date logical schema.
func DateSchema(optional bool) *Schema {
	return &Schema{Type: TypeInt32, Name: DateName, Version: 1, Optional: optional}
}

// TimeSchema returns Connect's Time logical schema (ms since midnight).
func TimeSchema(optional bool) *Schema {
	return &Schema{Type: TypeInt32, Name: TimeName, Version: 1, Optional: optional}
}

// TimestampSchema returns Connect's Timestamp logical schema (ms since epoch).
func TimestampSchema(optional bool) *Schema {
	return &Schema{Type: TypeInt64, Name: TimestampName, Version: 1, Optional: optional}
}

// DecimalToUnscaled returns the unscaled big-endian two's-complement bytes of d
// at the given scale, minimal length, as Java's BigInteger.toByteArray.
func DecimalToUnscaled(d decimal.Decimal, scale int32) []byte {
	unscaled := d.Shift(scale).Round(0).BigInt()
	return TwosComplement(unscaled)
}

// DecimalFromUnscaled builds a decimal from unscaled two's-complement bytes.
func DecimalFromUnscaled(b []byte, scale int32) decimal.Decimal {
	return decimal.NewFromBigInt(FromTwosComplement(b), -scale)
}

// TwosComplement encodes n as minimal big-endian two's complement.
func TwosComplement(n *big.Int) []byte {
	switch n.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := n.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// negative: 2^(8*len) + n with enough bytes for the sign bit.
	l := (n.BitLen() + 8) / 8
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*l))
	m.Add(m, n)
	b := m.Bytes()
	for len(b) < l {
		b = append([]byte{0}, b...)
	}
	// drop redundant leading 0xff bytes
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

// FromTwosComplement decodes big-endian two's complement bytes.
func FromTwosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

const msPerDay = 24 * 60 * 60 * 1000

// DateToDays returns days since the epoch for a Date value.
func DateToDays(t time.Time) int32 {
	return int32(FloorDiv(t.UTC().UnixMilli(), msPerDay))
}

// DaysToDate returns the Date value for days since the epoch.
func DaysToDate(days int32) time.Time {
	return time.UnixMilli(int64(days) * msPerDay).UTC()
}

// TimeToMillis returns milliseconds since midnight for a Time value. A
// value on 1970-01-01 or exactly 1970-01-02T00:00Z (PostgreSQL's
// '24:00:00') is its epoch milliseconds, 0 to 86400000, as Connect's
// Time.fromLogical gives them; other dates keep their time of day.
func TimeToMillis(t time.Time) int32 {
	if ms := t.UnixMilli(); ms >= 0 && ms <= msPerDay {
		return int32(ms)
	}
	t = t.UTC()
	return int32(t.Hour()*3600000 + t.Minute()*60000 + t.Second()*1000 + t.Nanosecond()/1e6)
}

// MillisToTime returns the Time value (on 1970-01-01 UTC) for ms since midnight.
func MillisToTime(ms int32) time.Time { return time.UnixMilli(int64(ms)).UTC() }

// FloorDiv is a/b rounded towards negative infinity (Java's Math.floorDiv),
// for splitting instants before the epoch into days and time of day.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// DaysFromCivil returns days since 1970-01-01 of a proleptic Gregorian date
// (astronomical year numbering: 1 BC is year 0), for any int64 year, also
// beyond time.Time's range (Howard Hinnant's days_from_civil).
func DaysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := FloorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := FloorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
