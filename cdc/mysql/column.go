package mysql

import (
	"strconv"
	"strings"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// kind is the normalized column type both the snapshot (information_schema)
// and the binlog (table map) paths resolve to, so they build identical
// schemas and values.
type kind uint8

const (
	kUnknown kind = iota
	kBool         // BIT(1)
	kBits         // BIT(n>1)
	kTiny
	kSmall
	kMedium
	kInt
	kBig
	kDecimal
	kFloat
	kDouble
	kString // CHAR, VARCHAR, *TEXT
	kBinary // BINARY, VARBINARY, *BLOB
	kJSON
	kEnum
	kSet
	kYear
	kDate
	kTime
	kDateTime
	kTimestamp
	kUUID
	kInet4
	kInet6
	kGeometry
	kPoint
)

// column describes one table column.
type column struct {
	name     string
	position int // 1-based
	kind     kind
	unsigned bool
	nullable bool

	precision int // DECIMAL precision
	scale     int // DECIMAL scale
	fsp       int // TIME/DATETIME/TIMESTAMP fractional digits
	length    int // BIT(n) bits, BINARY(n)/CHAR(n) length
	fixed     bool

	charset    string   // character set of string columns (utf8mb4, latin1, …)
	enumValues []string // ENUM/SET members

	// information_schema extras (empty when unknown).
	dataType   string // DATA_TYPE, lower case
	columnType string // COLUMN_TYPE
	defaultSQL *string
	autoInc    bool
	generated  bool
	comment    string
}

// infoColumn is a row of information_schema.COLUMNS.
type infoColumn struct {
	Name       string
	Position   int
	Default    *string
	Nullable   bool
	DataType   string
	ColumnType string
	CharMaxLen *int64
	NumPrec    *int64
	NumScale   *int64
	DTPrec     *int64
	Charset    *string
	Key        string
	Extra      string
	Comment    string
	JSONCheck  bool // MariaDB: CHECK (json_valid(col)) marks a JSON column
}

// columnFromInfo builds a column from information_schema alone (snapshot).
func columnFromInfo(ic infoColumn) column {
	c := column{
		name:       ic.Name,
		position:   ic.Position,
		nullable:   ic.Nullable,
		dataType:   strings.ToLower(ic.DataType),
		columnType: ic.ColumnType,
		defaultSQL: ic.Default,
		autoInc:    strings.Contains(strings.ToLower(ic.Extra), "auto_increment"),
		generated:  strings.Contains(strings.ToLower(ic.Extra), "generated") || strings.Contains(strings.ToLower(ic.Extra), "virtual") || strings.Contains(strings.ToLower(ic.Extra), "stored"),
		comment:    ic.Comment,
	}
	ct := strings.ToLower(ic.ColumnType)
	c.unsigned = strings.Contains(ct, "unsigned")
	if ic.Charset != nil {
		c.charset = *ic.Charset
	}
	i64 := func(p *int64) int {
		if p == nil {
			return 0
		}
		return int(*p)
	}
	switch c.dataType {
	case "bit":
		c.length = i64(ic.NumPrec)
		if c.length <= 1 {
			c.kind = kBool
		} else {
			c.kind = kBits
		}
	case "tinyint", "bool", "boolean":
		c.kind = kTiny
	case "smallint":
		c.kind = kSmall
	case "mediumint":
		c.kind = kMedium
	case "int", "integer":
		c.kind = kInt
	case "bigint":
		c.kind = kBig
	case "decimal", "numeric", "dec", "fixed":
		c.kind = kDecimal
		c.precision = i64(ic.NumPrec)
		c.scale = i64(ic.NumScale)
	case "float":
		c.kind = kFloat
	case "double", "real", "double precision":
		c.kind = kDouble
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		c.kind = kString
		c.length = i64(ic.CharMaxLen)
		c.fixed = c.dataType == "char"
		if ic.JSONCheck {
			c.kind = kJSON
		}
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		c.kind = kBinary
		c.length = i64(ic.CharMaxLen)
		c.fixed = c.dataType == "binary"
	case "json":
		c.kind = kJSON
	case "enum":
		c.kind = kEnum
		c.enumValues = parseEnumValues(ic.ColumnType)
	case "set":
		c.kind = kSet
		c.enumValues = parseEnumValues(ic.ColumnType)
	case "year":
		c.kind = kYear
	case "date":
		c.kind = kDate
	case "time":
		c.kind = kTime
		c.fsp = i64(ic.DTPrec)
	case "datetime":
		c.kind = kDateTime
		c.fsp = i64(ic.DTPrec)
	case "timestamp":
		c.kind = kTimestamp
		c.fsp = i64(ic.DTPrec)
	case "uuid":
		c.kind = kUUID
	case "inet4":
		c.kind = kInet4
	case "inet6":
		c.kind = kInet6
	case "point":
		c.kind = kPoint
	case "geometry", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		c.kind = kGeometry
	default:
		c.kind = kUnknown
	}
	return c
}

// tableMapColumns derives the columns of a table from a table-map event
// (binlog_row_metadata=FULL), refined by information_schema extras matched by
// column name. charsets maps collation ids to character-set names.
func tableMapColumns(tm *replication.TableMapEvent, extras map[string]*infoColumn, charsets map[uint64]string) ([]column, error) {
	names := tm.ColumnNameString()
	n := int(tm.ColumnCount)
	unsigned := tm.UnsignedMap()
	collations := tm.CollationMap()
	enums := tm.EnumStrValueMap()
	sets := tm.SetStrValueMap()
	geoms := tm.GeometryTypeMap()
	cols := make([]column, n)
	for i := 0; i < n; i++ {
		c := &cols[i]
		c.name = names[i]
		c.position = i + 1
		_, c.nullable = tm.Nullable(i)
		c.unsigned = unsigned[i]
		t := tm.ColumnType[i]
		meta := tm.ColumnMeta[i]
		if t == gmysql.MYSQL_TYPE_STRING && meta >= 256 {
			rt := byte(meta >> 8)
			if rt == gmysql.MYSQL_TYPE_ENUM || rt == gmysql.MYSQL_TYPE_SET {
				t = rt
			}
		}
		binary := false
		if coll, ok := collations[i]; ok {
			c.charset = charsets[coll]
			binary = coll == 63
		}
		switch t {
		case gmysql.MYSQL_TYPE_TINY:
			c.kind = kTiny
		case gmysql.MYSQL_TYPE_SHORT:
			c.kind = kSmall
		case gmysql.MYSQL_TYPE_INT24:
			c.kind = kMedium
		case gmysql.MYSQL_TYPE_LONG:
			c.kind = kInt
		case gmysql.MYSQL_TYPE_LONGLONG:
			c.kind = kBig
		case gmysql.MYSQL_TYPE_NEWDECIMAL, gmysql.MYSQL_TYPE_DECIMAL:
			c.kind = kDecimal
			c.precision = int(meta >> 8)
			c.scale = int(meta & 0xff)
		case gmysql.MYSQL_TYPE_FLOAT:
			c.kind = kFloat
		case gmysql.MYSQL_TYPE_DOUBLE:
			c.kind = kDouble
		case gmysql.MYSQL_TYPE_BIT:
			c.length = int(meta>>8)*8 + int(meta&0xff)
			if c.length <= 1 {
				c.kind = kBool
			} else {
				c.kind = kBits
			}
		case gmysql.MYSQL_TYPE_YEAR:
			c.kind = kYear
		case gmysql.MYSQL_TYPE_DATE, gmysql.MYSQL_TYPE_NEWDATE:
			c.kind = kDate
		case gmysql.MYSQL_TYPE_TIME, gmysql.MYSQL_TYPE_TIME2:
			c.kind = kTime
			c.fsp = int(meta)
		case gmysql.MYSQL_TYPE_DATETIME, gmysql.MYSQL_TYPE_DATETIME2:
			c.kind = kDateTime
			c.fsp = int(meta)
		case gmysql.MYSQL_TYPE_TIMESTAMP, gmysql.MYSQL_TYPE_TIMESTAMP2:
			c.kind = kTimestamp
			c.fsp = int(meta)
		case gmysql.MYSQL_TYPE_ENUM:
			c.kind = kEnum
			c.enumValues = enums[i]
		case gmysql.MYSQL_TYPE_SET:
			c.kind = kSet
			c.enumValues = sets[i]
		case gmysql.MYSQL_TYPE_VARCHAR, gmysql.MYSQL_TYPE_VAR_STRING:
			if binary {
				c.kind = kBinary
			} else {
				c.kind = kString
			}
		case gmysql.MYSQL_TYPE_STRING:
			c.fixed = true
			// meta: real type and max byte length (10 bits).
			if meta >= 256 {
				b0, b1 := meta>>8, meta&0xff
				if b0&0x30 != 0x30 {
					c.length = int(b1 | ((b0&0x30)^0x30)<<4)
				} else {
					c.length = int(b1)
				}
			} else {
				c.length = int(meta)
			}
			if binary {
				c.kind = kBinary
			} else {
				c.kind = kString
				c.length = 0 // byte length, not characters; filled from information_schema
			}
		case gmysql.MYSQL_TYPE_BLOB, gmysql.MYSQL_TYPE_TINY_BLOB, gmysql.MYSQL_TYPE_MEDIUM_BLOB, gmysql.MYSQL_TYPE_LONG_BLOB:
			if binary {
				c.kind = kBinary
			} else {
				c.kind = kString
			}
		case gmysql.MYSQL_TYPE_JSON:
			c.kind = kJSON
		case gmysql.MYSQL_TYPE_GEOMETRY:
			c.kind = kGeometry
			if g, ok := geoms[i]; ok && g == 1 {
				c.kind = kPoint
			}
		default:
			c.kind = kUnknown
		}
		// information_schema refines what the table map cannot say.
		if ic := extras[c.name]; ic != nil {
			ext := columnFromInfo(*ic)
			c.dataType, c.columnType = ext.dataType, ext.columnType
			c.defaultSQL, c.autoInc, c.generated, c.comment = ext.defaultSQL, ext.autoInc, ext.generated, ext.comment
			if c.charset == "" {
				c.charset = ext.charset
			}
			switch {
			case ext.kind == kUUID || ext.kind == kInet4 || ext.kind == kInet6:
				if c.kind == kBinary || c.kind == kString {
					c.kind = ext.kind
				}
			case ext.kind == kJSON && c.kind == kString:
				c.kind = kJSON
			case ext.kind == kPoint && c.kind == kGeometry:
				c.kind = kPoint
			case ext.kind == kString && c.kind == kString:
				c.length = ext.length
			case ext.kind == kFloat && c.kind == kFloat, ext.kind == c.kind && c.kind == kBinary:
				if ext.length > 0 {
					c.length = ext.length
				}
			}
			if ext.kind == kUnknown && c.kind == kUnknown {
				c.dataType = ext.dataType
			}
		}
		if c.dataType == "" {
			c.dataType, c.columnType = syntheticType(c)
		}
	}
	return cols, nil
}

// syntheticType names a column type when information_schema has no entry
// (e.g. the column was dropped since the event was written).
func syntheticType(c *column) (string, string) {
	u := ""
	if c.unsigned {
		u = " unsigned"
	}
	switch c.kind {
	case kBool, kBits:
		return "bit", "bit(" + strconv.Itoa(c.length) + ")"
	case kTiny:
		return "tinyint", "tinyint" + u
	case kSmall:
		return "smallint", "smallint" + u
	case kMedium:
		return "mediumint", "mediumint" + u
	case kInt:
		return "int", "int" + u
	case kBig:
		return "bigint", "bigint" + u
	case kDecimal:
		return "decimal", "decimal(" + strconv.Itoa(c.precision) + "," + strconv.Itoa(c.scale) + ")" + u
	case kFloat:
		return "float", "float"
	case kDouble:
		return "double", "double"
	case kString:
		return "varchar", "varchar"
	case kBinary:
		return "varbinary", "varbinary"
	case kJSON:
		return "json", "json"
	case kEnum:
		return "enum", "enum"
	case kSet:
		return "set", "set"
	case kYear:
		return "year", "year(4)"
	case kDate:
		return "date", "date"
	case kTime:
		return "time", "time(" + strconv.Itoa(c.fsp) + ")"
	case kDateTime:
		return "datetime", "datetime(" + strconv.Itoa(c.fsp) + ")"
	case kTimestamp:
		return "timestamp", "timestamp(" + strconv.Itoa(c.fsp) + ")"
	case kGeometry:
		return "geometry", "geometry"
	case kPoint:
		return "point", "point"
	}
	return "unknown", "unknown"
}

// parseEnumValues extracts the members of enum('a','b”c') / set(...).
func parseEnumValues(columnType string) []string {
	open := strings.IndexByte(columnType, '(')
	end := strings.LastIndexByte(columnType, ')')
	if open < 0 || end <= open {
		return nil
	}
	s := columnType[open+1 : end]
	var out []string
	for i := 0; i < len(s); {
		if s[i] != '\'' {
			i++
			continue
		}
		var b strings.Builder
		i++
		for i < len(s) {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				i++
				break
			}
			if s[i] == '\\' && i+1 < len(s) {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			b.WriteByte(s[i])
			i++
		}
		out = append(out, b.String())
	}
	return out
}

// typeName is the upper-case type name Debezium puts in schema-change
// events (e.g. "INT UNSIGNED", "VARCHAR").
func (c *column) typeName() string {
	t := strings.ToUpper(c.dataType)
	if c.unsigned && !strings.Contains(t, "UNSIGNED") {
		t += " UNSIGNED"
	}
	return t
}
