package source

import (
	"github.com/tributary-cdc/tributary/jdbc"
	"strconv"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector/config"
)

func itoa(n int) string { return strconv.Itoa(n) }

func mustParse(t *testing.T, raw map[string]string) *config.Values {
	t.Helper()
	v, err := SourceDef().Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConfigErrorsNameKeys(t *testing.T) {
	base := map[string]string{"connection.url": "jdbc:postgresql://127.0.0.1:5432/db", "topic.prefix": "p-"}
	cases := []struct {
		extra map[string]string
		key   string
	}{
		{map[string]string{}, "mode"},
		{map[string]string{"mode": "sometimes"}, "mode"},
		{map[string]string{"mode": "timestamp"}, "timestamp.column.name"},
		{map[string]string{"mode": "bulk", "table.whitelist": "a", "table.blacklist": "b"}, "table.blacklist"},
		{map[string]string{"mode": "bulk", "query": "SELECT 1", "table.whitelist": "a"}, "query"},
		{map[string]string{"mode": "incrementing", "query": "SELECT 1"}, "incrementing.column.name"},
		{map[string]string{"mode": "bulk", "numeric.mapping": "most"}, "numeric.mapping"},
		{map[string]string{"mode": "bulk", "topic.prefix": "bad prefix!"}, "topic.prefix"},
		{map[string]string{"mode": "bulk", "db.timezone": "Mars/Olympus"}, "db.timezone"},
		{map[string]string{"mode": "bulk", "record.key.mode": "pk"}, "record.key.mode"},
		{map[string]string{"mode": "bulk", "table.exclude.list": "x"}, "table.exclude.list"},
		{map[string]string{"mode": "timestamp", "timestamp.column.name": "t", "incrementing.safe.window.enable": "true"}, "incrementing.safe.window.enable"},
		{map[string]string{"mode": "bulk", "connection.url": "oracle:thin:@x"}, "connection.url"},
	}
	for _, c := range cases {
		raw := map[string]string{}
		for k, v := range base {
			raw[k] = v
		}
		for k, v := range c.extra {
			raw[k] = v
		}
		_, err := parseSourceConfig(raw)
		if err == nil {
			t.Errorf("%v: no error", c.extra)
			continue
		}
		errs, ok := err.(config.Errors)
		if !ok {
			t.Errorf("%v: error %T %v", c.extra, err, err)
			continue
		}
		found := false
		for _, e := range errs {
			if e.Key == c.key {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: errors %v do not name %s", c.extra, errs, c.key)
		}
	}
}

func TestBuildSQL(t *testing.T) {
	mk := func(flavor jdbc.Flavor, mode string, ts []string, extra map[string]string) string {
		raw := map[string]string{"connection.url": "jdbc:postgresql://h/db", "mode": mode, "incrementing.column.name": "id",
			"timestamp.column.name": strings.Join(ts, ",")}
		for k, v := range extra {
			raw[k] = v
		}
		c, err := parseSourceConfig(raw)
		if err != nil {
			t.Fatal(err)
		}
		d, err := newDialect(flavor, c.quote, c.zone)
		if err != nil {
			t.Fatal(err)
		}
		task := &SourceTask{cfg: c, d: d}
		q := &querier{task: task, table: tableID{Schema: "public", Name: "orders"}, mode: mode, incCol: "id", tsCols: c.tsColumns}
		if flavor == jdbc.MySQL {
			q.table = tableID{Catalog: "shop", Name: "orders"}
		}
		return q.buildSQL()
	}
	cases := []struct{ got, want string }{
		{mk(jdbc.Postgres, ModeBulk, nil, nil), `SELECT * FROM "public"."orders"`},
		{mk(jdbc.Postgres, ModeIncrementing, nil, nil), `SELECT * FROM "public"."orders" WHERE "id" > $1 ORDER BY "id" ASC`},
		{mk(jdbc.MySQL, ModeTimestamp, []string{"updated_at"}, nil), "SELECT * FROM `shop`.`orders` WHERE `updated_at` > ? AND `updated_at` < ? ORDER BY `updated_at` ASC"},
		{mk(jdbc.Postgres, ModeTimestampIncrementing, []string{"updated_at", "created_at"}, nil),
			`SELECT * FROM "public"."orders" WHERE COALESCE("updated_at","created_at") < $1 AND ((COALESCE("updated_at","created_at") = $2 AND "id" > $3) OR COALESCE("updated_at","created_at") > $4) ORDER BY COALESCE("updated_at","created_at"),"id" ASC`},
		{mk(jdbc.MySQL, ModeIncrementing, nil, map[string]string{"quote.sql.identifiers": "never", "query.suffix": "LIMIT 5000"}), "SELECT * FROM shop.orders WHERE id > ? ORDER BY id ASC LIMIT 5000"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("\n got %s\nwant %s", c.got, c.want)
		}
	}
}

func TestGroupTables(t *testing.T) {
	var tables []tableID
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		tables = append(tables, tableID{Schema: "s", Name: n})
	}
	g := groupTables(tables, 2)
	if len(g) != 2 || len(g[0]) != 3 || len(g[1]) != 2 || g[1][0].Name != "d" {
		t.Fatalf("groups %v", g)
	}
	g = groupTables(tables, 5)
	for i := range g {
		if len(g[i]) != 1 {
			t.Fatalf("groups %v", g)
		}
	}
}

func TestNumericMapping(t *testing.T) {
	cases := []struct {
		mapping string
		p, s    int64
		want    kind
	}{
		{NumericNone, 5, 0, kDecimal},
		{NumericPrecisionOnly, 5, 0, kInt32},
		{NumericPrecisionOnly, 2, 0, kInt8},
		{NumericPrecisionOnly, 10, 0, kInt64},
		{NumericPrecisionOnly, 19, 0, kDecimal},
		{NumericPrecisionOnly, 5, 2, kDecimal},
		{NumericBestFit, 5, 2, kFloat64},
		{NumericBestFit, 4, 0, kInt16},
		{NumericBestFit, 20, 2, kDecimal},
		{NumericBestFitEagerDouble, 20, 2, kFloat64},
		{NumericBestFit, 0, 0, kDecimal}, // NUMERIC without precision
	}
	for _, c := range cases {
		var d colDesc
		d.numericKind(c.p, c.s, c.mapping)
		if d.Kind != c.want {
			t.Errorf("%s NUMERIC(%d,%d): kind %d, want %d", c.mapping, c.p, c.s, d.Kind, c.want)
		}
	}
}
