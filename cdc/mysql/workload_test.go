package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/schema"
)

// testRows is the load size: TRIBUTARY_ROWS, 100k by default (1M when measuring).
func testRows() int {
	if s := os.Getenv("TRIBUTARY_ROWS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 100_000
}

const loadDDL = "CREATE TABLE %s (id INT NOT NULL PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(40), ts DATETIME(6))"

// fillTable inserts rows 1..n with multi-row INSERTs.
func fillTable(t testing.TB, db *sqlx.DB, table string, n int) {
	t.Helper()
	const chunk = 2000
	var b strings.Builder
	for start := 1; start <= n; start += chunk {
		b.Reset()
		fmt.Fprintf(&b, "INSERT INTO %s (id, v, s, ts) VALUES ", table)
		for id := start; id < start+chunk && id <= n; id++ {
			if id > start {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,%d,'row-%d','2024-01-01 00:00:00.%06d')", id, id, id, id%1000000)
		}
		mustExec(t, db, b.String())
	}
}

// writer changes tables concurrently: inserts, updates (also multi-row
// updates in one statement), deletes and primary-key changes, in
// transactions of 1–8 statements. Every committed value of v is unique and
// remembered, so a test can check that each committed change was emitted.
type writer struct {
	db      *sqlx.DB
	tables  []string
	nextID  map[string]int
	counter atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	values  map[string]map[int64]bool // table → committed v values of inserts/updates
	err     error
	txns    atomic.Int64
	// record turns on remembering committed values (set once a snapshot
	// position lies behind: changes before it may be superseded in the
	// snapshot and never appear as events).
	record atomic.Bool
}

func startWriter(t testing.TB, db *sqlx.DB, rows map[string]int) *writer {
	w := &writer{db: db, nextID: map[string]int{}, stop: make(chan struct{}), values: map[string]map[int64]bool{}}
	for tbl, n := range rows {
		w.tables = append(w.tables, tbl)
		w.nextID[tbl] = n + 1
		w.values[tbl] = map[int64]bool{}
	}
	w.counter.Store(1 << 40)
	w.wg.Add(1)
	go w.loop()
	return w
}

func (w *writer) loop() {
	defer w.wg.Done()
	rng := rand.New(rand.NewPCG(1, 2))
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		if err := w.txn(rng); err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
		w.txns.Add(1)
	}
}

func (w *writer) txn(rng *rand.Rand) error {
	tx, err := w.db.Begin()
	if err != nil {
		return err
	}
	committed := map[string][]int64{}
	n := 1 + rng.IntN(8)
	for i := 0; i < n; i++ {
		tbl := w.tables[rng.IntN(len(w.tables))]
		maxID := w.nextID[tbl]
		v := w.counter.Add(1)
		var q string
		track := false
		switch op := rng.IntN(100); {
		case op < 35:
			id := w.nextID[tbl]
			w.nextID[tbl]++
			q = fmt.Sprintf("INSERT INTO %s (id, v, s, ts) VALUES (%d, %d, 'ins-%d', NOW(6))", tbl, id, v, v)
			track = true
		case op < 70:
			q = fmt.Sprintf("UPDATE %s SET v = %d, s = CONCAT('upd-', %d) WHERE id = %d", tbl, v, v, 1+rng.IntN(maxID))
			track = true
		case op < 80:
			lo := 1 + rng.IntN(maxID)
			q = fmt.Sprintf("UPDATE %s SET v = v + 1 WHERE id BETWEEN %d AND %d", tbl, lo, lo+40)
		case op < 95:
			q = fmt.Sprintf("DELETE FROM %s WHERE id = %d", tbl, 1+rng.IntN(maxID))
		default:
			// primary-key change
			id := w.nextID[tbl]
			w.nextID[tbl]++
			q = fmt.Sprintf("UPDATE %s SET id = %d, v = %d WHERE id = %d", tbl, id, v, 1+rng.IntN(maxID))
			track = true
		}
		res, err := tx.Exec(q)
		if err != nil {
			tx.Rollback()
			if strings.Contains(err.Error(), "Duplicate") {
				return nil
			}
			return fmt.Errorf("%s: %w", q, err)
		}
		if n, _ := res.RowsAffected(); n > 0 && track && w.record.Load() {
			committed[tbl] = append(committed[tbl], v)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	w.mu.Lock()
	for tbl, vs := range committed {
		for _, v := range vs {
			w.values[tbl][v] = true
		}
	}
	w.mu.Unlock()
	return nil
}

func (w *writer) halt(t testing.TB) {
	close(w.stop)
	w.wg.Wait()
	if w.err != nil {
		t.Fatalf("writer: %v", w.err)
	}
}

// sourceState reads a load table as replay() renders it.
func sourceState(t testing.TB, db *sqlx.DB, table string) map[string]string {
	rows, err := db.Query("SELECT id, v, s, ts FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id int32
		var v int64
		var s sql.NullString
		var ts sql.NullTime
		if err := rows.Scan(&id, &v, &s, &ts); err != nil {
			t.Fatal(err)
		}
		sv := "null"
		if s.Valid {
			sv = strconv.Quote(s.String)
		}
		tv := "null"
		if ts.Valid {
			tv = strconv.FormatInt(ts.Time.UnixMicro(), 10)
		}
		out[fmt.Sprintf(`{"id":%d}`, id)] = fmt.Sprintf(`{"id":%d,"v":%d,"s":%s,"ts":%s}`, id, v, sv, tv)
	}
	return out
}

func compareState(t testing.TB, table string, want, got map[string]string) {
	t.Helper()
	missing, extra, diff := 0, 0, 0
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			if missing++; missing <= 5 {
				t.Errorf("%s: key %s missing downstream (source %s)", table, k, w)
			}
		case g != w:
			if diff++; diff <= 5 {
				t.Errorf("%s: key %s differs: source %s, replayed %s", table, k, w, g)
			}
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			if extra++; extra <= 5 {
				t.Errorf("%s: key %s extra downstream (%s)", table, k, g)
			}
		}
	}
	if missing+extra+diff > 0 {
		t.Fatalf("%s: %d missing, %d extra, %d different (of %d source rows)", table, missing, extra, diff, len(want))
	}
}

// emittedValues collects the v values of after images per topic.
type emittedValues map[string]map[int64]bool

func (e emittedValues) add(r schema.Record) {
	if r.Value == nil {
		return
	}
	env, ok := r.Value.(*schema.Struct)
	if !ok {
		return
	}
	if a, ok := env.Get("after").(*schema.Struct); ok {
		if v, ok := a.Get("v").(int64); ok {
			if e[r.Topic] == nil {
				e[r.Topic] = map[int64]bool{}
			}
			e[r.Topic][v] = true
		}
	}
}

// checkValuesEmitted checks that every committed v value of inserts and
// updates appears in some emitted after image.
func checkValuesEmitted(t testing.TB, w *writer, recs []schema.Record, topicOf func(string) string) {
	t.Helper()
	e := emittedValues{}
	for _, r := range recs {
		e.add(r)
	}
	checkEmitted(t, w, e, topicOf)
}

func checkEmitted(t testing.TB, w *writer, e emittedValues, topicOf func(string) string) {
	t.Helper()
	for tbl, vals := range w.values {
		seen := e[topicOf(tbl)]
		lost := 0
		for v := range vals {
			if !seen[v] {
				lost++
			}
		}
		if lost > 0 {
			t.Fatalf("%s: %d of %d committed changes never emitted", tbl, lost, len(vals))
		}
	}
}

// waitMarker inserts a marker row and polls until its event arrives, so
// everything committed before it was emitted.
func (c *collector) waitMarker(db *sqlx.DB, markerTopic string, n int) {
	c.t.Helper()
	mustExec(c.t, db, "INSERT INTO marker (id) VALUES (?)", n)
	c.pollUntil(120*time.Second, "marker", func() bool {
		for i := len(c.recs) - 1; i >= 0 && i >= len(c.recs)-5000; i-- {
			r := c.recs[i]
			if r.Topic == markerTopic && opOf(r) == "c" { // streamed, not read by a snapshot
				if a, ok := r.Value.(*schema.Struct).Get("after").(*schema.Struct); ok && a.Get("id").(int32) == int32(n) {
					return true
				}
			}
		}
		return false
	})
}

var _ = context.Background
