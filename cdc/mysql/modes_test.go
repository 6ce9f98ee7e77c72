package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

func afterID(r schema.Record) int32 {
	env, ok := r.Value.(*schema.Struct)
	if !ok {
		return -1
	}
	a, ok := env.Get("after").(*schema.Struct)
	if !ok {
		return -1
	}
	return a.Get("id").(int32)
}

// TestSnapshotModes covers initial_only (snapshot then nothing), no_data
// (no rows, stream from now) and always (a new snapshot on every start).
func TestSnapshotModes(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE m (id INT PRIMARY KEY)")
	mustExec(t, conn, "INSERT INTO m VALUES (1), (2)")
	topic := func(p string) string { return p + "." + db.Name + ".m" }

	t.Run("initial_only", func(t *testing.T) {
		off := &memOffsets{}
		task := startTask(t, testConfig(db, "io", "snapshot.mode", "initial_only"), off)
		c := &collector{t: t, task: task, off: off}
		c.pollUntil(10*time.Second, "snapshot", func() bool { return c.count(topic("io")) >= 2 })
		mustExec(t, conn, "INSERT INTO m VALUES (3)")
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			recs, err := task.Poll(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			recs = ackPolled(task, recs, nil)
			if len(recs) > 0 {
				t.Fatalf("initial_only emitted %d records after the snapshot", len(recs))
			}
		}
		task.Stop()
		// a restart after a completed snapshot does nothing either
		task = startTask(t, testConfig(db, "io", "snapshot.mode", "initial_only"), off)
		if recs, err := task.Poll(t.Context()); err != nil || len(recs) != 0 {
			t.Fatalf("restart: %d records, %v", len(recs), err)
		}
		mustExec(t, conn, "DELETE FROM m WHERE id = 3")
	})
	t.Run("no_data", func(t *testing.T) {
		off := &memOffsets{}
		task := startTask(t, testConfig(db, "nd", "snapshot.mode", "schema_only"), off)
		c := &collector{t: t, task: task, off: off}
		c.pollUntil(10*time.Second, "schema", func() bool { return c.count("nd") >= 1 })
		mustExec(t, conn, "INSERT INTO m VALUES (4)")
		c.pollUntil(10*time.Second, "insert", func() bool { return c.count(topic("nd")) >= 1 })
		for _, r := range c.recs {
			if r.Topic == topic("nd") && (opOf(r) != "c" || afterID(r) != 4) {
				t.Fatalf("no_data emitted %s id %d", opOf(r), afterID(r))
			}
		}
		mustExec(t, conn, "DELETE FROM m WHERE id = 4")
	})
	t.Run("always", func(t *testing.T) {
		off := &memOffsets{}
		for i := 0; i < 2; i++ {
			task := startTask(t, testConfig(db, "al", "snapshot.mode", "always"), off)
			c := &collector{t: t, task: task, off: off}
			c.pollUntil(10*time.Second, "snapshot", func() bool { return c.count(topic("al")) >= 2 })
			task.Stop()
		}
	})
}

// TestHeartbeatsAdvanceOffsets checks heartbeats carry the current position
// while captured tables are idle and other tables change.
func TestHeartbeatsAdvanceOffsets(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE captured (id INT PRIMARY KEY)")
	mustExec(t, conn, "CREATE TABLE other (id INT PRIMARY KEY)")
	off := &memOffsets{}
	task := startTask(t, testConfig(db, "hb", "heartbeat.interval.ms", "200", "table.include.list", db.Name+".captured"), off)
	c := &collector{t: t, task: task, off: off}
	hbTopic := cdc.HeartbeatTopic("", "hb")
	c.pollUntil(10*time.Second, "first heartbeat", func() bool { return c.count(hbTopic) >= 1 })
	first := c.recs[len(c.recs)-1].SourceOffset
	for i := 0; i < 20; i++ {
		mustExec(t, conn, "INSERT INTO other VALUES (?)", i)
	}
	c.pollUntil(10*time.Second, "moved heartbeat", func() bool {
		r := c.recs[len(c.recs)-1]
		return r.Topic == hbTopic && r.SourceOffset[offPos] != first[offPos]
	})
	r := c.recs[len(c.recs)-1]
	if r.KeySchema != cdc.HeartbeatKeySchema || r.Key.(*schema.Struct).Get("serverName") != "hb" {
		t.Fatalf("heartbeat key %v", r.Key)
	}
	if c.count("hb."+db.Name+".other") != 0 {
		t.Fatal("excluded table emitted events")
	}
}

// TestPurgedBinlogPosition: a committed offset in a purged binlog file
// fails the start with a clear error, unless snapshot.mode=when_needed,
// which takes a new snapshot.
func TestPurgedBinlogPosition(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE p (id INT PRIMARY KEY)")
	mustExec(t, conn, "INSERT INTO p VALUES (1)")
	off := &memOffsets{}
	off.commit(position{File: "mysql-bin.000000", Pos: 4, TsSec: 1}.offsetMap())
	task := Plugin{}.NewTask()
	err := task.Start(context.Background(), testConfig(db, "pg"), connector.TaskContext{Logger: testLogger(t), Offsets: off})
	if !errors.Is(err, ErrPositionPurged) || !strings.Contains(err.Error(), "when_needed") || !strings.Contains(err.Error(), "mysql-bin.000000") {
		t.Fatalf("start error = %v", err)
	}
	t2 := startTask(t, testConfig(db, "pg", "snapshot.mode", "when_needed"), off)
	c := &collector{t: t, task: t2, off: off}
	c.pollUntil(10*time.Second, "new snapshot", func() bool { return c.count("pg."+db.Name+".p") >= 1 })
	if opOf(c.recs[len(c.recs)-1]) != "r" {
		t.Fatalf("when_needed did not snapshot: %s", opOf(c.recs[len(c.recs)-1]))
	}
}

// TestResumeFromGTIDsOnly resumes from an offset that has only Debezium's
// gtids key (no file/pos), as after a failover.
func TestResumeFromGTIDsOnly(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE g (id INT PRIMARY KEY)")
	off := &memOffsets{}
	task := startTask(t, testConfig(db, "gt"), off)
	c := &collector{t: t, task: task, off: off}
	c.pollUntil(10*time.Second, "schema", func() bool { return c.count("gt") >= 1 })
	mustExec(t, conn, "INSERT INTO g VALUES (1)")
	c.pollUntil(10*time.Second, "insert", func() bool { return c.count("gt."+db.Name+".g") >= 1 })
	task.Stop()
	o, _ := off.Offset(t.Context(), nil)
	if o[offGTIDs] == nil {
		t.Fatalf("offset without gtids: %v", o)
	}
	gtidOnly := map[string]any{offGTIDs: o[offGTIDs]}
	for _, k := range []string{offEvent, offRow} {
		if o[k] != nil {
			gtidOnly[k] = o[k]
		}
	}
	off.commit(gtidOnly)
	mustExec(t, conn, "INSERT INTO g VALUES (2)")
	mustExec(t, conn, "INSERT INTO g VALUES (3)")
	c.task = startTask(t, testConfig(db, "gt"), off)
	c.pollUntil(10*time.Second, "resumed", func() bool { return c.count("gt."+db.Name+".g") >= 3 })
	var ids []int32
	for _, r := range c.recs {
		if r.Topic == "gt."+db.Name+".g" {
			ids = append(ids, afterID(r))
		}
	}
	if len(ids) != 3 || ids[0] != 1 || ids[1] != 2 || ids[2] != 3 {
		t.Fatalf("ids %v", ids)
	}
}

// TestReconnectAfterServerRestart restarts MariaDB under a streaming task:
// the reader reconnects with backoff and continues from where it was.
func TestReconnectAfterServerRestart(t *testing.T) {
	srv := harness.MariaDBServer(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE rc (id INT PRIMARY KEY)")
	off := &memOffsets{}
	task := startTask(t, testConfig(db, "rc", "connect.keep.alive.interval.ms", "2000"), off)
	c := &collector{t: t, task: task, off: off}
	c.pollUntil(10*time.Second, "schema", func() bool { return c.count("rc") >= 1 })
	mustExec(t, conn, "INSERT INTO rc VALUES (1)")
	c.pollUntil(10*time.Second, "first insert", func() bool { return c.count("rc."+db.Name+".rc") >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn2 := db.Open(t)
	mustExec(t, conn2, "INSERT INTO rc VALUES (2)")
	c.pollUntil(60*time.Second, "insert after restart", func() bool { return c.count("rc."+db.Name+".rc") >= 2 })
	if id := afterID(c.recs[len(c.recs)-1]); id != 2 {
		t.Fatalf("last id %d", id)
	}
}

// TestColumnFilterAndMariaDBClass checks column.exclude.list and the
// MariaDB class alias (connector "mariadb", io.debezium.connector.mariadb.Source).
func TestColumnFilterAndMariaDBClass(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE cf (id INT PRIMARY KEY, name VARCHAR(10), secret VARCHAR(10))")
	mustExec(t, conn, "INSERT INTO cf VALUES (1, 'a', 'x')")
	cfg := testConfig(db, "cf", "connector.class", MariaDBClass, "column.exclude.list", db.Name+`\.cf\.secret`)
	off := &memOffsets{}
	task := startTask(t, cfg, off)
	c := &collector{t: t, task: task, off: off}
	mustExec(t, conn, "INSERT INTO cf VALUES (2, 'b', 'y')")
	c.pollUntil(10*time.Second, "rows", func() bool { return c.count("cf."+db.Name+".cf") >= 2 })
	for _, r := range c.recs {
		if r.Topic != "cf."+db.Name+".cf" {
			continue
		}
		env := r.Value.(*schema.Struct)
		a := env.Get("after").(*schema.Struct)
		if _, ok := a.Schema.Field("secret"); ok {
			t.Fatal("excluded column present")
		}
		src := env.Get("source").(*schema.Struct)
		if src.Get("connector") != "mariadb" || src.Schema.Name != "io.debezium.connector.mariadb.Source" {
			t.Fatalf("source %v %s", src.Get("connector"), src.Schema.Name)
		}
	}
}

// TestServerWithoutFullRowMetadata: the start fails naming the setting.
func TestServerWithoutFullRowMetadata(t *testing.T) {
	srv := harness.MariaDBServer(t)
	db := harness.MariaDB(t)
	root := db.Open(t)
	mustExec(t, root, "SET GLOBAL binlog_row_metadata = 'MINIMAL'")
	defer mustExec(t, root, "SET GLOBAL binlog_row_metadata = 'FULL'")
	_ = srv
	task := Plugin{}.NewTask()
	err := task.Start(context.Background(), testConfig(db, "meta"), connector.TaskContext{Logger: testLogger(t)})
	if !errors.Is(err, ErrConfiguration) || !strings.Contains(err.Error(), "binlog_row_metadata=FULL") {
		t.Fatalf("start error = %v", err)
	}
}

// TestTransactionMetadataAndSnapshotMarkers checks the snapshot markers over
// several tables and the BEGIN/END events and transaction blocks of a
// transaction touching two tables, also across a restart in its middle.
func TestTransactionMetadataAndSnapshotMarkers(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	for _, q := range []string{
		"CREATE TABLE t1 (id INT PRIMARY KEY)", "CREATE TABLE t2 (id INT PRIMARY KEY)", "CREATE TABLE t3 (id INT PRIMARY KEY)",
		"INSERT INTO t1 VALUES (1), (2)", "INSERT INTO t2 VALUES (1)",
	} {
		mustExec(t, conn, q)
	}
	off := &memOffsets{}
	cfg := testConfig(db, "tx", "provide.transaction.metadata", "true", "include.schema.changes", "false", "max.batch.size", "1", "max.queue.size", "2")
	task := startTask(t, cfg, off)
	c := &collector{t: t, task: task, off: off}
	c.pollUntil(10*time.Second, "snapshot", func() bool { return len(c.recs) >= 3 })
	var markers []string
	for _, r := range c.recs {
		markers = append(markers, r.Value.(*schema.Struct).Get("source").(*schema.Struct).Get("snapshot").(string))
	}
	if strings.Join(markers, ",") != "first,last_in_data_collection,last" {
		t.Fatalf("snapshot markers %v", markers)
	}
	if c.recs[2].SourceOffset[offSnapshotCompleted] != true {
		t.Fatalf("last snapshot record offset %v", c.recs[2].SourceOffset)
	}

	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"INSERT INTO t1 VALUES (3)", "INSERT INTO t2 VALUES (2)", "INSERT INTO t1 VALUES (4)", "UPDATE t2 SET id = 5 WHERE id = 2"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Take BEGIN and two data events, commit, then kill the task mid-transaction.
	n := len(c.recs)
	c.pollUntil(10*time.Second, "first events", func() bool { return len(c.recs) >= n+3 })
	task.Stop()
	if o, _ := off.Offset(t.Context(), nil); o[offEvent] == nil {
		t.Fatalf("committed offset %v is not inside the transaction", o)
	}
	c.task = startTask(t, cfg, off)
	c.pollUntil(10*time.Second, "rest of the transaction", func() bool { return c.count("tx.transaction") >= 2 })
	var begin, end *schema.Struct
	type blk struct {
		topic       string
		total, coll int64
	}
	var blocks []blk
	for _, r := range c.recs[n:] {
		v, _ := r.Value.(*schema.Struct)
		switch {
		case r.Topic == "tx.transaction" && v.Get("status") == "BEGIN":
			if begin != nil {
				t.Fatal("BEGIN emitted twice")
			}
			begin = v
		case r.Topic == "tx.transaction":
			end = v
		case v != nil:
			tb := v.Get("transaction").(*schema.Struct)
			if tb.Get("id") != begin.Get("id") {
				t.Fatalf("transaction block id %v, BEGIN id %v", tb.Get("id"), begin.Get("id"))
			}
			blocks = append(blocks, blk{r.Topic[strings.LastIndexByte(r.Topic, '.')+1:], tb.Get("total_order").(int64), tb.Get("data_collection_order").(int64)})
		}
	}
	// t1 c, t2 c, t1 c, t2 d (+ tombstone) + t2 c for the key change; the
	// first two were re-emitted after the restart with the same orders
	want := []blk{{"t1", 1, 1}, {"t2", 2, 1}, {"t1", 3, 2}, {"t2", 4, 2}, {"t2", 5, 3}}
	var dedup []blk
	seen := map[blk]bool{}
	for _, b := range blocks {
		if !seen[b] {
			seen[b] = true
			dedup = append(dedup, b)
		}
	}
	if len(dedup) != len(want) {
		t.Fatalf("transaction blocks %v, want %v", dedup, want)
	}
	for i := range want {
		if dedup[i] != want[i] {
			t.Fatalf("transaction blocks %v, want %v", dedup, want)
		}
	}
	if end == nil || end.Get("event_count") != int64(5) {
		t.Fatalf("END %v", end)
	}
	colls := end.Get("data_collections").([]any)
	if len(colls) != 2 || colls[0].(*schema.Struct).Get("event_count") != int64(2) || colls[1].(*schema.Struct).Get("event_count") != int64(3) {
		t.Fatalf("END data_collections %v", colls)
	}
}
