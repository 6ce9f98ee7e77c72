package jdbcsink

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

func semantic(t schema.Type, name string) *schema.Schema {
	return schema.NewBuilder(t).Optional().Name(name).Version(1).Build()
}

// typeCase is one column: its schema, a value, and how each database shows
// it (SQL expression over the column "c", expected text).
type typeCase struct {
	col          string
	s            *schema.Schema
	v            any
	myExpr, pgEx string // %s is the column; empty means the column itself
	my, pg       string
	myType       string // DDL type expected on MariaDB (COLUMN_TYPE), "" = unchecked
	pgType       string // format_type on PostgreSQL, "" = unchecked
}

func typeCases() []typeCase {
	point := schema.NewBuilder(schema.TypeStruct).Optional().Name("pt").Field("x", schema.Int32Schema).Field("y", schema.OptionalString).Build()
	return []typeCase{
		{col: "i8", s: schema.OptionalInt8, v: int8(-8), my: "-8", pg: "-8", myType: "tinyint(4)", pgType: "smallint"},
		{col: "i16", s: schema.OptionalInt16, v: int16(-1600), my: "-1600", pg: "-1600", myType: "smallint(6)", pgType: "smallint"},
		{col: "i32", s: schema.OptionalInt32, v: int32(2147483647), my: "2147483647", pg: "2147483647", myType: "int(11)", pgType: "integer"},
		{col: "i64", s: schema.OptionalInt64, v: int64(-9223372036854775808), my: "-9223372036854775808", pg: "-9223372036854775808", myType: "bigint(20)", pgType: "bigint"},
		{col: "f32", s: schema.OptionalFloat32, v: float32(0.1), pgEx: "%s::text", my: "0.1", pg: "0.1", myType: "float", pgType: "real"},
		{col: "f64", s: schema.OptionalFloat64, v: 3.141592653589793, my: "3.141592653589793", pg: "3.141592653589793", myType: "double", pgType: "double precision"},
		{col: "bo", s: schema.OptionalBoolean, v: true, pgEx: "%s::text", my: "1", pg: "true", myType: "tinyint(4)", pgType: "boolean"},
		{col: "st", s: schema.OptionalString, v: "héllo 'q' \\ \" ☃", my: "héllo 'q' \\ \" ☃", pg: "héllo 'q' \\ \" ☃", myType: "longtext", pgType: "text"},
		{col: "byt", s: schema.OptionalBytes, v: []byte{0, 1, 2, 255}, myExpr: "HEX(%s)", pgEx: "UPPER(encode(%s, 'hex'))", my: "000102FF", pg: "000102FF", myType: "longblob", pgType: "bytea"},
		{col: "de", s: schema.DecimalSchema(3, 0, true), v: decimal.RequireFromString("-12345.678"), my: "-12345.678", pg: "-12345.678", myType: "decimal(65,3)", pgType: "numeric"},
		{col: "dp", s: schema.DecimalSchema(2, 7, true), v: decimal.RequireFromString("12345.60"), my: "12345.60", pg: "12345.60", myType: "decimal(7,2)", pgType: "numeric(7,2)"},
		{col: "da", s: schema.DateSchema(true), v: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "2024-02-29", pg: "2024-02-29", myType: "date", pgType: "date"},
		{col: "ti", s: schema.TimeSchema(true), v: time.Date(1970, 1, 1, 13, 45, 30, 123e6, time.UTC), myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "13:45:30.123", pg: "13:45:30.123", myType: "time(3)", pgType: "time without time zone"},
		{col: "ts", s: schema.TimestampSchema(true), v: time.Date(2024, 2, 29, 23, 59, 59, 999e6, time.UTC), myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "2024-02-29 23:59:59.999", pg: "2024-02-29 23:59:59.999", myType: "datetime(3)", pgType: "timestamp without time zone"},
		{col: "ar", s: schema.NewBuilder(schema.TypeArray).Optional().Items(schema.Int32Schema).Build(), v: []any{int32(1), int32(2), int32(3)}, my: "[1,2,3]", pg: "{1,2,3}", myType: "longtext", pgType: "integer[]"},
		{col: "sa", s: schema.NewBuilder(schema.TypeArray).Optional().Items(schema.OptionalString).Build(), v: []any{"a,b", nil, `q"`}, my: `["a,b",null,"q\""]`, pg: `{"a,b",NULL,"q\""}`, pgType: "text[]"},
		{col: "mp", s: schema.NewBuilder(schema.TypeMap).Optional().MapOf(schema.StringSchema, schema.Int32Schema).Build(), v: map[any]any{"b": int32(2), "a": int32(1)}, my: `{"a":1,"b":2}`, pg: `{"a": 1, "b": 2}`, pgType: "jsonb"},
		{col: "sr", s: point, v: structOf(point, int32(1), "z"), my: `{"x":1,"y":"z"}`, pg: `{"x": 1, "y": "z"}`, pgType: "jsonb"},
		{col: "dts", s: semantic(schema.TypeInt64, schema.DebeziumTimestamp), v: int64(1529507596945), myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "2018-06-20 15:13:16.945", pg: "2018-06-20 15:13:16.945", myType: "datetime(3)", pgType: "timestamp(3) without time zone"},
		{col: "dns", s: semantic(schema.TypeInt64, schema.DebeziumNanoTimestamp), v: int64(1529507596945104000), myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "2018-06-20 15:13:16.945104", pg: "2018-06-20 15:13:16.945104", myType: "datetime(6)", pgType: "timestamp(6) without time zone"},
		{col: "dti", s: semantic(schema.TypeInt32, schema.DebeziumTime), v: int32(49530123), myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "13:45:30.123", pg: "13:45:30.123", myType: "time(3)", pgType: "time(3) without time zone"},
		{col: "dnt", s: semantic(schema.TypeInt64, schema.DebeziumNanoTime), v: int64(49530123456000), myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "13:45:30.123456", pg: "13:45:30.123456", myType: "time(6)"},
		{col: "dzt", s: semantic(schema.TypeString, schema.DebeziumZonedTime), v: "07:08:09.123Z", myExpr: "CAST(%s AS CHAR)", pgEx: "%s::text", my: "07:08:09.123000", pg: "07:08:09.123+00", pgType: "time with time zone"},
		{col: "dyr", s: semantic(schema.TypeInt32, schema.DebeziumYear), v: int32(2024), my: "2024", pg: "2024"},
		{col: "dmd", s: semantic(schema.TypeInt64, schema.DebeziumMicroDuration), v: int64(3600000000), my: "3600000000", pg: "3600000000", pgType: "bigint"},
		{col: "dint", s: semantic(schema.TypeString, schema.DebeziumInterval), v: "P1Y2M3DT4H5M6.78S", pgEx: "%s::text", my: "P1Y2M3DT4H5M6.78S", pg: "1 year 2 mons 3 days 04:05:06.78", pgType: "interval"},
		{col: "den", s: semantic(schema.TypeString, schema.DebeziumEnum), v: "red", my: "red", pg: "red"},
		{col: "dxm", s: semantic(schema.TypeString, schema.DebeziumXML), v: "<a>1</a>", pgEx: "%s::text", my: "<a>1</a>", pg: "<a>1</a>", pgType: "xml"},
		{col: "duu", s: semantic(schema.TypeString, schema.DebeziumUUID), v: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", pgEx: "%s::text", my: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", pg: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", myType: "char(36)", pgType: "uuid"},
		{col: "djs", s: semantic(schema.TypeString, schema.DebeziumJSON), v: `{"k":[1,2]}`, my: `{"k":[1,2]}`, pg: `{"k": [1, 2]}`, pgType: "jsonb"},
		{col: "dvs", s: variableScaleSchema, v: structOf(variableScaleSchema, int32(2), []byte{0x30, 0x39}), myExpr: "CAST(%s AS DECIMAL(20,2))", my: "123.45", pg: "123.45", pgType: "numeric"},
		{col: "dzs", s: semantic(schema.TypeString, schema.DebeziumZonedTimestamp), v: "2018-06-20T13:37:03.123456Z", myExpr: "CAST(%s AS CHAR)", pgEx: "(%s AT TIME ZONE 'UTC')::text", my: "2018-06-20 13:37:03.123456", pg: "2018-06-20 13:37:03.123456", pgType: "timestamp with time zone"},
	}
}

// TestTypeMapping writes every Connect type, logical type and the Debezium
// semantic types to both databases through auto.create, then reads them
// back: one row with values, one with nulls (and a defaulted field).
func TestTypeMapping(t *testing.T) {
	cases := typeCases()
	withDefault := schema.NewBuilder(schema.TypeString).Optional().Default("dflt").Build()
	fields := []schema.Field{{Name: "id", Schema: schema.Int32Schema}, {Name: "dv", Schema: withDefault}}
	for _, c := range cases {
		fields = append(fields, schema.Field{Name: c.col, Schema: c.s})
	}
	vs := schema.NewStructSchema("types", fields...)
	full := []any{int32(1), "given"}
	nulls := []any{int32(2), nil}
	for _, c := range cases {
		full = append(full, c.v)
		nulls = append(nulls, nil)
	}
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		task := startTask(t, sinkConfig(hdb, "topics", "types", "auto.create", "true", "insert.mode", "upsert",
			"pk.mode", "record_value", "pk.fields", "id"), nil)
		mustPut(t, task, record("types", 0, 0, nil, nil, vs, structOf(vs, full...)), record("types", 0, 1, nil, nil, vs, structOf(vs, nulls...)))
		mustFlush(t, task)

		my := hdb.Kind == harness.KindMariaDB
		var exprs, want1, want2 []string
		for _, c := range cases {
			e, w := c.pgEx, c.pg
			if my {
				e, w = c.myExpr, c.my
			}
			if e == "" {
				e = "%s"
			}
			exprs = append(exprs, strings.ReplaceAll(e, "%s", c.col))
			want1 = append(want1, w)
			want2 = append(want2, "NULL")
		}
		got := query(t, db, "SELECT "+strings.Join(exprs, ", ")+" FROM types ORDER BY id")
		if len(got) != 2 {
			t.Fatalf("%d rows", len(got))
		}
		for i, c := range cases {
			if got[0][i] != want1[i] {
				t.Errorf("%s (%s): got %q, want %q", c.col, c.s, got[0][i], want1[i])
			}
			if got[1][i] != "NULL" {
				t.Errorf("%s null row: got %q", c.col, got[1][i])
			}
		}
		expectRows(t, db, "SELECT id, dv FROM types ORDER BY id", "1|given", "2|dflt")

		types := map[string]string{}
		for _, l := range columnsOf(t, hdb, db, "types") {
			parts := strings.SplitN(l, " ", 2)
			types[parts[0]] = parts[1][:strings.LastIndex(parts[1], " ")]
		}
		for _, c := range cases {
			w := c.pgType
			if my {
				w = c.myType
			}
			if w != "" && types[c.col] != w {
				t.Errorf("%s: column type %q, want %q", c.col, types[c.col], w)
			}
		}
	})
}

// TestDBTimezone: Connect Timestamp and Time values are written as wall
// clock in db.timezone, Date values too unless date.timezone=UTC.
func TestDBTimezone(t *testing.T) {
	vs := schema.NewStructSchema("tz", schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "ts", Schema: schema.TimestampSchema(false)}, schema.Field{Name: "d", Schema: schema.DateSchema(false)})
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		for _, dz := range []string{"DB_TIMEZONE", "UTC"} {
			table := "tz_" + strings.ToLower(dz)
			task := startTask(t, sinkConfig(hdb, "topics", table, "auto.create", "true", "db.timezone", "America/New_York", "date.timezone", dz), nil)
			mustPut(t, task, record(table, 0, 0, nil, nil, vs, structOf(vs, int32(1), time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC))))
			mustFlush(t, task)
			wantDate := map[string]string{"DB_TIMEZONE": "2024-06-30", "UTC": "2024-07-01"}[dz]
			expectRows(t, db, "SELECT "+txt(hdb, "ts")+", "+txt(hdb, "d")+" FROM "+table,
				pick(hdb, "2024-07-01 08:00:00.000", "2024-07-01 08:00:00")+"|"+wantDate)
		}
	})
}
