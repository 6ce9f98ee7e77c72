package mysql

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// ddlChange is one table a DDL statement touches.
type ddlChange struct {
	kind    string // CREATE, ALTER, DROP
	db      string
	table   string // "" for database-level statements
	oldDB   string // RENAME: previous name
	oldName string
}

var (
	commentRe = regexp.MustCompile(`(?s)/\*.*?\*/|--[^\n]*|#[^\n]*`)
	identRe   = `(?:` + "`(?:[^`]|``)+`" + `|[A-Za-z0-9_$\x80-\xff]+)`
	qualRe    = identRe + `(?:\s*\.\s*` + identRe + `)?`

	createTableRe = regexp.MustCompile(`(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(` + qualRe + `)`)
	alterTableRe  = regexp.MustCompile(`(?is)^ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\s+(?:IF\s+EXISTS\s+)?(` + qualRe + `)(.*)$`)
	dropTableRe   = regexp.MustCompile(`(?is)^DROP\s+(?:TEMPORARY\s+)?TABLES?\s+(?:IF\s+EXISTS\s+)?(.*?)(?:\s+(?:RESTRICT|CASCADE))?\s*$`)
	renameTableRe = regexp.MustCompile(`(?is)^RENAME\s+TABLES?\s+(.*)$`)
	truncateRe    = regexp.MustCompile(`(?is)^TRUNCATE\s+(?:TABLE\s+)?(` + qualRe + `)`)
	indexRe       = regexp.MustCompile(`(?is)^(?:CREATE|DROP)\s+(?:ONLINE\s+|OFFLINE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?` + identRe + `\s+ON\s+(` + qualRe + `)`)
	databaseRe    = regexp.MustCompile(`(?is)^(CREATE|DROP|ALTER)\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(` + identRe + `)?`)
	renameToRe    = regexp.MustCompile(`(?is)\bRENAME\s+(?:TO\s+|AS\s+)?(` + qualRe + `)\s*(?:,|$)`)
	identSplitRe  = regexp.MustCompile(identRe)
)

func unquoteIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// splitQualified splits "db.table" (either part may be quoted).
func splitQualified(s, defaultDB string) (string, string) {
	parts := identSplitRe.FindAllString(s, -1)
	switch len(parts) {
	case 0:
		return defaultDB, ""
	case 1:
		return defaultDB, unquoteIdent(parts[0])
	}
	return unquoteIdent(parts[0]), unquoteIdent(parts[1])
}

// splitTopLevel splits on commas outside backquotes.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '`':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseDDL finds the tables a statement changes. ok is false for statements
// that are not DDL (or not about tables/databases).
func parseDDL(query, defaultDB string) (changes []ddlChange, ok bool) {
	q := strings.TrimSpace(commentRe.ReplaceAllString(query, " "))
	q = strings.TrimRight(q, "; \t\r\n")
	if m := createTableRe.FindStringSubmatch(q); m != nil {
		if strings.Contains(strings.ToUpper(q[:len(m[0])]), "TEMPORARY") {
			return nil, false
		}
		db, t := splitQualified(m[1], defaultDB)
		return []ddlChange{{kind: "CREATE", db: db, table: t}}, true
	}
	if m := alterTableRe.FindStringSubmatch(q); m != nil {
		db, t := splitQualified(m[1], defaultDB)
		if r := renameToRe.FindStringSubmatch(m[2]); r != nil {
			ndb, nt := splitQualified(r[1], db)
			return []ddlChange{{kind: "ALTER", db: ndb, table: nt, oldDB: db, oldName: t}}, true
		}
		return []ddlChange{{kind: "ALTER", db: db, table: t}}, true
	}
	if m := dropTableRe.FindStringSubmatch(q); m != nil {
		if strings.Contains(strings.ToUpper(q[:min(len(q), 20)]), "TEMPORARY") {
			return nil, false
		}
		for _, part := range splitTopLevel(m[1]) {
			db, t := splitQualified(part, defaultDB)
			if t != "" {
				changes = append(changes, ddlChange{kind: "DROP", db: db, table: t})
			}
		}
		return changes, len(changes) > 0
	}
	if m := renameTableRe.FindStringSubmatch(q); m != nil {
		for _, pair := range splitTopLevel(m[1]) {
			from, to, found := cutFold(pair, " TO ")
			if !found {
				continue
			}
			odb, ot := splitQualified(from, defaultDB)
			ndb, nt := splitQualified(to, defaultDB)
			changes = append(changes, ddlChange{kind: "ALTER", db: ndb, table: nt, oldDB: odb, oldName: ot})
		}
		return changes, len(changes) > 0
	}
	if m := truncateRe.FindStringSubmatch(q); m != nil {
		db, t := splitQualified(m[1], defaultDB)
		return []ddlChange{{kind: "TRUNCATE", db: db, table: t}}, true
	}
	if m := indexRe.FindStringSubmatch(q); m != nil {
		db, t := splitQualified(m[1], defaultDB)
		return []ddlChange{{kind: "ALTER", db: db, table: t}}, true
	}
	if m := databaseRe.FindStringSubmatch(q); m != nil {
		db := defaultDB
		if m[2] != "" {
			db = unquoteIdent(m[2])
		}
		return []ddlChange{{kind: strings.ToUpper(m[1]) + "_DATABASE", db: db}}, true
	}
	return nil, false
}

func cutFold(s, sep string) (string, string, bool) {
	i := strings.Index(strings.ToUpper(s), sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// Schema-change event schemas (io.debezium.connector.<mysql|mariadb>.SchemaChange*).
type schemaChangeSchemas struct {
	key, value, change, table, column *schema.Schema
}

func newSchemaChangeSchemas(connector string, source *schema.Schema) *schemaChangeSchemas {
	s := &schemaChangeSchemas{}
	s.column = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.schema.Column").Version(1).
		Field("name", schema.StringSchema).
		Field("jdbcType", schema.Int32Schema).
		Field("nativeType", schema.OptionalInt32).
		Field("typeName", schema.StringSchema).
		Field("typeExpression", schema.OptionalString).
		Field("charsetName", schema.OptionalString).
		Field("length", schema.OptionalInt32).
		Field("scale", schema.OptionalInt32).
		Field("position", schema.Int32Schema).
		Field("optional", schema.OptionalBoolean).
		Field("autoIncremented", schema.OptionalBoolean).
		Field("generated", schema.OptionalBoolean).
		Field("comment", schema.OptionalString).
		Field("defaultValueExpression", schema.OptionalString).
		Field("enumValues", schema.NewBuilder(schema.TypeArray).Optional().Items(schema.StringSchema).Build()).
		Build()
	s.table = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.schema.Table").Version(1).Optional().
		Field("defaultCharsetName", schema.OptionalString).
		Field("primaryKeyColumnNames", schema.NewBuilder(schema.TypeArray).Optional().Items(schema.StringSchema).Build()).
		Field("columns", schema.ArrayOf(s.column)).
		Field("comment", schema.OptionalString).
		Build()
	s.change = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.schema.Change").Version(1).
		Field("type", schema.StringSchema).
		Field("id", schema.StringSchema).
		Field("table", s.table).
		Build()
	s.key = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector."+connector+".SchemaChangeKey").Version(1).
		Field("databaseName", schema.StringSchema).Build()
	s.value = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector."+connector+".SchemaChangeValue").Version(1).
		Field("source", source).
		Field("ts_ms", schema.Int64Schema).
		Field("databaseName", schema.OptionalString).
		Field("schemaName", schema.OptionalString).
		Field("ddl", schema.OptionalString).
		Field("tableChanges", schema.ArrayOf(s.change)).
		Build()
	return s
}

// jdbcType is the java.sql.Types code Debezium's DDL parser assigns.
func jdbcType(c *column) int32 {
	switch c.kind {
	case kBool, kBits:
		return -7 // BIT
	case kTiny, kSmall:
		return 5 // SMALLINT (Debezium maps TINYINT to SMALLINT)
	case kMedium, kInt, kYear:
		return 4 // INTEGER
	case kBig:
		return -5 // BIGINT
	case kDecimal:
		return 3 // DECIMAL
	case kFloat:
		return 6 // FLOAT
	case kDouble:
		return 8 // DOUBLE
	case kString:
		if c.dataType == "char" {
			return 1 // CHAR
		}
		return 12 // VARCHAR
	case kEnum, kSet:
		return 1 // CHAR
	case kBinary:
		switch c.dataType {
		case "binary":
			return -2
		case "varbinary":
			return -3
		}
		return 2004 // BLOB
	case kDate:
		return 91
	case kTime:
		return 92
	case kDateTime:
		return 93
	case kTimestamp:
		return 2014 // TIMESTAMP_WITH_TIMEZONE
	}
	return 1111 // OTHER
}

var typeLenRe = regexp.MustCompile(`^[a-z ]+\((\d+)(?:,(\d+))?\)`)

// tableStruct renders a table's structure for tableChanges.
func (s *schemaChangeSchemas) tableStruct(cols []column, pk []string, charset, comment string) *schema.Struct {
	colVals := make([]any, len(cols))
	for i := range cols {
		c := &cols[i]
		v := make([]any, len(s.column.Fields))
		v[0] = c.name
		v[1] = jdbcType(c)
		tn := c.typeName()
		v[3] = tn
		v[4] = tn
		if c.charset != "" && (c.kind == kString || c.kind == kEnum || c.kind == kSet || c.kind == kJSON) {
			v[5] = c.charset
		}
		ct := strings.ToLower(c.columnType)
		if c.kind != kEnum && c.kind != kSet {
			if m := typeLenRe.FindStringSubmatch(ct); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil {
					v[6] = int32(n)
				}
				if m[2] != "" {
					if n, err := strconv.Atoi(m[2]); err == nil {
						v[7] = int32(n)
					}
				}
			}
		}
		v[8] = int32(c.position)
		v[9] = c.nullable
		v[10] = c.autoInc
		v[11] = c.generated
		if c.comment != "" {
			v[12] = c.comment
		}
		if c.defaultSQL != nil && !strings.EqualFold(*c.defaultSQL, "NULL") {
			d := *c.defaultSQL
			if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
				d = unquoteSQL(d[1 : len(d)-1])
			}
			v[13] = d
		}
		if len(c.enumValues) > 0 {
			ev := make([]any, len(c.enumValues))
			for j, e := range c.enumValues {
				ev[j] = e
			}
			v[14] = ev
		}
		colVals[i] = &schema.Struct{Schema: s.column, Values: v}
	}
	var pkv any
	if len(pk) > 0 {
		a := make([]any, len(pk))
		for i, p := range pk {
			a[i] = p
		}
		pkv = a
	} else {
		pkv = []any{}
	}
	var cs, cm any
	if charset != "" {
		cs = charset
	}
	if comment != "" {
		cm = comment
	}
	return &schema.Struct{Schema: s.table, Values: []any{cs, pkv, colVals, cm}}
}

func quotedTableID(db, table string) string {
	return `"` + db + `"."` + table + `"`
}
