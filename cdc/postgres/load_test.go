package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// writer changes rows of table big (id bigint PK, v text, n bigint) in small
// transactions and remembers every committed row version, so tests can
// check that each one reached the topic.
type writer struct {
	t       testing.TB
	db      *harness.Database
	maxID   atomic.Int64
	version atomic.Int64
	mu      sync.Mutex
	live    map[int64]bool
	written map[[2]int64]bool // (id, n) of committed inserts/updates
	deleted map[int64]int     // committed deletes per id
	commits atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	err     error
}

func newWriter(t testing.TB, db *harness.Database, initial int64) *writer {
	w := &writer{t: t, db: db, live: map[int64]bool{}, written: map[[2]int64]bool{}, deleted: map[int64]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
	w.maxID.Store(initial)
	w.version.Store(1_000_000_000)
	// Only rows the writer touches are tracked; the initial ones count as live.
	for i := int64(1); i <= min(initial, 5000); i++ {
		w.live[i] = true
	}
	return w
}

// run writes until stopped; pause is the sleep between transactions.
func (w *writer) run(pause time.Duration) {
	defer close(w.done)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.db.DSN())
	if err != nil {
		w.err = err
		return
	}
	defer conn.Close(ctx)
	rng := rand.New(rand.NewPCG(1, 2))
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		type change struct {
			op    byte
			id, n int64
		}
		var changes []change
		tx, err := conn.Begin(ctx)
		if err != nil {
			w.err = err
			return
		}
		nOps := 1 + rng.IntN(4)
		w.mu.Lock()
		ids := make([]int64, 0, len(w.live))
		if len(w.live) > 0 {
			for id := range w.live {
				ids = append(ids, id)
				if len(ids) >= 64 {
					break
				}
			}
		}
		w.mu.Unlock()
		touched := map[int64]bool{}
		for i := 0; i < nOps; i++ {
			n := w.version.Add(1)
			switch r := rng.IntN(10); {
			case r < 5 || len(ids) == 0:
				id := w.maxID.Add(1)
				_, err = tx.Exec(ctx, "INSERT INTO big (id, v, n) VALUES ($1, $2, $3)", id, fmt.Sprintf("ins-%d", n), n)
				changes = append(changes, change{'c', id, n})
			case r < 8:
				id := ids[rng.IntN(len(ids))]
				if touched[id] {
					continue
				}
				touched[id] = true
				_, err = tx.Exec(ctx, "UPDATE big SET v = $2, n = $3 WHERE id = $1", id, fmt.Sprintf("upd-%d", n), n)
				changes = append(changes, change{'u', id, n})
			default:
				id := ids[rng.IntN(len(ids))]
				if touched[id] {
					continue
				}
				touched[id] = true
				_, err = tx.Exec(ctx, "DELETE FROM big WHERE id = $1", id)
				changes = append(changes, change{'d', id, 0})
			}
			if err != nil {
				_ = tx.Rollback(ctx)
				w.err = err
				return
			}
		}
		if err := tx.Commit(ctx); err != nil {
			w.err = err
			return
		}
		w.commits.Add(1)
		w.mu.Lock()
		for _, c := range changes {
			switch c.op {
			case 'c', 'u':
				w.live[c.id] = true
				w.written[[2]int64{c.id, c.n}] = true
			case 'd':
				delete(w.live, c.id)
				w.deleted[c.id]++
			}
		}
		w.mu.Unlock()
		if pause > 0 {
			time.Sleep(pause)
		}
	}
}

// forget drops what was tracked so far: changes before a snapshot point
// show up in the snapshot's state, not as events.
func (w *writer) forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.written)
	clear(w.deleted)
}

func (w *writer) finish() {
	close(w.stop)
	<-w.done
	if w.err != nil {
		w.t.Fatalf("writer: %v", w.err)
	}
}

// sentinel inserts a row with id -1 and polls until it arrives: everything
// committed before it has been read.
func sentinel(ctx context.Context, t testing.TB, h *sim, c *pgx.Conn) {
	t.Helper()
	mustExec(t, c, "INSERT INTO big (id, v, n) VALUES (-1, 'sentinel', 0) ON CONFLICT (id) DO UPDATE SET n = big.n + 1")
	checked := 0
	seen := func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for ; checked < len(h.log); checked++ {
			if r := h.log[checked]; r.Topic == "srv.public.big" && r.Value != nil {
				if a, ok := r.Value.(*schema.Struct).Get("after").(*schema.Struct); ok && a.Get("id") == int64(-1) {
					return true
				}
			}
		}
		return false
	}
	h.pollUntil(ctx, 120*time.Second, seen)
}

// compareBig checks that replaying the topic gives exactly the table.
func compareBig(ctx context.Context, t testing.TB, h *sim, c *pgx.Conn) {
	t.Helper()
	state := replay(t, h.topic("srv.public.big"))
	rows, err := c.Query(ctx, "SELECT id, v, n FROM big")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, num int64
		var v string
		if err := rows.Scan(&id, &v, &num); err != nil {
			t.Fatal(err)
		}
		n++
		a := state[fmt.Sprintf(`{"id":%d}`, id)]
		if a == nil {
			t.Fatalf("row %d missing from the topic", id)
		}
		if a.Get("v") != v || a.Get("n") != num {
			t.Fatalf("row %d: topic has v=%v n=%v, table has v=%s n=%d", id, a.Get("v"), a.Get("n"), v, num)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(state) != n {
		t.Fatalf("topic replays to %d rows, table has %d", len(state), n)
	}
}

// checkWritten verifies that every committed version appeared at least once.
func (w *writer) checkWritten(t testing.TB, h *sim) {
	t.Helper()
	seen := map[[2]int64]bool{}
	dels := map[int64]int{}
	for _, r := range h.topic("srv.public.big") {
		if r.Value == nil {
			continue
		}
		env := r.Value.(*schema.Struct)
		if env.Get("op") == "d" {
			dels[env.Get("before").(*schema.Struct).Get("id").(int64)]++
			continue
		}
		a := env.Get("after").(*schema.Struct)
		if n, ok := a.Get("n").(int64); ok {
			seen[[2]int64{a.Get("id").(int64), n}] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for k := range w.written {
		if !seen[k] {
			t.Fatalf("committed version id=%d n=%d never appeared", k[0], k[1])
		}
	}
	for id, n := range w.deleted {
		if dels[id] < n {
			t.Fatalf("committed delete of id=%d appeared %d times, want ≥ %d", id, dels[id], n)
		}
	}
}

func loadBig(t testing.TB, c *pgx.Conn, rows int) {
	t.Helper()
	mustExec(t, c, "CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL, n bigint)",
		fmt.Sprintf("INSERT INTO big SELECT i, 'row-' || i, i FROM generate_series(1, %d) i", rows),
		"CREATE TABLE small (id int PRIMARY KEY, x text)",
		"INSERT INTO small SELECT i, 'x' || i FROM generate_series(1, 1000) i",
		"ANALYZE big")
}

// TestSnapshotWithConcurrentWriter snapshots a big table (TRIBUTARY_ROWS,
// default 100k) in parallel with another table while a writer changes it,
// then catches up: replaying the topic gives the table exactly.
func TestSnapshotWithConcurrentWriter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows := envInt("TRIBUTARY_ROWS", 100_000)
	db := harness.Postgres(t)
	c := pgConn(t, db)
	loadBig(t, c, rows)
	cfg := baseConfig(db, "snapshot.max.threads", "2")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	w := newWriter(t, db, int64(rows))
	go w.run(2 * time.Millisecond)
	start := time.Now()
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 4*time.Minute, func() bool { return h.topicCount("srv.public.big") >= rows })
	took := time.Since(start)
	w.forget()
	time.Sleep(300 * time.Millisecond)
	w.finish()
	sentinel(ctx, t, h, c)
	compareBig(ctx, t, h, c)
	w.checkWritten(t, h)
	if got := len(h.topic("srv.public.small")); got != 1000 {
		t.Errorf("small: %d records, want 1000", got)
	}
	t.Logf("snapshot of %d rows with a concurrent writer (%d transactions): %s (%.0f rows/s)", rows, w.commits.Load(), took.Round(time.Millisecond), float64(rows)/took.Seconds())
}

// TestAbruptRestarts kills the task (context cancelled, no Stop) at random
// points at least 10 times — during the snapshot and while streaming — with
// a writer running and some polled records never acknowledged. The final
// replay equals the table and every committed change appears at least once.
func TestAbruptRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows := envInt("TRIBUTARY_CRASH_ROWS", 10_000)
	kills := envInt("TRIBUTARY_KILLS", 12)
	db := harness.Postgres(t)
	c := pgConn(t, db)
	loadBig(t, c, rows)
	cfg := baseConfig(db, "max.batch.size", "500", "max.queue.size", "1000", "heartbeat.interval.ms", "200",
		"provide.transaction.metadata", "true")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	w := newWriter(t, db, int64(rows))
	rng := rand.New(rand.NewPCG(3, 4))
	writerStarted := false
	for k := 0; k < kills; k++ {
		h.start(ctx)
		// The first two runs die during the snapshot; the third runs
		// until the snapshot is committed; later ones die at random.
		until := time.Now().Add(time.Duration(150+rng.IntN(600)) * time.Millisecond)
		if k < 2 {
			until = time.Now().Add(time.Duration(100+rng.IntN(200)) * time.Millisecond)
		}
		for time.Now().Before(until) || (k == 2 && !h.snapshotDone()) {
			// Now and then a batch is "produced" but its offset not
			// committed: it is in flight when the task dies.
			if _, err := h.pollOnce(ctx, rng.IntN(4) != 0); err != nil {
				t.Fatalf("run %d: poll: %v", k, err)
			}
		}
		if !writerStarted && h.snapshotDone() {
			writerStarted = true
			w.forget()
			go w.run(time.Millisecond)
		}
		h.kill()
	}
	if !writerStarted {
		t.Fatalf("the snapshot never finished across %d runs", kills)
	}
	h.start(ctx)
	defer h.stop()
	time.Sleep(500 * time.Millisecond)
	w.finish()
	sentinel(ctx, t, h, c)
	compareBig(ctx, t, h, c)
	w.checkWritten(t, h)
	t.Logf("%d abrupt restarts, %d writer transactions, %d records", kills, w.commits.Load(), h.count())
}
