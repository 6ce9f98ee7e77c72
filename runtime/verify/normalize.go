package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// class says how a column's values are normalized and compared.
type class int

const (
	classText class = iota
	classChar       // fixed-length CHAR: trailing blanks dropped
	classInt
	classBool
	classBit
	classDecimal
	classFloat32
	classFloat64
	classTimestamp
	classDate
	classTime
	classBytes
	classJSON
	classUUID
	classOther // anything else: its text form
)

// textOrdered says whether keys of the class are ordered by their bytes.
func (c class) textOrdered() bool {
	switch c {
	case classText, classChar, classJSON, classUUID, classOther:
		return true
	}
	return false
}

// numeric says whether keys of the class compare as numbers.
func (c class) numeric() bool {
	switch c {
	case classInt, classBool, classBit, classDecimal, classFloat32, classFloat64:
		return true
	}
	return false
}

// classify maps a catalog type to a class. typ is the full type
// (COLUMN_TYPE / format_type), base the bare name (DATA_TYPE / typname).
func classify(f flavor, typ, base string) class {
	base = strings.ToLower(strings.TrimSpace(base))
	typ = strings.ToLower(typ)
	switch base {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year",
		"int2", "int4", "int8", "serial", "bigserial", "smallserial", "oid":
		return classInt
	case "bool", "boolean":
		return classBool
	case "bit":
		if f == flavorMySQL {
			return classBit
		}
		return classText // PostgreSQL bit strings print as 0/1 text
	case "decimal", "numeric", "dec", "fixed", "money":
		return classDecimal
	case "float", "real", "float4":
		if f == flavorMySQL && strings.HasPrefix(typ, "float(") {
			// FLOAT(p) with p > 24 is a DOUBLE.
			var p int
			fmt.Sscanf(typ, "float(%d", &p)
			if p > 24 {
				return classFloat64
			}
		}
		return classFloat32
	case "double", "double precision", "float8":
		return classFloat64
	case "datetime", "timestamp", "timestamptz":
		return classTimestamp
	case "date":
		return classDate
	case "time", "timetz":
		return classTime
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bytea":
		return classBytes
	case "json", "jsonb":
		return classJSON
	case "uuid":
		return classUUID
	case "char", "bpchar", "character", "nchar":
		return classChar
	case "varchar", "text", "tinytext", "mediumtext", "longtext", "enum", "set", "name",
		"character varying", "citext", "nvarchar", "inet4", "inet6", "inet", "cidr", "xml":
		return classText
	}
	return classOther
}

// pairClass is the class a column pair is normalized with, from the classes
// of the source and target columns.
func pairClass(a, b class) class {
	if a == b {
		return a
	}
	has := func(c class) bool { return a == c || b == c }
	other := func(c class) class {
		if a == c {
			return b
		}
		return a
	}
	switch {
	case has(classFloat32):
		return classFloat32
	case has(classFloat64):
		return classFloat64
	case has(classDecimal) && (other(classDecimal) == classInt || other(classDecimal) == classBool || other(classDecimal) == classBit):
		return classDecimal
	case (a == classInt || a == classBool || a == classBit) && (b == classInt || b == classBool || b == classBit):
		return classInt
	case has(classTimestamp) && (other(classTimestamp) == classDate):
		return classTimestamp
	case has(classText) || has(classChar) || has(classOther):
		// A string on one side (a Debezium ZonedTimestamp, JSON or UUID kept
		// as text): normalize both as the typed side.
		o := a
		if o == classText || o == classChar || o == classOther {
			o = b
		}
		if o == classText || o == classChar || o == classOther {
			if has(classChar) {
				return classChar // CHAR padding is not data
			}
			return classText
		}
		return o
	}
	return a
}

// value is a normalized value: text, or null.
type value struct {
	s    string
	null bool
}

func (v value) String() string {
	if v.null {
		return "NULL"
	}
	return strconv.Quote(v.s)
}

// normalize turns a scanned value into its canonical text for class c.
// Values that do not parse as c keep their plain text form, so a
// difference still shows (and compares unequal) rather than failing.
func normalize(v any, c class) value {
	if v == nil {
		return value{null: true}
	}
	switch c {
	case classInt, classBool, classBit:
		return value{s: normInt(v)}
	case classDecimal:
		return value{s: normDecimal(v)}
	case classFloat32:
		return value{s: normFloat(v, 6)}
	case classFloat64:
		return value{s: normFloat(v, 15)}
	case classTimestamp:
		return value{s: normTime(v, tsLayout)}
	case classDate:
		return value{s: normTime(v, "2006-01-02")}
	case classTime:
		return value{s: normTimeOfDay(v)}
	case classBytes:
		switch x := v.(type) {
		case []byte:
			return value{s: hex.EncodeToString(x)}
		case string:
			return value{s: hex.EncodeToString([]byte(x))}
		}
	case classJSON:
		return value{s: normJSON(text(v))}
	case classUUID:
		if b, ok := v.([16]byte); ok {
			return value{s: fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])}
		}
		return value{s: strings.ToLower(strings.TrimSpace(text(v)))}
	case classChar:
		return value{s: strings.TrimRight(text(v), " ")}
	}
	return value{s: text(v)}
}

// text is a value's plain text form.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(tsLayout)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func normInt(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int:
		return strconv.Itoa(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e18 {
			return strconv.FormatInt(int64(x), 10)
		}
	case []byte:
		s := string(x)
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return s
		}
		if _, err := strconv.ParseUint(s, 10, 64); err == nil {
			return s
		}
		// BIT(n) arrives as big-endian bytes.
		if len(x) <= 8 {
			return new(big.Int).SetBytes(x).String()
		}
	}
	s := strings.TrimSpace(text(v))
	switch strings.ToLower(s) {
	case "t", "true", "on", "yes", "y":
		return "1"
	case "f", "false", "off", "no", "n":
		return "0"
	}
	if d, err := decimal.NewFromString(s); err == nil {
		return d.String()
	}
	return s
}

func normDecimal(v any) string {
	var s string
	switch x := v.(type) {
	case float64:
		return decimal.NewFromFloat(x).String()
	case float32:
		return decimal.NewFromFloat32(x).String()
	case bool:
		return normInt(x)
	default:
		s = strings.TrimSpace(text(v))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return d.String() // no trailing zeros: 12.50 → 12.5, 3.000 → 3
}

func normFloat(v any, digits int) string {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int64:
		f = float64(x)
	case bool:
		return normInt(x)
	default:
		s := strings.TrimSpace(text(v))
		p, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return s
		}
		f = p
	}
	if f == 0 {
		return "0" // -0 = 0
	}
	p, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', digits, 64), 64)
	return strconv.FormatFloat(p, 'g', -1, 64)
}

// tsLayout is the canonical timestamp: UTC, fixed-width microseconds, so
// that keys compare in time order as strings.
const tsLayout = "2006-01-02 15:04:05.000000"

// timeLayouts are accepted for timestamps given as text.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func normTime(v any, layout string) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(layout)
	case int64:
		// Epoch milliseconds (Connect Timestamp as a number).
		return time.UnixMilli(x).UTC().Format(layout)
	}
	s := strings.TrimSpace(text(v))
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Format(layout)
		}
	}
	return s
}

func normTimeOfDay(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.Format("15:04:05.000000")
	case time.Duration:
		return durationText(x)
	case int64:
		// Microseconds since midnight (Debezium MicroTime).
		return durationText(time.Duration(x) * time.Microsecond)
	}
	s := strings.TrimSpace(text(v))
	// hh:mm:ss[.ffffff][+zz]; zone offsets are kept as given.
	zone := ""
	if i := strings.IndexAny(s, "+Z"); i > 0 {
		s, zone = s[:i], s[i:]
	} else if i := strings.LastIndexByte(s, '-'); i > 0 {
		s, zone = s[:i], s[i:]
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	frac := ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i+1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return text(v)
	}
	h, e1 := strconv.Atoi(parts[0])
	m, e2 := strconv.Atoi(parts[1])
	sec, e3 := strconv.Atoi(parts[2])
	if e1 != nil || e2 != nil || e3 != nil || len(frac) > 9 {
		return text(v)
	}
	frac = (frac + "000000000")[:6]
	out := fmt.Sprintf("%02d:%02d:%02d.%s", h, m, sec, frac)
	if neg {
		out = "-" + out
	}
	return out + zone
}

func durationText(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	us := d.Microseconds()
	out := fmt.Sprintf("%02d:%02d:%02d.%06d", us/3600e6, us/60e6%60, us/1e6%60, us%1e6)
	if neg {
		out = "-" + out
	}
	return out
}

// normJSON re-encodes JSON compactly with sorted object keys (json.Marshal
// sorts map keys) and numbers kept as written.
func normJSON(s string) string {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return s
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return s
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// compareKey compares two normalized key values of class c: numbers
// numerically, everything else by bytes.
func compareKey(a, b string, c class) int {
	if c.numeric() {
		da, ea := decimal.NewFromString(a)
		db, eb := decimal.NewFromString(b)
		if ea == nil && eb == nil {
			return da.Cmp(db)
		}
	}
	return strings.Compare(a, b)
}
