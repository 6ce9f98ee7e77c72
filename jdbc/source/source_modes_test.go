package source

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

const ordersDDL = `CREATE TABLE orders (id $SERIAL, name VARCHAR(50) NOT NULL, updated_at $TS NOT NULL)`

func TestBulkMode(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 00:00:01'), ('b', '2024-01-01 00:00:02'), ('c', '2024-01-01 00:00:03')`)
		task := startTask(t, f.config("mode", "bulk", "table.whitelist", "orders", "batch.max.rows", "2", "poll.interval.ms", "50"), nil)

		first := pollN(t, task, 3)
		if got := ids(first); !eqInts(got, []int64{1, 2, 3}) {
			t.Fatalf("first pass ids %v", got)
		}
		for _, r := range first {
			if r.Topic != "test-orders" {
				t.Errorf("topic %q", r.Topic)
			}
			if r.Key != nil || r.KeySchema != nil {
				t.Errorf("bulk record has a key: %v", r.Key)
			}
			if !reflect.DeepEqual(r.SourcePartition, map[string]any{"table": "orders"}) {
				t.Errorf("partition %v", r.SourcePartition)
			}
			if r.SourceOffset != nil {
				t.Errorf("bulk offset %v, want nil", r.SourceOffset)
			}
			if r.ValueSchema.Name != "orders" {
				t.Errorf("value schema name %q", r.ValueSchema.Name)
			}
		}
		// Bulk re-reads the whole table every poll.interval.ms, changes included.
		f.exec(t, `UPDATE orders SET name = 'B' WHERE id = 2`)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('d', '2024-01-01 00:00:04')`)
		second := pollN(t, task, 4)[:4]
		sort.Slice(second, func(i, j int) bool { return ids(second)[i] < ids(second)[j] }) // bulk has no ORDER BY
		if got := names(second); !reflect.DeepEqual(got, []string{"a", "B", "c", "d"}) {
			t.Fatalf("second pass %v", got)
		}
	})
}

func TestIncrementingMode(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 00:00:01'), ('b', '2024-01-01 00:00:02'), ('c', '2024-01-01 00:00:03')`)
		// incrementing.column.name left empty: the auto-increment column is found.
		task := startTask(t, f.config("mode", "incrementing", "table.whitelist", "orders", "transaction.isolation.mode", "READ_COMMITTED"), nil)
		recs := drain(t, task)
		if got := ids(recs); !eqInts(got, []int64{1, 2, 3}) {
			t.Fatalf("ids %v", got)
		}
		last := recs[len(recs)-1]
		if want := map[string]any{"protocol": "1", "table": f.fqn("orders")}; !reflect.DeepEqual(last.SourcePartition, want) {
			t.Errorf("partition %v, want %v", last.SourcePartition, want)
		}
		if want := map[string]any{"incrementing": int64(3)}; !reflect.DeepEqual(last.SourceOffset, want) {
			t.Errorf("offset %v, want %v", last.SourceOffset, want)
		}
		// Updates are invisible to incrementing mode; new rows are read.
		f.exec(t, `UPDATE orders SET name = 'B' WHERE id = 2`)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('d', '2024-01-01 00:00:04')`)
		if got := ids(drain(t, task)); !eqInts(got, []int64{4}) {
			t.Fatalf("after update+insert: ids %v, want [4]", got)
		}
		if got := drain(t, task); len(got) != 0 {
			t.Fatalf("idle poll returned %d records", len(got))
		}
	})
}

func TestTimestampMode(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 00:00:01'), ('b', '2024-01-01 00:00:02'), ('c', '2024-01-01 00:00:02'), ('d', '2024-01-01 00:00:03')`)
		task := startTask(t, f.config("mode", "timestamp", "table.whitelist", "orders", "timestamp.column.name", "updated_at"), nil)
		recs := drain(t, task)
		if got := names(recs); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
			t.Fatalf("rows %v", got)
		}
		// Rows sharing a timestamp: the offset moves to it only with the last of them.
		ts := func(s string) map[string]any {
			tm, _ := time.Parse("2006-01-02 15:04:05", s)
			return map[string]any{"timestamp": tm.UnixMilli(), "timestamp_nanos": int64(0)}
		}
		wantOffs := []map[string]any{ts("2024-01-01 00:00:01"), ts("2024-01-01 00:00:01"), ts("2024-01-01 00:00:02"), ts("2024-01-01 00:00:03")}
		for i, r := range recs {
			if !reflect.DeepEqual(r.SourceOffset, wantOffs[i]) {
				t.Errorf("record %d offset %v, want %v", i, r.SourceOffset, wantOffs[i])
			}
		}
		// Updates that move the timestamp are read again; rows not touched are not.
		f.exec(t, `UPDATE orders SET name = 'B', updated_at = '2024-01-01 00:00:05' WHERE name = 'b'`)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('e', '2024-01-01 00:00:04')`)
		if got := names(drain(t, task)); !reflect.DeepEqual(got, []string{"e", "B"}) {
			t.Fatalf("after update: %v, want [e B] (ordered by timestamp)", got)
		}
	})
}

func TestTimestampIncrementingMode(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 00:00:01'), ('b', '2024-01-01 00:00:01'), ('c', '2024-01-01 00:00:02')`)
		cfg := f.config("mode", "timestamp+incrementing", "table.whitelist", "orders", "timestamp.column.name", "updated_at",
			"incrementing.column.name", "id", "batch.max.rows", "1")
		offs := newOffsets()
		task := startTask(t, cfg, offs)
		recs := drain(t, task)
		if got := ids(recs); !eqInts(got, []int64{1, 2, 3}) {
			t.Fatalf("ids %v", got)
		}
		tm, _ := time.Parse("2006-01-02 15:04:05", "2024-01-01 00:00:01")
		if want := map[string]any{"timestamp": tm.UnixMilli(), "timestamp_nanos": int64(0), "incrementing": int64(2)}; !reflect.DeepEqual(recs[1].SourceOffset, want) {
			t.Errorf("offset %v, want %v", recs[1].SourceOffset, want)
		}
		// Restart after the first record of the equal-timestamp pair was
		// stored: the second is read, nothing is repeated.
		offs.commit(recs[:1])
		task.Stop()
		task2 := startTask(t, cfg, offs)
		if got := ids(drain(t, task2)); !eqInts(got, []int64{2, 3}) {
			t.Fatalf("after restart ids %v, want [2 3]", got)
		}
		// New rows with an equal timestamp and updated rows, no duplicates.
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('d', '2024-01-01 00:00:02')`)
		f.exec(t, `UPDATE orders SET updated_at = '2024-01-01 00:00:09' WHERE id = 1`)
		if got := ids(drain(t, task2)); !eqInts(got, []int64{4, 1}) {
			t.Fatalf("ids %v, want [4 1]", got)
		}
		if got := drain(t, task2); len(got) != 0 {
			t.Fatalf("repeat: %v", ids(got))
		}
	})
}

func TestQueryMode(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		f := newFixture(t, b)
		f.exec(t, ordersDDL)
		f.exec(t, `INSERT INTO orders (name, updated_at) VALUES ('a', '2024-01-01 00:00:01'), ('b', '2024-01-01 00:00:02')`)
		cfg := f.config("mode", "incrementing", "query", "SELECT id, name FROM orders", "incrementing.column.name", "id", "topic.prefix", "q-orders")
		delete(cfg, "table.whitelist")
		task := startTask(t, cfg, nil)
		recs := drain(t, task)
		if got := ids(recs); !eqInts(got, []int64{1, 2}) {
			t.Fatalf("ids %v", got)
		}
		r := recs[0]
		if r.Topic != "q-orders" {
			t.Errorf("topic %q, want q-orders", r.Topic)
		}
		if !reflect.DeepEqual(r.SourcePartition, map[string]any{"query": "query"}) {
			t.Errorf("partition %v", r.SourcePartition)
		}
		if r.ValueSchema.Name != "" || len(r.ValueSchema.Fields) != 2 {
			t.Errorf("query schema %+v", r.ValueSchema)
		}
		// Query mode has one task whatever tasks.max says.
		tcs, err := SourcePlugin{}.TaskConfigs(t.Context(), cfg, 4)
		if err != nil || len(tcs) != 1 {
			t.Fatalf("TaskConfigs: %d, %v", len(tcs), err)
		}
	})
}

// TestAcceptanceConfig runs the example config unchanged (with a
// jdbc:mysql:// URL) and checks the topic name.
func TestAcceptanceConfig(t *testing.T) {
	f := newFixture(t, backends[0])
	f.exec(t, `CREATE TABLE login (id INT PRIMARY KEY, username VARCHAR(40), login_time DATETIME)`)
	f.exec(t, `INSERT INTO login VALUES (1, 'alice', '2024-05-01 10:00:00'), (2, 'bob', '2024-05-01 10:00:05')`)
	cfg := map[string]string{"connector.class": "JdbcSourceConnector",
		"connection.url":        "jdbc:mysql://127.0.0.1:" + itoa(f.db.Port) + "/" + f.db.Name + "?user=root",
		"mode":                  "timestamp",
		"table.whitelist":       "login",
		"timestamp.column.name": "login_time",
		"validate.non.null":     "false",
		"topic.prefix":          "mysql."}
	if errs := (SourcePlugin{}).Validate(mustParse(t, cfg)); len(errs) > 0 {
		t.Fatal(errs)
	}
	tcs, err := SourcePlugin{}.TaskConfigs(t.Context(), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	task := startTask(t, tcs[0], nil)
	recs := drain(t, task)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		if r.Topic != "mysql.login" {
			t.Errorf("topic %q, want mysql.login", r.Topic)
		}
	}
	if got := field(recs[1], "login_time"); !got.(time.Time).Equal(time.Date(2024, 5, 1, 10, 0, 5, 0, time.UTC)) {
		t.Errorf("login_time %v", got)
	}
	if s := recs[0].ValueSchema; s.Name != "login" || !s.Fields[2].Schema.Optional || s.Fields[2].Schema.Name != schema.TimestampName {
		t.Errorf("schema %+v", s)
	}
}
