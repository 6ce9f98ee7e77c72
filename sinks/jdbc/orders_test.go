package jdbcsink

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// What a plain application producing Connect JSON (schema + payload) to the
// orders topic writes: version 1, then version 2 with two more fields.
const (
	ordersSchemaV1 = `{"type":"struct","fields":[` +
		`{"type":"int64","optional":false,"field":"id"},` +
		`{"type":"string","optional":false,"field":"customer"},` +
		`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"amount"},` +
		`{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"created_at"}` +
		`],"optional":false,"name":"orders"}`
	ordersSchemaV2 = `{"type":"struct","fields":[` +
		`{"type":"int64","optional":false,"field":"id"},` +
		`{"type":"string","optional":false,"field":"customer"},` +
		`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"amount"},` +
		`{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"created_at"},` +
		`{"type":"string","optional":true,"field":"note"},` +
		`{"type":"boolean","optional":false,"default":false,"field":"paid"}` +
		`],"optional":false,"name":"orders"}`
)

func amountB64(s string) string {
	return base64.StdEncoding.EncodeToString(schema.DecimalToUnscaled(decimal.RequireFromString(s), 2))
}

func orderV1(id int, customer, amount string, ts int64) string {
	return fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"customer":%q,"amount":%q,"created_at":%d}}`, ordersSchemaV1, id, customer, amountB64(amount), ts)
}

func orderV2(id int, customer, amount string, ts int64, note string, paid bool) string {
	return fmt.Sprintf(`{"schema":%s,"payload":{"id":%d,"customer":%q,"amount":%q,"created_at":%d,"note":%q,"paid":%t}}`, ordersSchemaV2, id, customer, amountB64(amount), ts, note, paid)
}

// decodeAll runs Connect-JSON value bytes through the JSON converter as the
// runtime would, numbering offsets from first.
func decodeAll(t testing.TB, topic string, first int64, payloads ...string) []schema.Record {
	t.Helper()
	conv := jsonconv.New(jsonconv.DefaultConfig())
	var out []schema.Record
	for i, p := range payloads {
		s, v, err := conv.ToConnect(topic, nil, []byte(p))
		if err != nil {
			t.Fatalf("decode %s: %v", p, err)
		}
		out = append(out, schema.Record{Topic: topic, Partition: 0, Offset: first + int64(i), ValueSchema: s, Value: v})
	}
	return out
}

// TestOrdersAutoCreateAndEvolve: a producer writes Connect-JSON orders; the
// sink creates the table with the primary key, fills it, and when the
// producer adds fields the table gains the columns.
func TestOrdersAutoCreateAndEvolve(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		task := startTask(t, sinkConfig(hdb, "auto.create", "true", "auto.evolve", "true",
			"insert.mode", "upsert", "pk.mode", "record_value", "pk.fields", "id"), nil)

		mustPut(t, task, decodeAll(t, "orders", 0,
			orderV1(1, "alice", "12.34", 1700000000123),
			orderV1(2, "bob", "-0.50", 1700000001000),
			orderV1(1, "alice", "99.99", 1700000002000), // same key again: last wins
		)...)
		mustFlush(t, task)

		expectRows(t, db, "SELECT id, customer, amount, "+txt(hdb, "created_at")+" FROM orders ORDER BY id",
			pick(hdb, "1|alice|99.99|2023-11-14 22:13:22.000", "1|alice|99.99|2023-11-14 22:13:22"),
			pick(hdb, "2|bob|-0.50|2023-11-14 22:13:21.000", "2|bob|-0.50|2023-11-14 22:13:21"))
		if pk := primaryKeyOf(t, hdb, db, "orders"); pk != "id" {
			t.Fatalf("primary key %q, want id", pk)
		}
		cols := strings.Join(columnsOf(t, hdb, db, "orders"), "\n")
		want := map[harness.Kind]string{
			harness.KindMariaDB:  "id bigint(20) NO\ncustomer longtext NO\namount decimal(65,2) YES\ncreated_at datetime(3) YES",
			harness.KindPostgres: "id bigint NO\ncustomer text NO\namount numeric YES\ncreated_at timestamp without time zone YES",
		}[hdb.Kind]
		if cols != want {
			t.Fatalf("columns:\n%s\nwant:\n%s", cols, want)
		}

		// The producer adds note (optional) and paid (required, default false).
		mustPut(t, task, decodeAll(t, "orders", 3,
			orderV2(2, "bob", "7.00", 1700000003000, "gift", true),
			orderV2(3, "carol", "1.00", 1700000004000, "new", false),
		)...)
		mustFlush(t, task)
		expectRows(t, db, "SELECT id, customer, amount, note, CASE WHEN paid THEN 1 ELSE 0 END FROM orders ORDER BY id",
			"1|alice|99.99|NULL|0",
			"2|bob|7.00|gift|1",
			"3|carol|1.00|new|0")
		cols = strings.Join(columnsOf(t, hdb, db, "orders"), "\n")
		if !strings.Contains(cols, "note ") || !strings.Contains(cols, "paid ") {
			t.Fatalf("columns not added:\n%s", cols)
		}

		// Old-schema records still apply after the evolution.
		mustPut(t, task, decodeAll(t, "orders", 5, orderV1(4, "dave", "4.00", 1700000005000))...)
		mustFlush(t, task)
		expectRows(t, db, "SELECT id, customer, note, CASE WHEN paid THEN 1 ELSE 0 END FROM orders WHERE id = 4", "4|dave|NULL|0")
	})
}

// TestSchemalessJSON: plain JSON objects are refused with Confluent's error
// by default and accepted with schemaless.infer=true.
func TestSchemalessJSON(t *testing.T) {
	conv := jsonconv.New(jsonconv.Config{SchemasEnable: false})
	decode := func(off int64, js string) schema.Record {
		s, v, err := conv.ToConnect("orders", nil, []byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return schema.Record{Topic: "orders", Offset: off, ValueSchema: s, Value: v}
	}
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		// Refused: the reporter gets the record with Confluent's message.
		rep := &reporter{}
		task := startTask(t, sinkConfig(hdb, "auto.create", "true"), rep)
		mustPut(t, task, decode(0, `{"id":1,"name":"x"}`))
		mustFlush(t, task)
		if len(rep.errs) != 1 || !strings.Contains(rep.errs[0].Error(), "requires records with a non-null Struct value and non-null Struct schema") ||
			!strings.Contains(rep.errs[0].Error(), "schemaless.infer=true") {
			t.Fatalf("reported %v", rep.errs)
		}
		// Without a reporter (errors.tolerance=none) the task fails with it.
		strict := startTask(t, sinkConfig(hdb, "auto.create", "true"), nil)
		if err := strict.Put(t.Context(), []schema.Record{decode(0, `{"id":1}`)}); err == nil || !strings.Contains(err.Error(), "non-null Struct schema") {
			t.Fatalf("put = %v", err)
		}

		// Accepted with inference; a later object with a new field evolves the table.
		inf := startTask(t, sinkConfig(hdb, "auto.create", "true", "auto.evolve", "true", "schemaless.infer", "true",
			"insert.mode", "upsert", "pk.mode", "record_value", "pk.fields", "id"), nil)
		mustPut(t, inf,
			decode(0, `{"id":1,"name":"ann","score":1.5,"vip":true,"tags":["a","b"],"addr":{"city":"Oslo"},"gone":null}`),
			decode(1, `{"id":2,"name":"ben","score":2.25,"vip":false,"tags":[],"addr":{"city":"Rome"},"gone":null}`))
		mustFlush(t, inf)
		mustPut(t, inf, decode(2, `{"id":2,"name":"ben","score":3,"vip":false,"tags":[],"addr":null,"gone":null,"extra":"e"}`))
		mustFlush(t, inf)
		expectRows(t, db, "SELECT id, name, score, CASE WHEN vip THEN 1 ELSE 0 END, tags, addr, extra FROM orders ORDER BY id",
			pick(hdb, `1|ann|1.5|1|["a","b"]|{"city":"Oslo"}|NULL`, `1|ann|1.5|1|["a", "b"]|{"city": "Oslo"}|NULL`),
			`2|ben|3|0|[]|NULL|e`)
		for _, c := range columnsOf(t, hdb, db, "orders") {
			if strings.HasPrefix(c, "gone ") {
				t.Fatalf("a field seen only as null got a column: %s", c)
			}
		}
	})
}

// pick chooses the expected text for the database kind.
func pick(hdb *harness.Database, mariadb, postgres string) string {
	if hdb.Kind == harness.KindMariaDB {
		return mariadb
	}
	return postgres
}

// txt is an SQL expression rendering col as the server's text form.
func txt(hdb *harness.Database, col string) string {
	if hdb.Kind == harness.KindMariaDB {
		return "CAST(" + col + " AS CHAR)"
	}
	return col + "::text"
}
