package jdbcsink

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

var (
	evV1 = schema.NewStructSchema("ev", schema.Field{Name: "id", Schema: schema.Int32Schema}, schema.Field{Name: "a", Schema: schema.OptionalString})
	// v2 adds a required field without default: cannot be added.
	evRequired = schema.NewStructSchema("ev", schema.Field{Name: "id", Schema: schema.Int32Schema}, schema.Field{Name: "a", Schema: schema.OptionalString},
		schema.Field{Name: "must", Schema: schema.Int32Schema})
	// v3 widens a from string... and id to int64 (narrow column).
	evWide = schema.NewStructSchema("ev", schema.Field{Name: "id", Schema: schema.Int64Schema}, schema.Field{Name: "a", Schema: schema.OptionalString})
	evOpt  = schema.NewStructSchema("ev", schema.Field{Name: "id", Schema: schema.Int32Schema}, schema.Field{Name: "a", Schema: schema.OptionalString},
		schema.Field{Name: "b", Schema: schema.OptionalInt64})
)

// putFlush hands recs to Put and, when Put succeeded, flushes; it returns
// the first error. Put writes what it buffered, so a refused change may
// surface in either.
func putFlush(t *testing.T, task *Task, recs ...schema.Record) error {
	t.Helper()
	if err := task.Put(t.Context(), recs); err != nil {
		return err
	}
	return task.Flush(t.Context())
}

func tableErrOf(t *testing.T, err error) *TableError {
	t.Helper()
	var te *TableError
	if !errors.As(err, &te) {
		t.Fatalf("error %v is not a *TableError", err)
	}
	return te
}

// TestEvolveRefusals: changes the sink cannot make fail with the table,
// the column and the reason — through the reporter (DLQ) and as the task
// error without one.
func TestEvolveRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		cfg := sinkConfig(hdb, "topics", "ev", "auto.create", "true", "auto.evolve", "true", "insert.mode", "upsert",
			"pk.mode", "record_value", "pk.fields", "id")
		task := startTask(t, cfg, nil)
		mustPut(t, task, record("ev", 0, 0, nil, nil, evV1, structOf(evV1, int32(1), "x")))
		mustFlush(t, task)

		// A required field without a default.
		err := putFlush(t, task, record("ev", 0, 1, nil, nil, evRequired, structOf(evRequired, int32(2), "y", int32(5))))
		te := tableErrOf(t, err)
		if te.Table != "ev" || te.Column != "must" || !strings.Contains(te.Reason, "not optional and does not have a default value") {
			t.Fatalf("error %+v", te)
		}
		if !strings.Contains(err.Error(), "offset=1") {
			t.Fatalf("error does not name the record: %v", err)
		}

		// With a reporter the record goes to the DLQ and the rest commits.
		rep := &reporter{}
		task2 := startTask(t, cfg, rep)
		mustPut(t, task2, record("ev", 0, 1, nil, nil, evRequired, structOf(evRequired, int32(2), "y", int32(5))),
			record("ev", 0, 2, nil, nil, evOpt, structOf(evOpt, int32(3), "z", int64(7))))
		mustFlush(t, task2)
		if got := rep.offsets(); len(got) != 1 || got[0] != 1 {
			t.Fatalf("reported %v (%v)", got, rep.errs)
		}
		expectRows(t, db, "SELECT id, a, b FROM ev ORDER BY id", "1|x|NULL", "3|z|7")

		// Narrowing: the id column is 32-bit, the field became int64.
		mustPut(t, task2, record("ev", 0, 3, nil, nil, evWide, structOf(evWide, int64(1)<<40, "w")))
		mustFlush(t, task2)
		te = tableErrOf(t, rep.errs[len(rep.errs)-1])
		if te.Column != "id" || !strings.Contains(te.Reason, "type narrowing") {
			t.Fatalf("narrowing error %+v", te)
		}

		// auto.evolve=false: the missing field is named.
		strict := startTask(t, sinkConfig(hdb, "topics", "ev", "insert.mode", "upsert", "pk.mode", "record_value", "pk.fields", "id"), nil)
		evNew := schema.NewStructSchema("ev", schema.Field{Name: "id", Schema: schema.Int32Schema}, schema.Field{Name: "zz", Schema: schema.OptionalString})
		te = tableErrOf(t, putFlush(t, strict, record("ev", 0, 4, nil, nil, evNew, structOf(evNew, int32(9), "q"))))
		if te.Column != "zz" || !strings.Contains(te.Reason, "auto-evolution is disabled") {
			t.Fatalf("error %+v", te)
		}

		// auto.create=false and no table.
		nocreate := startTask(t, sinkConfig(hdb, "topics", "nosuch"), nil)
		te = tableErrOf(t, putFlush(t, nocreate, record("nosuch", 0, 0, nil, nil, evV1, structOf(evV1, int32(1), "x"))))
		if te.Table != "nosuch" || !strings.Contains(te.Reason, "auto-creation is disabled") {
			t.Fatalf("error %+v", te)
		}

		// upsert into an existing table without a primary key or unique index.
		if _, err := db.Exec("CREATE TABLE nokey (id INT, a TEXT)"); err != nil {
			t.Fatal(err)
		}
		up := startTask(t, sinkConfig(hdb, "topics", "nokey", "insert.mode", "upsert", "pk.mode", "record_value", "pk.fields", "id"), nil)
		te = tableErrOf(t, putFlush(t, up, record("nokey", 0, 0, nil, nil, evV1, structOf(evV1, int32(1), "x"))))
		if te.Table != "nokey" || !strings.Contains(te.Reason, "primary key or unique index") {
			t.Fatalf("error %+v", te)
		}
	})
}

// TestTableChangedOutside: the table is dropped, loses a column or gains
// one behind the sink's back; the sink re-reads the metadata and carries on.
func TestTableChangedOutside(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		task := startTask(t, sinkConfig(hdb, "topics", "chg", "auto.create", "true", "auto.evolve", "true", "insert.mode", "upsert",
			"pk.mode", "record_value", "pk.fields", "id"), nil)
		off := int64(0)
		put := func(id int32, a string, b int64) {
			mustPut(t, task, record("chg", 0, off, nil, nil, evOpt, structOf(evOpt, id, a, b)))
			off++
			mustFlush(t, task)
		}
		put(1, "a", 1)
		// Someone adds a column the records do not have.
		if _, err := db.Exec("ALTER TABLE chg ADD COLUMN extra INT NOT NULL DEFAULT 42"); err != nil {
			t.Fatal(err)
		}
		put(2, "b", 2)
		// Someone drops a column the records have.
		if _, err := db.Exec("ALTER TABLE chg DROP COLUMN b"); err != nil {
			t.Fatal(err)
		}
		put(3, "c", 3)
		expectRows(t, db, "SELECT id, a, b, extra FROM chg ORDER BY id", "1|a|NULL|42", "2|b|NULL|42", "3|c|3|42")
		// Someone drops the table.
		if _, err := db.Exec("DROP TABLE chg"); err != nil {
			t.Fatal(err)
		}
		put(4, "d", 4)
		expectRows(t, db, "SELECT id, a, b FROM chg ORDER BY id", "4|d|4")
	})
}

// TestConnectionLoss restarts the database server while the sink writes:
// the write is retried (max.retries, retry.backoff.ms) and nothing is lost;
// when retries run out the error wraps connector.ErrRetriable and the
// buffer is kept for the next Flush.
func TestConnectionLoss(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		restart := func(ctx context.Context) error {
			if hdb.Kind == harness.KindMariaDB {
				return harness.MariaDBServer(t).Restart(ctx)
			}
			return harness.PostgresServer(t).Restart(ctx)
		}
		g := loadGen{topic: "lost", parts: 2, perPart: 3000, keysPerPart: 1000}
		task := startTask(t, sinkConfig(hdb, "topics", g.topic, "auto.create", "true", "insert.mode", "upsert", "pk.mode", "record_key",
			"exactly.once", "true", "max.retries", "40", "retry.backoff.ms", "250", "batch.size", "200"), nil)
		pos := make([]int64, g.parts)
		mustPut(t, task, g.batch(pos, 100)...)
		mustFlush(t, task)
		pos = advance(pos, g.batch(pos, 100))

		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(20 * time.Millisecond)
			if err := restart(context.Background()); err != nil {
				t.Errorf("restart: %v", err)
			}
		}()
		for !done(pos, g.perPart) {
			recs := g.batch(pos, 100)
			mustPut(t, task, recs...)
			pos = advance(pos, recs)
		}
		mustFlush(t, task)
		wg.Wait()
		checkLoad(t, db, g, g.topic, "upsert")

		// Out of retries: Retriable, buffer kept, a later Flush succeeds.
		// The first half creates the table; the second half is buffered
		// while the server is down and its write fails.
		task2 := startTask(t, sinkConfig(hdb, "topics", "lost2", "auto.create", "true", "insert.mode", "upsert", "pk.mode", "record_key",
			"max.retries", "1", "retry.backoff.ms", "10"), nil)
		g2 := loadGen{topic: "lost2", parts: 1, perPart: 50, keysPerPart: 50}
		first := g2.batch([]int64{0}, 25)
		mustPut(t, task2, first...)
		second := g2.batch(advance([]int64{0}, first), 25)
		stop := func(ctx context.Context) error {
			if hdb.Kind == harness.KindMariaDB {
				return harness.MariaDBServer(t).Stop(ctx)
			}
			return harness.PostgresServer(t).Stop(ctx)
		}
		start := func(ctx context.Context) error {
			if hdb.Kind == harness.KindMariaDB {
				return harness.MariaDBServer(t).Start(ctx)
			}
			return harness.PostgresServer(t).Start(ctx)
		}
		if err := stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		err := task2.Put(t.Context(), second)
		if startErr := start(t.Context()); startErr != nil {
			t.Fatal(startErr)
		}
		if !errors.Is(err, connector.ErrRetriable) {
			t.Fatalf("put with the server down = %v, want ErrRetriable", err)
		}
		mustFlush(t, task2)
		checkLoad(t, hdb.Open(t), g2, "lost2", "upsert")
	})
}

// TestTruncateAndQuoting: Debezium truncate events empty the table when
// truncate.enabled=true; quote.sql.identifiers=never leaves names to the
// database (PostgreSQL folds them to lower case).
func TestTruncateAndQuoting(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		d := newDbzShape("postgres")
		d.event(t, "r", 1, nil, d.row_(1, 0, "b"))
		d.event(t, "r", 2, nil, d.row_(2, 0, "b"))
		d.records = append(d.records, schema.Record{Topic: d.topic, Offset: d.offset, ValueSchema: d.env,
			Value: structOf(d.env, nil, nil, d.sourceBlock(), nil, "t", int64(1), nil, nil)})
		d.offset++
		d.event(t, "c", 3, nil, d.row_(3, 0, "b"))
		cfg := sinkConfig(hdb, "topics", d.topic, "table.name.format", "Trunc", "auto.create", "true", "insert.mode", "upsert",
			"pk.mode", "record_key", "delete.enabled", "true", "truncate.enabled", "true", "quote.sql.identifiers", "never")
		task := startTask(t, cfg, nil)
		mustPut(t, task, d.records...)
		mustFlush(t, task)
		table := pick(hdb, "Trunc", "trunc")
		expectRows(t, db, "SELECT id, name FROM "+table+" ORDER BY id", "3|n3_v0")
	})
}

// TestLargeBatches: a batch with more than 65535 parameters, and (MariaDB)
// one larger than max_allowed_packet, are split into several statements
// inside the one transaction.
func TestLargeBatches(t *testing.T) {
	var fields []schema.Field
	fields = append(fields, schema.Field{Name: "id", Schema: schema.Int32Schema})
	for i := 0; i < 39; i++ {
		fields = append(fields, schema.Field{Name: "c" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Schema: schema.OptionalInt32})
	}
	wide := schema.NewStructSchema("wide", fields...)
	blob := schema.NewStructSchema("blob", schema.Field{Name: "id", Schema: schema.Int32Schema}, schema.Field{Name: "b", Schema: schema.OptionalString})
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		task := startTask(t, sinkConfig(hdb, "topics", "wide,blobs", "auto.create", "true", "insert.mode", "upsert",
			"pk.mode", "record_value", "pk.fields", "id", "batch.size", "100000"), nil)
		var recs []schema.Record
		for i := 0; i < 2000; i++ { // 2000 rows × 40 columns = 80000 parameters
			vals := []any{int32(i)}
			for j := 1; j < len(fields); j++ {
				vals = append(vals, int32(i+j))
			}
			recs = append(recs, record("wide", 0, int64(i), nil, nil, wide, structOf(wide, vals...)))
		}
		big := strings.Repeat("y", 1<<20)
		for i := 0; i < 20 && hdb.Kind == harness.KindMariaDB; i++ { // 20 MiB of text, more than max_allowed_packet (16 MiB)
			recs = append(recs, record("blobs", 0, int64(i), nil, nil, blob, structOf(blob, int32(i), big)))
		}
		mustPut(t, task, recs...)
		mustFlush(t, task)
		expectRows(t, db, "SELECT COUNT(*), SUM(id) FROM wide", "2000|1999000")
		if hdb.Kind == harness.KindMariaDB {
			expectRows(t, db, "SELECT COUNT(*), SUM(LENGTH(b)) FROM blobs", "20|20971520")
		}
	})
}
