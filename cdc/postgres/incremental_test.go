package postgres

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// incSetup creates the signal table and two tables, a (integer key, na
// rows) and b (composite key (k1 int, k2 text), nb rows).
func incSetup(t *testing.T, c *pgx.Conn, na, nb int) {
	t.Helper()
	mustExec(t, c,
		"CREATE TABLE dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data text)",
		"CREATE TABLE a (id int PRIMARY KEY, v text NOT NULL)",
		fmt.Sprintf("INSERT INTO a SELECT i, 'a-' || i FROM generate_series(1, %d) i", na),
		"CREATE TABLE b (k1 int, k2 text, v int NOT NULL, PRIMARY KEY (k1, k2))",
		fmt.Sprintf("INSERT INTO b SELECT i / 10, 'x' || (i %% 10), i FROM generate_series(0, %d) i", nb-1))
}

func incConfig(db *harness.Database, extra ...string) map[string]string {
	return baseConfig(db, append([]string{
		"snapshot.mode", "no_data",
		"publication.autocreate.mode", "filtered",
		"table.include.list", `public\.a,public\.b`,
		"signal.data.collection", "public.dbz_signal",
		"incremental.snapshot.chunk.size", "50",
		"heartbeat.interval.ms", "300",
	}, extra...)...)
}

// incRunning reports whether the task's incremental snapshot is running.
func incRunning(h *sim) bool {
	inc := h.task.inc
	inc.mu.Lock()
	defer inc.mu.Unlock()
	return inc.state.Running() || len(inc.requests) > 0
}

// hotKey is the running snapshot's last key (nil: none).
func hotKey(h *sim) []any {
	h.mu.Lock()
	task := h.task
	h.mu.Unlock()
	if task == nil || task.inc == nil {
		return nil
	}
	task.inc.mu.Lock()
	defer task.inc.mu.Unlock()
	return task.inc.state.LastKey
}

// incWriter inserts, updates and deletes rows of a and b until stopped.
type incWriter struct {
	stop  chan struct{}
	done  chan struct{}
	ops   atomic.Int64
	na    int
	nb    int
	fails atomic.Int64
}

// startIncWriter starts the writer; half of its statements hit the rows
// just after the snapshot's last key (the next chunk, read inside the
// window), so a run without deduplication fails the replay check.
func startIncWriter(t *testing.T, db *harness.Database, h *sim, na, nb int) *incWriter {
	c := pgConn(t, db)
	w := &incWriter{stop: make(chan struct{}), done: make(chan struct{}), na: na, nb: nb}
	go func() {
		defer close(w.done)
		r := rand.New(rand.NewSource(1))
		ctx := context.Background()
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			var q string
			var args []any
			ia, ib := 1+r.Intn(na), r.Intn(nb)
			if last := hotKey(h); last != nil && r.Intn(2) == 0 {
				if len(last) == 1 {
					ia = int(last[0].(int32)) + 1 + r.Intn(40)
				} else {
					ib = int(last[0].(int32))*10 + r.Intn(50)
				}
			}
			switch r.Intn(6) {
			case 0:
				q, args = "INSERT INTO a VALUES ($1, 'ins') ON CONFLICT (id) DO UPDATE SET v = 'reins'", []any{1 + r.Intn(na+na/4)}
			case 1:
				q, args = "UPDATE a SET v = v || 'u' WHERE id = $1", []any{ia}
			case 2:
				q, args = "DELETE FROM a WHERE id = $1", []any{ia}
			case 3:
				i := r.Intn(nb + nb/4)
				q, args = "INSERT INTO b VALUES ($1, $2, $3) ON CONFLICT (k1, k2) DO UPDATE SET v = b.v + 1000", []any{i / 10, fmt.Sprintf("x%d", i%10), -i}
			case 4:
				i := ib
				q, args = "UPDATE b SET v = v + 1 WHERE k1 = $1 AND k2 = $2", []any{i / 10, fmt.Sprintf("x%d", i%10)}
			default:
				i := ib
				q, args = "DELETE FROM b WHERE k1 = $1 AND k2 = $2", []any{i / 10, fmt.Sprintf("x%d", i%10)}
			}
			if _, err := c.Exec(ctx, q, args...); err != nil {
				w.fails.Add(1)
			}
			w.ops.Add(1)
			time.Sleep(time.Millisecond)
		}
	}()
	return w
}

func (w *incWriter) finish() {
	close(w.stop)
	<-w.done
}

// signal inserts a signal row into the signal table.
func signal(t *testing.T, c *pgx.Conn, id, typ, data string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), "INSERT INTO dbz_signal VALUES ($1, $2, $3)", id, typ, data); err != nil {
		t.Fatal(err)
	}
}

// incSentinel writes a row to a after the writer stopped and polls until it
// arrives: everything before it is in the log.
func incSentinel(ctx context.Context, t *testing.T, h *sim, c *pgx.Conn) {
	t.Helper()
	mustExec(t, c, "INSERT INTO a VALUES (10000000, 'sentinel')")
	h.pollUntil(ctx, 60*time.Second, func() bool {
		recs := h.topic("srv.public.a")
		for i := len(recs) - 1; i >= 0 && i >= len(recs)-50; i-- {
			if k, ok := recs[i].Key.(*schema.Struct); ok && k.Get("id") == int32(10000000) {
				return true
			}
		}
		return false
	})
}

// compareIncremental checks the replayed topics against SELECTs of a and b.
func compareIncremental(ctx context.Context, t *testing.T, h *sim, c *pgx.Conn) {
	t.Helper()
	want := map[string]string{}
	rows, err := c.Query(ctx, "SELECT id, v FROM a")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int32
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf(`{"id":%d}`, id)] = v
	}
	rows.Close()
	got := replay(t, h.topic("srv.public.a"))
	checkReplay(t, "a", got, want, func(s *schema.Struct) string { return s.Get("v").(string) })

	want = map[string]string{}
	rows, err = c.Query(ctx, "SELECT k1, k2, v FROM b")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k1, v int32
		var k2 string
		if err := rows.Scan(&k1, &k2, &v); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf(`{"k1":%d,"k2":%q}`, k1, k2)] = fmt.Sprint(v)
	}
	rows.Close()
	got = replay(t, h.topic("srv.public.b"))
	checkReplay(t, "b", got, want, func(s *schema.Struct) string { return fmt.Sprint(s.Get("v")) })
}

func checkReplay(t *testing.T, name string, got map[string]*schema.Struct, want map[string]string, val func(*schema.Struct) string) {
	t.Helper()
	bad := 0
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			bad++
			if bad < 5 {
				t.Errorf("%s: row %s missing from the replayed topic", name, k)
			}
		case val(g) != v:
			bad++
			if bad < 5 {
				t.Errorf("%s: row %s replays as %q, the table has %q", name, k, val(g), v)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			bad++
			if bad < 5 {
				t.Errorf("%s: row %s is in the replayed topic but not in the table", name, k)
			}
		}
	}
	if bad > 0 || len(got) != len(want) {
		t.Fatalf("%s: %d differences (table %d rows, replay %d)", name, bad, len(want), len(got))
	}
}

// snapshotReads counts op r events per topic and checks their marker.
func snapshotReads(t *testing.T, recs []schema.Record) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, r := range recs {
		env, ok := r.Value.(*schema.Struct)
		if !ok || env.Get("op") != "r" {
			continue
		}
		if m := env.Get("source").(*schema.Struct).Get("snapshot"); m != cdc.SnapshotIncremental {
			t.Fatalf("%s: snapshot read with source.snapshot %v, want incremental", r.Topic, m)
		}
		n[r.Topic]++
	}
	return n
}

// TestIncrementalSnapshotSignalTable: an execute-snapshot row in the signal
// table (data-collections as a regular expression) snapshots a and b (a
// composite key) in chunks while a writer inserts, updates and deletes
// their rows; the replayed topics equal the tables and every read is op r
// with source.snapshot "incremental". The signal table is not in
// table.include.list: the filtered publication must add it.
func TestIncrementalSnapshotSignalTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const na, nb = 20000, 10000
	db := harness.Postgres(t)
	c := pgConn(t, db)
	incSetup(t, c, na, nb)
	cfg := incConfig(db)
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollFor(ctx, time.Second)
	var published bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND tablename = 'dbz_signal')", cfg["publication.name"]).Scan(&published); err != nil || !published {
		t.Fatalf("the signal table is not in the filtered publication (%v)", err)
	}
	w := startIncWriter(t, db, h, na, nb)
	signal(t, c, "sig-1", "execute-snapshot", `{"data-collections": ["public\\.(a|b)"], "type": "incremental"}`)
	start := time.Now()
	h.pollUntil(ctx, time.Minute, func() bool { return len(snapshotReads(t, h.records())) > 0 })
	h.pollUntil(ctx, 3*time.Minute, func() bool { return !incRunning(h) })
	took := time.Since(start)
	w.finish()
	incSentinel(ctx, t, h, c)
	reads := snapshotReads(t, h.records())
	if reads["srv.public.a"] < na/2 || reads["srv.public.b"] < nb/2 {
		t.Fatalf("snapshot reads %v: too few", reads)
	}
	compareIncremental(ctx, t, h, c)
	t.Logf("incremental snapshot of %d+%d rows under %d writer statements: %s, reads %v, chunk rows superseded inside a window: %d",
		na, nb, w.ops.Load(), took.Round(time.Millisecond), reads, h.task.inc.dropped.Load())
}

// TestIncrementalSnapshotStopPauseResume: pause-snapshot stops the reads,
// resume-snapshot continues them, stop-snapshot ends the snapshot early and
// no read follows.
func TestIncrementalSnapshotStopPauseResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	incSetup(t, c, 20000, 10)
	cfg := incConfig(db, "incremental.snapshot.chunk.size", "20")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollFor(ctx, time.Second)
	signal(t, c, "sig-1", "execute-snapshot", `{"data-collections": ["public.a"]}`)
	reads := func() int { return snapshotReads(t, h.records())["srv.public.a"] }
	h.pollUntil(ctx, time.Minute, func() bool { return reads() >= 100 })
	signal(t, c, "sig-2", "pause-snapshot", "")
	h.pollFor(ctx, 2*time.Second)
	paused := reads()
	h.pollFor(ctx, 2*time.Second)
	if got := reads(); got != paused {
		t.Fatalf("%d reads while paused (from %d)", got-paused, paused)
	}
	signal(t, c, "sig-3", "resume-snapshot", "")
	h.pollUntil(ctx, time.Minute, func() bool { return reads() >= paused+100 })
	signal(t, c, "sig-4", "stop-snapshot", `{"data-collections": ["public.a"], "type": "incremental"}`)
	h.pollUntil(ctx, time.Minute, func() bool { return !incRunning(h) })
	h.pollFor(ctx, time.Second)
	stopped := reads()
	h.pollFor(ctx, 2*time.Second)
	if got := reads(); got != stopped || got >= 20000 {
		t.Fatalf("reads after stop-snapshot: %d (at the stop %d of 20000)", got, stopped)
	}
	o, _ := h.offsets.Offset(ctx, map[string]any{"server": "srv"})
	if _, ok := o[cdc.OffIncrementalCollections]; ok {
		t.Fatalf("the offset after stop-snapshot still holds %s", cdc.OffIncrementalCollections)
	}
	t.Logf("paused at %d reads, stopped at %d of 20000", paused, stopped)
}

// keyAfter reports whether record key k is after the stored chunk key last
// in primary-key order (a: id; b: (k1, k2)).
func keyAfter(k *schema.Struct, last []any) bool {
	if len(last) == 1 {
		return k.Get("id").(int32) > last[0].(int32)
	}
	k1, l1 := k.Get("k1").(int32), last[0].(int32)
	return k1 > l1 || (k1 == l1 && strings.Compare(k.Get("k2").(string), last[1].(string)) > 0)
}

// TestIncrementalSnapshotRestart kills the task (no Stop) twice in the
// middle of the incremental snapshot, once in a and once in b, under the
// writer: each restart resumes after the key stored in the committed offset
// (no read of a key at or before it) and the final replay equals the tables.
func TestIncrementalSnapshotRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const na, nb = 2000, 2000
	db := harness.Postgres(t)
	c := pgConn(t, db)
	incSetup(t, c, na, nb)
	cfg := incConfig(db, "incremental.snapshot.chunk.size", "40")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	h.pollFor(ctx, time.Second)
	w := startIncWriter(t, db, h, na, nb)
	signal(t, c, "sig-1", "execute-snapshot", `{"data-collections": ["public.a", "public.b"]}`)
	var mu sync.Mutex
	restarts := 0
	for _, when := range []struct{ topic string }{{"srv.public.a"}, {"srv.public.b"}} {
		h.pollUntil(ctx, 2*time.Minute, func() bool { return snapshotReads(t, h.records())[when.topic] >= 400 })
		h.kill()
		o, _ := h.offsets.Offset(ctx, map[string]any{"server": "srv"})
		st, err := cdc.LoadIncrementalState(o)
		if err != nil || !st.Running() || st.LastKey == nil {
			t.Fatalf("committed offset holds no running incremental snapshot: %v %v", st, err)
		}
		table := "srv." + st.Collections[0].ID
		if table != when.topic {
			t.Fatalf("stored snapshot table %s, want %s", table, when.topic)
		}
		from := h.count()
		h.start(ctx)
		h.pollUntil(ctx, 2*time.Minute, func() bool {
			return snapshotReads(t, h.records()[from:])[table] >= 40
		})
		first := true
		for _, r := range h.records()[from:] {
			env, ok := r.Value.(*schema.Struct)
			if !ok || env.Get("op") != "r" || r.Topic != table {
				continue
			}
			if !keyAfter(r.Key.(*schema.Struct), st.LastKey) {
				t.Fatalf("after the restart %s read key %v again (stored key %v)", table, r.Key, st.LastKey)
			}
			if first {
				t.Logf("restart in %s: stored key %v, first read after it %v", table, st.LastKey, r.Key.(*schema.Struct).Values)
				first = false
			}
		}
		mu.Lock()
		restarts++
		mu.Unlock()
	}
	h.pollUntil(ctx, 3*time.Minute, func() bool { return !incRunning(h) })
	w.finish()
	incSentinel(ctx, t, h, c)
	h.stop()
	compareIncremental(ctx, t, h, c)
	t.Logf("%d restarts; reads %v", restarts, snapshotReads(t, h.records()))
}

// TestIncrementalSnapshotFileChannelConditions: an execute-snapshot from the
// file channel with additional-conditions reads exactly the rows of a the
// filter selects (the count from the database) and nothing of b.
func TestIncrementalSnapshotFileChannelConditions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	incSetup(t, c, 1000, 100)
	file := t.TempDir() + "/signals.txt"
	cfg := incConfig(db, "signal.enabled.channels", "source,file", "signal.file", file, "signal.poll.interval.ms", "100")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollFor(ctx, time.Second)
	sig := `{"id": "f-1", "type": "execute-snapshot", "data": {"data-collections": ["public.a"], "additional-conditions": [{"data-collection": "public\\.A", "filter": "id % 3 = 0 AND v <> 'a-6'"}]}}` + "\n"
	if err := os.WriteFile(file, []byte(sig), 0o600); err != nil {
		t.Fatal(err)
	}
	h.pollUntil(ctx, time.Minute, func() bool { return len(snapshotReads(t, h.records())) > 0 })
	h.pollUntil(ctx, time.Minute, func() bool { return !incRunning(h) })
	h.pollFor(ctx, time.Second)
	var want int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM a WHERE id % 3 = 0 AND v <> 'a-6'").Scan(&want); err != nil {
		t.Fatal(err)
	}
	reads := snapshotReads(t, h.records())
	if reads["srv.public.a"] != want || reads["srv.public.b"] != 0 {
		t.Fatalf("reads %v, want %d of a (the filter's rows) and none of b", reads, want)
	}
	for _, r := range h.topic("srv.public.a") {
		if id := r.Key.(*schema.Struct).Get("id").(int32); id%3 != 0 || id == 6 {
			t.Fatalf("read id %d, which the filter excludes", id)
		}
	}
	if b, _ := os.ReadFile(file); len(b) != 0 {
		t.Errorf("the signal file was not emptied: %q", b)
	}
}
