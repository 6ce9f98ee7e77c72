package source

import (
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// kind is the Connect type a column converts to.
type kind uint8

const (
	kSkip kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kFloat32
	kFloat64
	kBool
	kString
	kBytes
	kDecimal
	kDate
	kTime
	kTimestamp
)

// colDesc describes one result-set column and how its values convert.
type colDesc struct {
	Name     string
	DBType   string
	Kind     kind
	Scale    int32
	Optional bool
	zoneLess bool // DATETIME / timestamp without time zone / DATE / TIME: wall clock in db.timezone
	Schema   *schema.Schema
}

// resultColumns derives column descriptors from result-set metadata, as
// Confluent's dialects do from ResultSetMetaData (spec §1.7). nullable
// gives catalog nullability by column name when the driver does not report
// it (PostgreSQL); nil means unknown (optional).
func resultColumns(d flavorSQL, cts []*sql.ColumnType, numericMapping, granularity string, nullable map[string]bool, log *slog.Logger) []colDesc {
	out := make([]colDesc, len(cts))
	for i, ct := range cts {
		c := colDesc{Name: ct.Name(), DBType: strings.ToUpper(ct.DatabaseTypeName())}
		if n, ok := ct.Nullable(); ok {
			c.Optional = n
		} else if n, ok := nullable[c.Name]; ok {
			c.Optional = n
		} else {
			c.Optional = true
		}
		prec, scale, hasDec := ct.DecimalSize()
		d.kind(&c, prec, scale, hasDec, numericMapping)
		if c.Kind == kSkip {
			if log != nil {
				log.Warn("JDBC source: column type not supported, column skipped", "column", c.Name, "type", c.DBType)
			}
		}
		c.Schema = c.schema(granularity)
		out[i] = c
	}
	return out
}

// numericKind applies numeric.mapping to NUMERIC(p,s) (spec §1.7). p = 0
// means unknown precision (NUMERIC without typmod): always Decimal.
func (c *colDesc) numericKind(p, s int64, mapping string) {
	const maxIntPrecision = 18
	intByPrecision := func() kind {
		switch {
		case p > 9:
			return kInt64
		case p > 4:
			return kInt32
		case p > 2:
			return kInt16
		}
		return kInt8
	}
	if p > 0 {
		switch mapping {
		case NumericPrecisionOnly:
			if s == 0 && p <= maxIntPrecision {
				c.Kind = intByPrecision()
				return
			}
		case NumericBestFit:
			if p <= maxIntPrecision {
				if s < 1 && s >= -84 {
					c.Kind = intByPrecision()
					return
				}
				if s > 0 {
					c.Kind = kFloat64
					return
				}
			}
		case NumericBestFitEagerDouble:
			if s < 1 && s >= -84 && p <= maxIntPrecision {
				c.Kind = intByPrecision()
				return
			}
			if s > 0 {
				c.Kind = kFloat64
				return
			}
		}
	}
	c.Kind, c.Scale = kDecimal, int32(s)
	c.setPrecision(p, p > 0)
}

// precision is kept for the connect.decimal.precision parameter.
func (c *colDesc) setPrecision(p int64, ok bool) {
	if ok && p > 0 {
		c.DBType += "(" + strconv.FormatInt(p, 10) + ")"
	}
}

func (c *colDesc) precision() int {
	if i := strings.LastIndexByte(c.DBType, '('); i >= 0 {
		n, _ := strconv.Atoi(strings.TrimSuffix(c.DBType[i+1:], ")"))
		return n
	}
	return 0
}

func pick(cond bool, a, b kind) kind {
	if cond {
		return a
	}
	return b
}

func (c *colDesc) schema(granularity string) *schema.Schema {
	o := c.Optional
	switch c.Kind {
	case kInt8:
		return pickSchema(o, schema.OptionalInt8, schema.Int8Schema)
	case kInt16:
		return pickSchema(o, schema.OptionalInt16, schema.Int16Schema)
	case kInt32:
		return pickSchema(o, schema.OptionalInt32, schema.Int32Schema)
	case kInt64:
		return pickSchema(o, schema.OptionalInt64, schema.Int64Schema)
	case kFloat32:
		return pickSchema(o, schema.OptionalFloat32, schema.Float32Schema)
	case kFloat64:
		return pickSchema(o, schema.OptionalFloat64, schema.Float64Schema)
	case kBool:
		return pickSchema(o, schema.OptionalBoolean, schema.BooleanSchema)
	case kString:
		return pickSchema(o, schema.OptionalString, schema.StringSchema)
	case kBytes:
		return pickSchema(o, schema.OptionalBytes, schema.BytesSchema)
	case kDecimal:
		return schema.DecimalSchema(int(c.Scale), c.precision(), o)
	case kDate:
		return schema.DateSchema(o)
	case kTime:
		return schema.TimeSchema(o)
	case kTimestamp:
		switch granularity {
		case "micros_long", "nanos_long":
			return pickSchema(o, schema.OptionalInt64, schema.Int64Schema)
		case "micros_string", "nanos_string", "micros_iso_datetime_string", "nanos_iso_datetime_string":
			return pickSchema(o, schema.OptionalString, schema.StringSchema)
		}
		return schema.TimestampSchema(o)
	}
	return nil
}

func pickSchema(o bool, opt, req *schema.Schema) *schema.Schema {
	if o {
		return opt
	}
	return req
}

// signature identifies a result-set shape, to reuse schemas across queries.
func signature(cols []colDesc) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, "%s\x00%s\x00%d\x00%d\x00%t\x01", c.Name, c.DBType, c.Kind, c.Scale, c.Optional)
	}
	return b.String()
}

// converter turns driver values into Connect values.
type converter struct {
	d           dialect
	granularity string
}

// instant converts a driver value of a timestamp/date column to an instant.
func (cv converter) instant(c *colDesc, v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		if c.zoneLess {
			return cv.d.wallToInstant(x), nil
		}
		return x.UTC(), nil
	case []byte:
		return cv.parseTimestamp(c, string(x))
	case string:
		return cv.parseTimestamp(c, x)
	}
	return time.Time{}, fmt.Errorf("column %q: cannot read %T as a timestamp", c.Name, v)
}

func (cv converter) parseTimestamp(c *colDesc, s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return cv.d.wallToInstant(t), nil
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("column %q: cannot parse %q as a timestamp", c.Name, s)
}

// value converts one driver value for column c.
func (cv converter) value(c *colDesc, v any) (any, error) {
	if v == nil {
		if !c.Optional {
			return nil, fmt.Errorf("column %q is NULL but the column is declared NOT NULL", c.Name)
		}
		return nil, nil
	}
	switch c.Kind {
	case kInt8, kInt16, kInt32, kInt64:
		n, err := toInt64(v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		switch c.Kind {
		case kInt8:
			if b, ok := v.([]byte); ok && c.DBType == "BIT" && len(b) > 0 {
				return int8(b[len(b)-1]), nil
			}
			return int8(n), nil
		case kInt16:
			return int16(n), nil
		case kInt32:
			return int32(n), nil
		}
		return n, nil
	case kFloat32, kFloat64:
		f, err := toFloat64(v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		if c.Kind == kFloat32 {
			return float32(f), nil
		}
		return f, nil
	case kBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case []byte:
			return parseBool(string(x)), nil
		case string:
			return parseBool(x), nil
		}
		return nil, fmt.Errorf("column %q: cannot read %T as boolean", c.Name, v)
	case kString:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case time.Time:
			return x.Format(time.RFC3339Nano), nil
		}
		return fmt.Sprint(v), nil
	case kBytes:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
		return nil, fmt.Errorf("column %q: cannot read %T as bytes", c.Name, v)
	case kDecimal:
		d, err := toDecimal(v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		if c.Scale >= 0 && -d.Exponent() > c.Scale && !d.Equal(d.Round(c.Scale)) {
			return nil, fmt.Errorf("column %q: value %s has more decimal places than the column's scale %d", c.Name, d, c.Scale)
		}
		return d, nil
	case kDate:
		switch x := v.(type) {
		case time.Time:
			return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC), nil
		case int64: // YEAR
			return time.Date(int(x), 1, 1, 0, 0, 0, 0, time.UTC), nil
		case []byte, string:
			s := asString(x)
			if len(s) == 4 { // YEAR
				y, err := strconv.Atoi(s)
				if err == nil {
					return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), nil
				}
			}
			t, err := time.Parse("2006-01-02", s)
			if err != nil {
				return nil, fmt.Errorf("column %q: cannot parse %q as a date", c.Name, s)
			}
			return t, nil
		}
		return nil, fmt.Errorf("column %q: cannot read %T as a date", c.Name, v)
	case kTime:
		return parseTimeOfDay(c, v)
	case kTimestamp:
		t, err := cv.instant(c, v)
		if err != nil {
			return nil, err
		}
		return cv.timestampValue(t), nil
	}
	return nil, nil
}

// timestampValue applies timestamp.granularity.
func (cv converter) timestampValue(t time.Time) any {
	switch cv.granularity {
	case "micros_long":
		return t.UnixMicro()
	case "nanos_long":
		return t.UnixNano()
	case "micros_string":
		return strconv.FormatInt(t.UnixMicro(), 10)
	case "nanos_string":
		return strconv.FormatInt(t.UnixNano(), 10)
	case "micros_iso_datetime_string":
		return t.In(cv.d.zone).Format("2006-01-02T15:04:05.000000")
	case "nanos_iso_datetime_string":
		return t.In(cv.d.zone).Format("2006-01-02T15:04:05.000000000")
	}
	return t
}

func parseTimeOfDay(c *colDesc, v any) (any, error) {
	var s string
	switch x := v.(type) {
	case time.Time:
		return time.Date(1970, 1, 1, x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC), nil
	case []byte:
		s = string(x)
	case string:
		s = x
	default:
		return nil, fmt.Errorf("column %q: cannot read %T as a time", c.Name, v)
	}
	// HH:MM:SS[.ffffff][±zz[:zz]] (timetz keeps its wall clock, as JDBC's getTime).
	if i := strings.IndexAny(s, "+-"); i > 0 {
		s = s[:i]
	}
	neg := strings.HasPrefix(s, "-")
	parts := strings.SplitN(strings.TrimPrefix(s, "-"), ":", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("column %q: cannot parse %q as a time", c.Name, s)
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("column %q: cannot parse %q as a time", c.Name, s)
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(math.Round(sec*1e6))*time.Microsecond
	if neg {
		d = -d
	}
	return time.Unix(0, 0).UTC().Add(d), nil
}

func parseBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "y", "yes", "on", "\x01":
		return true
	}
	return false
}

func asString(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("value %d does not fit in a signed 64-bit integer", x)
		}
		return int64(x), nil
	case float64:
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case decimal.Decimal:
		return x.IntPart(), nil
	case []byte, string:
		s := asString(x)
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return n, nil
		}
		if d, derr := decimal.NewFromString(s); derr == nil && d.Equal(d.Truncate(0)) {
			if !d.BigInt().IsInt64() {
				return 0, fmt.Errorf("value %s does not fit in a signed 64-bit integer", s)
			}
			return d.IntPart(), nil
		}
		if b, ok := x.([]byte); ok && len(b) <= 8 { // BIT(n)
			var n int64
			for _, c := range b {
				n = n<<8 | int64(c)
			}
			return n, nil
		}
		return 0, fmt.Errorf("cannot parse %q as an integer", s)
	}
	return 0, fmt.Errorf("cannot read %T as an integer", v)
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case decimal.Decimal:
		f, _ := x.Float64()
		return f, nil
	case []byte, string:
		s := asString(x)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse %q as a number", s)
		}
		return f, nil
	}
	return 0, fmt.Errorf("cannot read %T as a number", v)
}

func toDecimal(v any) (decimal.Decimal, error) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, nil
	case int64:
		return decimal.NewFromInt(x), nil
	case float64:
		return decimal.NewFromFloat(x), nil
	case []byte, string:
		s := asString(x)
		d, err := decimal.NewFromString(s)
		if err != nil {
			return decimal.Decimal{}, fmt.Errorf("cannot parse %q as a decimal (NaN and infinities have no Decimal value)", s)
		}
		return d, nil
	}
	return decimal.Decimal{}, fmt.Errorf("cannot read %T as a decimal", v)
}
