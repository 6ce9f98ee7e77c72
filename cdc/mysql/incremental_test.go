package mysql

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// incSetup creates the signal table, table a (id INT key, rowsA rows) and
// table b (composite key k1 INT, k2 VARCHAR; rowsB rows).
func incSetup(t *testing.T, conn *sqlx.DB, rowsA, rowsB int) {
	t.Helper()
	mustExec(t, conn, "CREATE TABLE dbz_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)")
	mustExec(t, conn, "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NOT NULL)")
	mustExec(t, conn, "CREATE TABLE b (k1 INT NOT NULL, k2 VARCHAR(10) NOT NULL, v BIGINT NOT NULL, PRIMARY KEY (k1, k2))")
	mustExec(t, conn, "CREATE TABLE marker (id INT AUTO_INCREMENT PRIMARY KEY)")
	var sb strings.Builder
	for start := 1; start <= rowsA; start += 1000 {
		sb.Reset()
		sb.WriteString("INSERT INTO a VALUES ")
		for id := start; id < start+1000 && id <= rowsA; id++ {
			if id > start {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,'a-%d',%d)", id, id, id)
		}
		mustExec(t, conn, sb.String())
	}
	for start := 0; start < rowsB; start += 1000 {
		sb.Reset()
		sb.WriteString("INSERT INTO b VALUES ")
		for i := start; i < start+1000 && i < rowsB; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,'k%02d',%d)", i/20, i%20, i)
		}
		mustExec(t, conn, sb.String())
	}
}

func incConfig(db *harness.Database, prefix string, kv ...string) map[string]string {
	base := []string{"snapshot.mode", "no_data", "include.schema.changes", "false",
		"signal.data.collection", db.Name + ".dbz_signal", "incremental.snapshot.chunk.size", "100"}
	return testConfig(db, prefix, append(base, kv...)...)
}

// waitStreaming inserts marker rows until the task emits one: the reader
// streams from before the next write.
func waitStreaming(t *testing.T, c *collector, conn *sqlx.DB, prefix, dbName string) {
	t.Helper()
	topic := prefix + "." + dbName + ".marker"
	deadline := time.Now().Add(30 * time.Second)
	for c.count(topic) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the task does not stream")
		}
		mustExec(t, conn, "INSERT INTO marker VALUES ()")
		recs, err := c.task.Poll(t.Context())
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		c.recs = append(c.recs, ackPolled(c.task, recs, c.off)...)
	}
}

// flush writes a marker and polls until it arrives: everything committed
// before it was polled.
func flush(t *testing.T, c *collector, conn *sqlx.DB, prefix, dbName string) {
	t.Helper()
	topic := prefix + "." + dbName + ".marker"
	n := c.count(topic)
	mustExec(t, conn, "INSERT INTO marker VALUES ()")
	c.pollUntil(60*time.Second, "marker", func() bool { return c.count(topic) > n })
}

func incRunning(task *Task) bool {
	task.inc.mu.Lock()
	defer task.inc.mu.Unlock()
	return task.inc.state.Running() || len(task.inc.requests) > 0
}

// expectedA reads table a as the replayed topic renders it (key JSON →
// value JSON), straight from the database.
func expectedA(t *testing.T, conn *sqlx.DB, where string) map[string]string {
	t.Helper()
	rows, err := conn.Query("SELECT id, v, n FROM a " + where)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, n int64
		var v string
		if err := rows.Scan(&id, &v, &n); err != nil {
			t.Fatal(err)
		}
		vb, _ := json.Marshal(v)
		out[fmt.Sprintf(`{"id":%d}`, id)] = fmt.Sprintf(`{"id":%d,"v":%s,"n":%d}`, id, vb, n)
	}
	return out
}

func expectedB(t *testing.T, conn *sqlx.DB) map[string]string {
	t.Helper()
	rows, err := conn.Query("SELECT k1, k2, v FROM b")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k1, v int64
		var k2 string
		if err := rows.Scan(&k1, &k2, &v); err != nil {
			t.Fatal(err)
		}
		kb, _ := json.Marshal(k2)
		out[fmt.Sprintf(`{"k1":%d,"k2":%s}`, k1, kb)] = fmt.Sprintf(`{"k1":%d,"k2":%s,"v":%d}`, k1, kb, v)
	}
	return out
}

func compareReplay(t *testing.T, name string, got, want map[string]string) {
	t.Helper()
	bad := 0
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			if bad < 5 {
				t.Errorf("%s %s: topic has %q, table has %q", name, k, g, w)
			}
			bad++
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			if bad < 5 {
				t.Errorf("%s %s: topic has %q, the table has no such row", name, k, g)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d differences (%d rows in the table, %d in the topic)", name, bad, len(want), len(got))
	}
}

// incEvents returns the op=r records of a topic, checking each carries
// source.snapshot=incremental.
func incEvents(t *testing.T, recs []schema.Record, topic string) []schema.Record {
	t.Helper()
	var out []schema.Record
	for _, r := range recs {
		if r.Topic != topic || r.Value == nil {
			continue
		}
		env := r.Value.(*schema.Struct)
		snap := env.Get("source").(*schema.Struct).Get("snapshot")
		if op := env.Get("op"); op == "r" {
			if snap != cdc.SnapshotIncremental {
				t.Fatalf("op r with source.snapshot %v", snap)
			}
			out = append(out, r)
		} else if snap != cdc.SnapshotFalse {
			t.Fatalf("op %v with source.snapshot %v", op, snap)
		}
	}
	return out
}

// incWriter inserts, updates (also key changes) and deletes rows of a and b
// until stopped.
type incWriter struct {
	conn *sqlx.DB
	// hot, when set, returns the key the snapshot of a is at: half of the
	// changes to a hit the next rows, those the window is reading.
	hot   func() int
	stop  chan struct{}
	wg    sync.WaitGroup
	err   atomic.Value
	txns  atomic.Int64
	nextA int
}

func startIncWriter(conn *sqlx.DB, rowsA, rowsB int, hot func() int) *incWriter {
	w := &incWriter{conn: conn, stop: make(chan struct{}), nextA: rowsA + 1, hot: hot}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		rng := rand.New(rand.NewPCG(7, 11))
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			var q string
			pick := func() int {
				if w.hot != nil && rng.IntN(2) == 0 {
					return w.hot() + 1 + rng.IntN(40)
				}
				return 1 + rng.IntN(w.nextA)
			}
			switch op := rng.IntN(100); {
			case op < 20:
				q = fmt.Sprintf("INSERT INTO a VALUES (%d, 'ins-%d', %d)", w.nextA, w.nextA, rng.IntN(1000))
				w.nextA++
			case op < 45:
				q = fmt.Sprintf("UPDATE a SET v = 'upd-%d', n = n + 1 WHERE id = %d", rng.IntN(1e6), pick())
			case op < 55:
				q = fmt.Sprintf("DELETE FROM a WHERE id = %d", pick())
			case op < 60:
				q = fmt.Sprintf("UPDATE IGNORE a SET id = %d WHERE id = %d", w.nextA, pick())
				w.nextA++
			case op < 72:
				q = fmt.Sprintf("INSERT IGNORE INTO b VALUES (%d, 'n%d', %d)", rng.IntN(rowsB/20+50), rng.IntN(30), rng.IntN(1e6))
			case op < 90:
				q = fmt.Sprintf("UPDATE b SET v = %d WHERE k1 = %d AND k2 = 'k%02d'", rng.IntN(1e6), rng.IntN(rowsB/20), rng.IntN(20))
			default:
				q = fmt.Sprintf("DELETE FROM b WHERE k1 = %d AND k2 = 'k%02d'", rng.IntN(rowsB/20), rng.IntN(20))
			}
			if _, err := w.conn.Exec(q); err != nil {
				w.err.Store(err)
				return
			}
			w.txns.Add(1)
		}
	}()
	return w
}

func (w *incWriter) finish(t *testing.T) {
	close(w.stop)
	w.wg.Wait()
	if err, _ := w.err.Load().(error); err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// TestIncrementalSnapshotSignalTable: a row inserted into the signal table
// starts an incremental snapshot of two tables (one with a composite key,
// named by a regular expression) while a writer inserts, updates, re-keys
// and deletes their rows. The replayed topics equal the tables.
func TestIncrementalSnapshotSignalTable(t *testing.T) {
	serverLogOnFailure(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	const rowsA, rowsB = 3000, 1200
	incSetup(t, conn, rowsA, rowsB)
	prefix := "inc1"
	off := &memOffsets{}
	task := startTask(t, incConfig(db, prefix, "incremental.snapshot.chunk.size", "25"), off)
	c := &collector{t: t, task: task, off: off}
	waitStreaming(t, c, conn, prefix, db.Name)

	w := startIncWriter(conn, rowsA, rowsB, func() int {
		task.inc.mu.Lock()
		defer task.inc.mu.Unlock()
		if task.inc.state.Running() && strings.HasSuffix(task.inc.state.Collections[0].ID, ".a") && len(task.inc.state.LastKey) == 1 {
			return int(task.inc.state.LastKey[0].(int32))
		}
		return 0
	})
	time.Sleep(200 * time.Millisecond)
	sig := fmt.Sprintf(`{"data-collections": ["%s\\.(a|b)"], "type": "incremental"}`, regexp.QuoteMeta(db.Name))
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('sig-1', 'execute-snapshot', ?)", sig)
	sawState := false
	c.pollUntil(180*time.Second, "incremental snapshot", func() bool {
		if cs, _ := off.off[cdc.OffIncrementalCollections].(string); cs != "" {
			sawState = true
		}
		return len(c.recs) > 0 && sawState && !incRunning(task)
	})
	w.finish(t)
	flush(t, c, conn, prefix, db.Name)
	t.Logf("writer: %d statements during the snapshot; %d chunk rows superseded inside their window", w.txns.Load(), task.inc.dropped.Load())

	topicA, topicB := prefix+"."+db.Name+".a", prefix+"."+db.Name+".b"
	ra, rb := incEvents(t, c.recs, topicA), incEvents(t, c.recs, topicB)
	if len(ra) == 0 || len(rb) == 0 {
		t.Fatalf("incremental events: a %d, b %d", len(ra), len(rb))
	}
	t.Logf("incremental events: a %d (of %d rows), b %d (of %d rows)", len(ra), rowsA, len(rb), rowsB)
	compareReplay(t, "a", replay(t, c.recs, topicA), expectedA(t, conn, ""))
	compareReplay(t, "b", replay(t, c.recs, topicB), expectedB(t, conn))
	if _, ok := off.off[cdc.OffIncrementalCollections]; ok {
		t.Errorf("the offset after the snapshot still holds its state: %v", off.off)
	}
	// the watermarks went into the signal table, one open and one close per window
	var opens, closes int
	if err := conn.Get(&opens, "SELECT COUNT(*) FROM dbz_signal WHERE type = 'snapshot-window-open' AND id LIKE '%-open'"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Get(&closes, "SELECT COUNT(*) FROM dbz_signal WHERE type = 'snapshot-window-close' AND id LIKE '%-close'"); err != nil {
		t.Fatal(err)
	}
	if opens != closes || opens < (rowsA+rowsB)/100 {
		t.Errorf("watermarks: %d open, %d close rows", opens, closes)
	}
}

// TestIncrementalSnapshotConditionsStopPause: additional-conditions restrict
// the rows read; pause-snapshot holds chunks back, resume-snapshot goes on,
// stop-snapshot ends the snapshot before the table is done.
func TestIncrementalSnapshotConditionsStopPause(t *testing.T) {
	serverLogOnFailure(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	incSetup(t, conn, 3000, 0)
	prefix := "inc2"
	off := &memOffsets{}
	task := startTask(t, incConfig(db, prefix, "incremental.snapshot.chunk.size", "20"), off)
	c := &collector{t: t, task: task, off: off}
	waitStreaming(t, c, conn, prefix, db.Name)
	topicA := prefix + "." + db.Name + ".a"

	// refused by name in the log, nothing started: a blocking snapshot, a
	// surrogate key; an unknown type and a log signal change nothing either
	for _, sig := range [][2]string{
		{"execute-snapshot", fmt.Sprintf(`{"data-collections": ["%s.a"], "type": "blocking"}`, db.Name)},
		{"execute-snapshot", fmt.Sprintf(`{"data-collections": ["%s.a"], "surrogate-key": "n"}`, db.Name)},
		{"execute-snapshot", `{"data-collections": []}`},
		{"no-such-signal", "{}"},
		{"log", `{"message": "signal seen at {}"}`},
	} {
		mustExec(t, conn, "INSERT INTO dbz_signal VALUES (UUID(), ?, ?)", sig[0], sig[1])
	}
	flush(t, c, conn, prefix, db.Name)
	if incRunning(task) || len(incEvents(t, c.recs, topicA)) > 0 {
		t.Fatal("a refused signal started a snapshot")
	}

	// additional-conditions: only rows with n % 7 = 3
	sig := fmt.Sprintf(`{"data-collections": ["%s.a"], "additional-conditions": [{"data-collection": "%s.A", "filter": "n %% 7 = 3"}]}`, db.Name, db.Name)
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('cond-1', 'execute-snapshot', ?)", sig)
	c.pollUntil(120*time.Second, "conditional snapshot", func() bool { return len(incEvents(t, c.recs, topicA)) > 0 && !incRunning(task) })
	flush(t, c, conn, prefix, db.Name)
	got := map[string]string{}
	for _, r := range incEvents(t, c.recs, topicA) {
		replayOne(t, got, r, topicA)
	}
	compareReplay(t, "a where n % 7 = 3", got, expectedA(t, conn, "WHERE n % 7 = 3"))

	// pause, resume, stop
	c.recs = nil
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('s-2', 'execute-snapshot', ?)", fmt.Sprintf(`{"data-collections": ["%s.a"]}`, db.Name))
	c.pollUntil(60*time.Second, "snapshot under way", func() bool { return len(incEvents(t, c.recs, topicA)) >= 200 })
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('p-1', 'pause-snapshot', NULL)")
	flush(t, c, conn, prefix, db.Name)
	time.Sleep(300 * time.Millisecond) // the chunk under way, if any, completes
	flush(t, c, conn, prefix, db.Name)
	paused := len(incEvents(t, c.recs, topicA))
	time.Sleep(time.Second)
	flush(t, c, conn, prefix, db.Name)
	if n := len(incEvents(t, c.recs, topicA)); n != paused {
		t.Fatalf("paused snapshot went on: %d → %d rows", paused, n)
	}
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('r-1', 'resume-snapshot', '{}')")
	c.pollUntil(60*time.Second, "resumed snapshot", func() bool { return len(incEvents(t, c.recs, topicA)) >= paused+200 })
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('x-1', 'stop-snapshot', ?)", fmt.Sprintf(`{"data-collections": ["%s.a"], "type": "incremental"}`, db.Name))
	c.pollUntil(60*time.Second, "stopped snapshot", func() bool { return !incRunning(task) })
	flush(t, c, conn, prefix, db.Name)
	stopped := len(incEvents(t, c.recs, topicA))
	time.Sleep(time.Second)
	flush(t, c, conn, prefix, db.Name)
	if n := len(incEvents(t, c.recs, topicA)); n != stopped || n >= 3000 {
		t.Fatalf("stop-snapshot: %d rows when stopped, %d later, of 3000", stopped, n)
	}
	t.Logf("rows before pause %d, when stopped %d of 3000", paused, stopped)
}

// TestIncrementalSnapshotResume: a task stopped in the middle of an
// incremental snapshot resumes from the committed offset: the first chunk of
// the new task starts right after the stored primary key, and the two runs'
// records together replay into the table.
func TestIncrementalSnapshotResume(t *testing.T) {
	serverLogOnFailure(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	incSetup(t, conn, 3000, 0)
	mustExec(t, conn, "DELETE FROM a WHERE id % 10 = 4") // gaps: the next key is not last+1
	prefix := "inc3"
	off := &memOffsets{}
	cfg := incConfig(db, prefix, "incremental.snapshot.chunk.size", "50")
	task := startTask(t, cfg, off)
	c := &collector{t: t, task: task, off: off}
	waitStreaming(t, c, conn, prefix, db.Name)
	topicA := prefix + "." + db.Name + ".a"
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('sig-r', 'execute-snapshot', ?)", fmt.Sprintf(`{"data-collections": ["%s.a"]}`, db.Name))
	c.pollUntil(60*time.Second, "half the snapshot", func() bool { return len(incEvents(t, c.recs, topicA)) >= 1200 })
	task.Stop()

	stored := off.off
	// Debezium's offset keys and formats (AbstractIncrementalSnapshotContext.store):
	// the queue as Jackson writes a List<LinkedHashMap>, keys as hex Java
	// serializations of Object[].
	wantColl := `[{"incremental_snapshot_collections_id":"` + db.Name + `.a","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":null,"incremental_snapshot_collections_correlation_id":"sig-r"}]`
	if got := stored[cdc.OffIncrementalCollections]; got != wantColl {
		t.Fatalf("%s = %v\nwant %s", cdc.OffIncrementalCollections, got, wantColl)
	}
	if got := stored[cdc.OffIncrementalCorrelation]; got != "sig-r" {
		t.Errorf("%s = %v", cdc.OffIncrementalCorrelation, got)
	}
	maxKey, err := cdc.DecodeJavaKey(stored[cdc.OffIncrementalMaximumKey].(string))
	if err != nil {
		t.Fatal(err)
	}
	var dbMax int32
	if err := conn.Get(&dbMax, "SELECT MAX(id) FROM a"); err != nil {
		t.Fatal(err)
	}
	if len(maxKey) != 1 || maxKey[0] != dbMax {
		t.Fatalf("maximum key %v, the table's is %d", maxKey, dbMax)
	}
	lastKey, err := cdc.DecodeJavaKey(stored[cdc.OffIncrementalPrimaryKey].(string))
	if err != nil || len(lastKey) != 1 {
		t.Fatalf("stored primary key %v: %v", lastKey, err)
	}
	last := lastKey[0].(int32)
	// the stored key is that of the last snapshot record committed
	var lastCommitted int32
	for _, r := range incEvents(t, c.recs, topicA) {
		lastCommitted = r.Key.(*schema.Struct).Get("id").(int32)
	}
	if last != lastCommitted {
		t.Fatalf("stored primary key %d, last committed snapshot record %d", last, lastCommitted)
	}
	var next int32
	if err := conn.Get(&next, "SELECT MIN(id) FROM a WHERE id > ?", last); err != nil {
		t.Fatal(err)
	}

	first := c.recs
	task2 := startTask(t, cfg, off)
	c2 := &collector{t: t, task: task2, off: off}
	c2.pollUntil(120*time.Second, "resumed snapshot", func() bool { return len(incEvents(t, c2.recs, topicA)) > 0 && !incRunning(task2) })
	flush(t, c2, conn, prefix, db.Name)
	second := incEvents(t, c2.recs, topicA)
	if id := second[0].Key.(*schema.Struct).Get("id").(int32); id != next {
		t.Fatalf("the first chunk after the restart starts at id %d; the stored key was %d, the next row is %d", id, last, next)
	}
	for _, r := range second {
		if id := r.Key.(*schema.Struct).Get("id").(int32); id <= last {
			t.Fatalf("row %d read again after the restart (stored key %d)", id, last)
		}
	}
	t.Logf("stored key %d; resumed at %d; %d rows before, %d after the restart", last, next, len(incEvents(t, first, topicA)), len(second))
	compareReplay(t, "a", replay(t, append(first, c2.recs...), topicA), expectedA(t, conn, ""))
}

// TestIncrementalSnapshotRestartsUnderWriter stops the task three times in
// the middle of an incremental snapshot of two tables while a writer changes
// them (records queued but not yet polled are lost, as in a crash); each new
// task resumes after the stored key, and every run's records together replay
// into the tables.
func TestIncrementalSnapshotRestartsUnderWriter(t *testing.T) {
	serverLogOnFailure(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	const rowsA, rowsB = 3000, 2400
	incSetup(t, conn, rowsA, rowsB)
	prefix := "inc4"
	off := &memOffsets{}
	cfg := incConfig(db, prefix, "incremental.snapshot.chunk.size", "25")
	topicA, topicB := prefix+"."+db.Name+".a", prefix+"."+db.Name+".b"
	var all []schema.Record
	task := startTask(t, cfg, off)
	c := &collector{t: t, task: task, off: off}
	waitStreaming(t, c, conn, prefix, db.Name)
	w := startIncWriter(conn, rowsA, rowsB, nil)
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('sig-k', 'execute-snapshot', ?)", fmt.Sprintf(`{"data-collections": ["%s.a", "%s.b"]}`, db.Name, db.Name))
	for restart := 1; restart <= 3; restart++ {
		target := len(incEvents(t, append(all, c.recs...), topicA)) + len(incEvents(t, append(all, c.recs...), topicB)) + 1300
		c.pollUntil(120*time.Second, "snapshot progress", func() bool {
			return len(incEvents(t, append(all, c.recs...), topicA))+len(incEvents(t, append(all, c.recs...), topicB)) >= target
		})
		task.Stop()
		all = append(all, c.recs...)
		st, err := cdc.LoadIncrementalState(off.off)
		if err != nil || !st.Running() {
			t.Fatalf("restart %d: stored state %v %v", restart, st, err)
		}
		task = startTask(t, cfg, off)
		c = &collector{t: t, task: task, off: off}
		// the first snapshot row after the restart comes after the stored key
		table := st.Collections[0].ID
		c.pollUntil(60*time.Second, "first chunk after the restart", func() bool {
			return len(incEvents(t, c.recs, prefix+"."+table)) > 0 || !incRunning(task)
		})
		if rs := incEvents(t, c.recs, prefix+"."+table); len(rs) > 0 && st.LastKey != nil {
			k := rs[0].Key.(*schema.Struct)
			var first []any
			for _, f := range k.Schema.Fields {
				first = append(first, k.Get(f.Name))
			}
			if !keyAfter(first, st.LastKey) {
				t.Fatalf("restart %d: the first row after the restart %v does not follow the stored key %v", restart, first, st.LastKey)
			}
			t.Logf("restart %d: %s resumed at %v after the stored key %v", restart, table, first, st.LastKey)
		}
	}
	c.pollUntil(180*time.Second, "snapshot end", func() bool { return !incRunning(task) })
	w.finish(t)
	flush(t, c, conn, prefix, db.Name)
	all = append(all, c.recs...)
	compareReplay(t, "a", replay(t, all, topicA), expectedA(t, conn, ""))
	compareReplay(t, "b", replay(t, all, topicB), expectedB(t, conn))
}

// keyAfter compares composite keys of int32 and string parts (a > b).
func keyAfter(a, b []any) bool {
	for i := range a {
		switch x := a[i].(type) {
		case int32:
			if y := b[i].(int32); x != y {
				return x > y
			}
		case string:
			if y := b[i].(string); x != y {
				return x > y
			}
		}
	}
	return false
}

// TestIncrementalSnapshotSchemaChange: a column added in the middle of an
// incremental snapshot is in every snapshot row emitted after the schema
// change event (a chunk read before the reader saw the DDL is read again).
func TestIncrementalSnapshotSchemaChange(t *testing.T) {
	serverLogOnFailure(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	incSetup(t, conn, 3000, 0)
	prefix := "inc5"
	off := &memOffsets{}
	task := startTask(t, incConfig(db, prefix, "incremental.snapshot.chunk.size", "10", "include.schema.changes", "true"), off)
	c := &collector{t: t, task: task, off: off}
	waitStreaming(t, c, conn, prefix, db.Name)
	topicA := prefix + "." + db.Name + ".a"
	mustExec(t, conn, "INSERT INTO dbz_signal VALUES ('sig-s', 'execute-snapshot', ?)", fmt.Sprintf(`{"data-collections": ["%s.a"]}`, db.Name))
	c.pollUntil(60*time.Second, "snapshot under way", func() bool { return len(incEvents(t, c.recs, topicA)) >= 300 })
	mustExec(t, conn, "ALTER TABLE a ADD COLUMN z INT NOT NULL DEFAULT 7")
	c.pollUntil(120*time.Second, "snapshot end", func() bool { return !incRunning(task) })
	flush(t, c, conn, prefix, db.Name)
	ddl := -1
	for i, r := range c.recs {
		if r.Topic == prefix {
			if v := r.Value.(*schema.Struct); strings.Contains(fmt.Sprint(v.Get("ddl")), "ADD COLUMN z") {
				ddl = i
			}
		}
	}
	if ddl < 0 {
		t.Fatal("no schema change event for the ALTER")
	}
	before, after := 0, 0
	for i, r := range c.recs {
		if r.Topic != topicA || r.Value == nil || r.Value.(*schema.Struct).Get("op") != "r" {
			continue
		}
		a := r.Value.(*schema.Struct).Get("after").(*schema.Struct)
		_, hasZ := a.Schema.Field("z")
		switch {
		case i < ddl:
			before++
		case !hasZ:
			t.Fatalf("snapshot row %v after the schema change lacks column z", r.Key)
		default:
			after++
			if a.Get("z") != int32(7) {
				t.Fatalf("row %v: z = %v", r.Key, a.Get("z"))
			}
		}
	}
	if before == 0 || after == 0 {
		t.Fatalf("snapshot rows: %d before, %d after the schema change", before, after)
	}
	t.Logf("snapshot rows: %d before, %d after the schema change", before, after)
}
