package source

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// fieldKinds renders a struct schema as name:type[?] list for comparison.
func fieldKinds(s *schema.Schema) string {
	var parts []string
	for _, f := range s.Fields {
		p := f.Name + ":" + f.Schema.Type.String()
		if f.Schema.Name != "" {
			p += "/" + strings.TrimPrefix(f.Schema.Name, "org.apache.kafka.connect.data.")
		}
		if f.Schema.Optional {
			p += "?"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func TestSchemaAndValuesMariaDB(t *testing.T) {
	f := newFixture(t, backends[0])
	f.exec(t, `CREATE TABLE types (id INT PRIMARY KEY, ti TINYINT NOT NULL, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT,
		i INT UNSIGNED, bi BIGINT, f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), c CHAR(3), vc VARCHAR(20), tx TEXT, js JSON,
		en ENUM('a','b'), bin VARBINARY(10), bl BLOB, dt DATE, tm TIME(3), dtm DATETIME(6), tsp TIMESTAMP(3) NULL, yr YEAR, b BIT(1))`)
	f.exec(t, `INSERT INTO types VALUES (1, -5, 200, -300, 70000, 4000000000, 9000000000, 1.5, 2.25, 1234.56, 'abc', 'hello',
		'long text', '{"a":1}', 'b', 0x0102, 0x0304, '2024-02-29', '12:34:56.789', '2024-02-29 12:34:56.123456',
		'2024-02-29 12:34:56.789', 2024, b'1')`)
	f.exec(t, `INSERT INTO types (id, ti) VALUES (2, 0)`)
	task := startTask(t, f.config("mode", "incrementing", "table.whitelist", "types", "incrementing.column.name", "id"), nil)
	recs := drain(t, task)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	want := "id:int32 ti:int8 tiu:int16? si:int16? mi:int32? i:int64? bi:int64? f:float32? d:float64? dec1:bytes/Decimal? " +
		"c:string? vc:string? tx:string? js:string? en:string? bin:bytes? bl:bytes? dt:int32/Date? tm:int32/Time? " +
		"dtm:int64/Timestamp? tsp:int64/Timestamp? yr:int32/Date? b:int8?"
	if got := fieldKinds(recs[0].ValueSchema); got != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}
	dec, _ := recs[0].ValueSchema.Field("dec1")
	if p := dec.Schema.Parameters; !reflect.DeepEqual(p, []schema.Param{{Key: "scale", Value: "2"}, {Key: "connect.decimal.precision", Value: "10"}}) {
		t.Errorf("decimal params %v", p)
	}
	v := recs[0].Value.(*schema.Struct)
	checks := map[string]any{
		"id": int32(1), "ti": int8(-5), "tiu": int16(200), "si": int16(-300), "mi": int32(70000), "i": int64(4000000000),
		"bi": int64(9000000000), "f": float32(1.5), "d": 2.25, "c": "abc", "vc": "hello", "tx": "long text", "js": `{"a":1}`,
		"en": "b", "bin": []byte{1, 2}, "bl": []byte{3, 4},
		"dt":  time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"tm":  time.Date(1970, 1, 1, 12, 34, 56, 789000000, time.UTC),
		"dtm": time.Date(2024, 2, 29, 12, 34, 56, 123456000, time.UTC),
		"tsp": time.Date(2024, 2, 29, 12, 34, 56, 789000000, time.UTC),
		"yr":  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		"b":   int8(1),
	}
	for name, w := range checks {
		if got := v.Get(name); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v (%T), want %#v", name, got, got, w)
		}
	}
	if got := v.Get("dec1").(decimal.Decimal); !got.Equal(decimal.RequireFromString("1234.56")) {
		t.Errorf("dec1 = %s", got)
	}
	if err := schema.Validate(recs[0].ValueSchema, recs[0].Value); err != nil {
		t.Error(err)
	}
	if err := schema.Validate(recs[1].ValueSchema, recs[1].Value); err != nil {
		t.Errorf("row of NULLs: %v", err)
	}
}

func TestSchemaAndValuesPostgres(t *testing.T) {
	f := newFixture(t, backends[1])
	f.exec(t, `CREATE TABLE types (id INT PRIMARY KEY, si SMALLINT NOT NULL, i INT, bi BIGINT, r REAL, d DOUBLE PRECISION,
		n NUMERIC(10,2), nu NUMERIC, n4 NUMERIC(4,0), bo BOOLEAN, c CHAR(3), vc VARCHAR(20), tx TEXT, js JSONB, u UUID, by BYTEA,
		dt DATE, tm TIME(3), ts TIMESTAMP(6), tz TIMESTAMPTZ, iv INTERVAL)`)
	f.exec(t, `INSERT INTO types VALUES (1, -300, 70000, 9000000000, 1.5, 2.25, 1234.56, 7, 12, true, 'abc', 'hello', 'long text',
		'{"a": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x0102', '2024-02-29', '12:34:56.789', '2024-02-29 12:34:56.123456',
		'2024-02-29 12:34:56.789+02', '1 day')`)
	f.exec(t, `INSERT INTO types (id, si) VALUES (2, 0)`)
	task := startTask(t, f.config("mode", "incrementing", "table.whitelist", "types", "incrementing.column.name", "id"), nil)
	recs := drain(t, task)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	want := "id:int32 si:int16 i:int32? bi:int64? r:float32? d:float64? n:bytes/Decimal? nu:bytes/Decimal? n4:bytes/Decimal? bo:boolean? " +
		"c:string? vc:string? tx:string? js:string? u:string? by:bytes? dt:int32/Date? tm:int32/Time? ts:int64/Timestamp? tz:int64/Timestamp?"
	if got := fieldKinds(recs[0].ValueSchema); got != want {
		t.Errorf("schema (interval skipped)\n got %s\nwant %s", got, want)
	}
	v := recs[0].Value.(*schema.Struct)
	checks := map[string]any{
		"id": int32(1), "si": int16(-300), "i": int32(70000), "bi": int64(9000000000), "r": float32(1.5), "d": 2.25,
		"bo": true, "c": "abc", "vc": "hello", "tx": "long text", "js": `{"a": 1}`, "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"by": []byte{1, 2},
		"dt": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"tm": time.Date(1970, 1, 1, 12, 34, 56, 789000000, time.UTC),
		"ts": time.Date(2024, 2, 29, 12, 34, 56, 123456000, time.UTC),
		"tz": time.Date(2024, 2, 29, 10, 34, 56, 789000000, time.UTC),
	}
	for name, w := range checks {
		if got := v.Get(name); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v (%T), want %#v", name, got, got, w)
		}
	}
	for name, w := range map[string]string{"n": "1234.56", "nu": "7", "n4": "12"} {
		if got := v.Get(name).(decimal.Decimal); !got.Equal(decimal.RequireFromString(w)) {
			t.Errorf("%s = %s", name, got)
		}
	}
	for _, r := range recs {
		if err := schema.Validate(r.ValueSchema, r.Value); err != nil {
			t.Error(err)
		}
	}

	// numeric.mapping=best_fit: NUMERIC(10,2) → float64, NUMERIC(4,0) → int16.
	task2 := startTask(t, f.config("mode", "incrementing", "table.whitelist", "types", "incrementing.column.name", "id", "numeric.mapping", "best_fit"), nil)
	recs = drain(t, task2)
	v = recs[0].Value.(*schema.Struct)
	if v.Get("n") != 1234.56 || v.Get("n4") != int16(12) {
		t.Errorf("best_fit: n=%#v n4=%#v", v.Get("n"), v.Get("n4"))
	}
}

// TestRestartFromOffset stops a task after its first batch was committed
// and starts another from the stored offsets: nothing is missed, and only
// what the mode allows is read again.
func TestRestartFromOffset(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		for _, mode := range []string{ModeIncrementing, ModeTimestamp} {
			t.Run(mode, func(t *testing.T) {
				f := newFixture(t, b)
				f.exec(t, ordersDDL)
				f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 00:00:01'), ('b', '2024-01-01 00:00:02'),
					('c', '2024-01-01 00:00:02'), ('d', '2024-01-01 00:00:03'), ('e', '2024-01-01 00:00:04')`)
				cfg := f.config("mode", mode, "table.whitelist", "orders", "timestamp.column.name", "updated_at", "batch.max.rows", "2")
				offs := newOffsets()
				task := startTask(t, cfg, offs)
				first, err := task.Poll(t.Context())
				if err != nil || len(first) != 2 {
					t.Fatalf("first poll: %d records, %v", len(first), err)
				}
				offs.commit(first) // Kafka acked the first batch, then the worker died
				task.Stop()
				f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('f', '2024-01-01 00:00:05')`)
				task2 := startTask(t, cfg, offs)
				rest := names(drain(t, task2))
				want := []string{"c", "d", "e", "f"}
				if mode == ModeTimestamp {
					// b shares its timestamp with c, so b's offset stayed at a's
					// timestamp and b is read again (at-least-once).
					want = []string{"b", "c", "d", "e", "f"}
				}
				if !reflect.DeepEqual(rest, want) {
					t.Errorf("after restart %v, want %v", rest, want)
				}
			})
		}
	})
}

// TestTablesDiscoveredAndDropped: new tables are picked up without a
// restart; a dropped table stops cleanly.
func TestTablesDiscoveredAndDropped(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, `CREATE TABLE a (id $SERIAL, name VARCHAR(10))`)
		f.exec(t, `INSERT INTO a (name) VALUES ('a1')`)
		task := startTask(t, f.config("mode", "incrementing", "table.poll.interval.ms", "200"), nil)
		if got := drain(t, task); len(got) != 1 || got[0].Topic != "test-a" {
			t.Fatalf("first: %v", got)
		}
		f.exec(t, `CREATE TABLE b (id $SERIAL, name VARCHAR(10))`)
		f.exec(t, `INSERT INTO b (name) VALUES ('b1'), ('b2')`)
		got := pollFor(t, task, 800*time.Millisecond)
		if len(got) != 2 || got[0].Topic != "test-b" {
			t.Fatalf("new table: %d records %v", len(got), got)
		}
		f.exec(t, `DROP TABLE a`)
		f.exec(t, `INSERT INTO b (name) VALUES ('b3')`)
		got = pollFor(t, task, 800*time.Millisecond)
		if len(got) != 1 || got[0].Topic != "test-b" {
			t.Fatalf("after drop: %v", got)
		}
		if len(task.queriers) != 1 {
			t.Errorf("queriers after drop: %d", len(task.queriers))
		}
	})
}

// TestTasksSplitTables: tables are spread over tasks in contiguous groups;
// the tasks together read every table once.
func TestTasksSplitTables(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		for _, n := range []string{"t1", "t2", "t3", "t4", "t5"} {
			f.exec(t, `CREATE TABLE `+n+` (id $SERIAL, name VARCHAR(10))`)
			f.exec(t, `INSERT INTO `+n+` (name) VALUES ('`+n+`')`)
		}
		cfg := f.config("mode", "incrementing")
		tcs, err := SourcePlugin{}.TaskConfigs(t.Context(), cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(tcs) != 2 {
			t.Fatalf("%d task configs", len(tcs))
		}
		var groups [][]string
		for _, tc := range tcs {
			var g []string
			if err := json.Unmarshal([]byte(tc["tables"]), &g); err != nil {
				t.Fatal(err)
			}
			groups = append(groups, g)
		}
		if len(groups[0]) != 3 || len(groups[1]) != 2 || groups[1][0] != f.fqn("t4") {
			t.Errorf("groups %v", groups)
		}
		var topics []string
		for _, tc := range tcs {
			task := startTask(t, tc, nil)
			for _, r := range drain(t, task) {
				topics = append(topics, r.Topic)
			}
		}
		sort.Strings(topics)
		if !reflect.DeepEqual(topics, []string{"test-t1", "test-t2", "test-t3", "test-t4", "test-t5"}) {
			t.Errorf("topics %v", topics)
		}
		// More tasks than tables: one task per table.
		if tcs, _ := (SourcePlugin{}).TaskConfigs(t.Context(), cfg, 10); len(tcs) != 5 {
			t.Errorf("tasks.max=10: %d tasks", len(tcs))
		}
	})
}

func TestValidateNonNull(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, `CREATE TABLE loose (seq BIGINT, changed $TS, name VARCHAR(10))`)
		f.exec(t, `INSERT INTO loose VALUES (1, '2024-01-01 00:00:01', 'x')`)
		for _, c := range []struct {
			cfg    []string
			column string
		}{
			{[]string{"mode", "incrementing", "incrementing.column.name", "seq"}, "seq"},
			{[]string{"mode", "timestamp", "timestamp.column.name", "changed"}, "changed"},
		} {
			cfg := f.config(append(c.cfg, "table.whitelist", "loose")...)
			err := NewSourceTask().Start(t.Context(), cfg, taskContext(t))
			if err == nil || !strings.Contains(err.Error(), c.column) || !strings.Contains(err.Error(), "nullable") {
				t.Errorf("%v: error %v, want one naming %s as nullable", c.cfg, err, c.column)
			}
			cfg["validate.non.null"] = "false"
			task := startTask(t, cfg, nil)
			if got := drain(t, task); len(got) != 1 {
				t.Errorf("validate.non.null=false: %d records", len(got))
			}
		}
	})
}

func TestRecordKeyPrimaryKey(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, `CREATE TABLE order_lines (order_id INT NOT NULL, line INT NOT NULL, qty INT, seq BIGINT NOT NULL, PRIMARY KEY (order_id, line))`)
		f.exec(t, `INSERT INTO order_lines VALUES (7, 2, 10, 1), (7, 1, 5, 2)`)
		task := startTask(t, f.config("mode", "incrementing", "incrementing.column.name", "seq", "table.whitelist", "order_lines",
			"record.key.mode", "primary_key"), nil)
		recs := drain(t, task)
		if len(recs) != 2 {
			t.Fatalf("%d records", len(recs))
		}
		k := recs[0].Key.(*schema.Struct)
		if fieldKinds(recs[0].KeySchema) != "order_id:int32 line:int32" || !reflect.DeepEqual(k.Values, []any{int32(7), int32(2)}) {
			t.Errorf("key %s %v", fieldKinds(recs[0].KeySchema), k.Values)
		}
		if err := schema.Validate(recs[0].KeySchema, recs[0].Key); err != nil {
			t.Error(err)
		}
		// Query mode names its key columns.
		cfg := f.config("mode", "bulk", "query", "SELECT order_id, line, qty FROM order_lines", "record.key.mode", "primary_key", "record.key.fields", "order_id,line")
		q := startTask(t, cfg, nil)
		if got := pollN(t, q, 2); got[0].Key == nil {
			t.Error("query mode: no key")
		}
	})
}

// TestTimestampDelay: rows younger than timestamp.delay.interval.ms by the
// database clock are left for a later poll.
func TestTimestampDelay(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('old', '2024-01-01 00:00:01'), ('new', $NOW)`)
		task := startTask(t, f.config("mode", "timestamp", "table.whitelist", "orders", "timestamp.column.name", "updated_at",
			"timestamp.delay.interval.ms", "1500"), nil)
		if got := names(drain(t, task)); !reflect.DeepEqual(got, []string{"old"}) {
			t.Fatalf("first: %v, want [old]", got)
		}
		if got := names(pollFor(t, task, 2*time.Second)); !reflect.DeepEqual(got, []string{"new"}) {
			t.Fatalf("after the delay: %v, want [new]", got)
		}
	})
}

// TestTimeZone: zone-less values are read as wall clocks in db.timezone,
// and the window works in that zone.
func TestTimeZone(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 12:00:00')`)
		task := startTask(t, f.config("mode", "timestamp", "table.whitelist", "orders", "timestamp.column.name", "updated_at",
			"db.timezone", "+02:00"), nil)
		recs := drain(t, task)
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		if got := field(recs[0], "updated_at").(time.Time); !got.Equal(time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("updated_at %v, want 10:00Z", got)
		}
		if got := recs[0].SourceOffset["timestamp"]; got != time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC).UnixMilli() {
			t.Errorf("offset %v", got)
		}
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('b', '2024-01-01 12:00:01')`)
		if got := names(drain(t, task)); !reflect.DeepEqual(got, []string{"b"}) {
			t.Errorf("second poll %v, want [b]", got)
		}
	})
}

// TestSurvivesServerRestart: a database restart while the task runs is a
// transient error: the task retries and carries on where it was.
func TestSurvivesServerRestart(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 00:00:01')`)
		task := startTask(t, f.config("mode", "incrementing", "table.whitelist", "orders"), nil)
		if got := ids(drain(t, task)); !eqInts(got, []int64{1}) {
			t.Fatalf("before restart %v", got)
		}
		var err error
		if b.name == "mariadb" {
			err = harness.MariaDBServer(t).Restart(t.Context())
		} else {
			err = harness.PostgresServer(t).Restart(t.Context())
		}
		if err != nil {
			t.Fatal(err)
		}
		f.sql = f.db.Open(t) // the fixture's pooled connections died with the server
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('b', '2024-01-01 00:00:02')`)
		if got := ids(pollUntil(t, task, 1, 20*time.Second)); !eqInts(got, []int64{2}) {
			t.Fatalf("after restart %v, want [2]", got)
		}
	})
}

func TestTimestampGranularity(t *testing.T) {
	ts := time.Date(2024, 2, 29, 12, 34, 56, 123456789, time.UTC)
	cases := map[string]any{
		"connect_logical":            ts,
		"micros_long":                ts.UnixMicro(),
		"nanos_long":                 ts.UnixNano(),
		"micros_string":              "1709210096123456",
		"nanos_string":               "1709210096123456789",
		"micros_iso_datetime_string": "2024-02-29T12:34:56.123456",
		"nanos_iso_datetime_string":  "2024-02-29T12:34:56.123456789",
	}
	for g, want := range cases {
		cv := converter{d: dialect{zone: time.UTC}, granularity: g}
		c := &colDesc{Name: "t", Kind: kTimestamp}
		c.Schema = c.schema(g)
		got, err := cv.value(c, ts)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, %v; want %#v", g, got, err, want)
		}
		if err := schema.Validate(c.Schema, got); err != nil {
			t.Errorf("%s: %v", g, err)
		}
	}
}
