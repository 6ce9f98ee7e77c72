package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/runtime/verify"
)

// The captured tables, the same in both databases.
var tables = []string{"items", "events"}

var ddl = map[harness.Kind][]string{
	harness.KindMariaDB: {
		`CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price DECIMAL(12,2),
			updated_at DATETIME(6) NOT NULL, note TEXT)`,
		`CREATE TABLE events (id BIGINT PRIMARY KEY, kind VARCHAR(16) NOT NULL, payload TEXT, created_at DATETIME(6) NOT NULL,
			flag BOOLEAN NOT NULL)`,
	},
	harness.KindPostgres: {
		`CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price NUMERIC(12,2),
			updated_at TIMESTAMP(6) NOT NULL, note TEXT)`,
		`CREATE TABLE events (id BIGINT PRIMARY KEY, kind VARCHAR(16) NOT NULL, payload TEXT, created_at TIMESTAMP(6) NOT NULL,
			flag BOOLEAN NOT NULL)`,
	},
}

// initial rows lo..hi of both tables, generated in the server.
var load = map[harness.Kind][]string{
	harness.KindMariaDB: {
		`INSERT INTO items SELECT seq, CONCAT('item-', seq), MOD(seq, 100), seq / 100, '2024-01-01 00:00:00.000001' + INTERVAL seq SECOND,
			IF(MOD(seq, 7) = 0, NULL, CONCAT('note ', seq, ' ✓')) FROM seq_%d_to_%d`,
		`INSERT INTO events SELECT seq, ELT(1 + MOD(seq, 3), 'click', 'view', 'buy'), REPEAT('p', MOD(seq, 50)),
			'2024-02-01 00:00:00' + INTERVAL seq SECOND, MOD(seq, 2) FROM seq_%d_to_%d`,
	},
	harness.KindPostgres: {
		`INSERT INTO items SELECT i, 'item-' || i, mod(i, 100), i / 100.0, TIMESTAMP '2024-01-01 00:00:00.000001' + i * INTERVAL '1 second',
			CASE WHEN mod(i, 7) = 0 THEN NULL ELSE 'note ' || i || ' ✓' END FROM generate_series(%d, %d) i`,
		`INSERT INTO events SELECT i, (ARRAY['click', 'view', 'buy'])[1 + mod(i, 3)], repeat('p', mod(i, 50)),
			TIMESTAMP '2024-02-01' + i * INTERVAL '1 second', mod(i, 2) = 1 FROM generate_series(%d, %d) i`,
	},
}

var seq atomic.Int64

// TestChaos: MariaDB → PostgreSQL and PostgreSQL → MariaDB under a writer,
// kill -9 of the worker at random moments, a restart of each database
// server, and a row-by-row verification at the end; on real Kafka and on
// the embedded broker.
func TestChaos(t *testing.T) {
	harness.EachBroker(t, func(t *testing.T, b *harness.Broker) {
		t.Run("mariadb_to_postgres", func(t *testing.T) { chaos(t, b, harness.KindMariaDB) })
		t.Run("postgres_to_mariadb", func(t *testing.T) { chaos(t, b, harness.KindPostgres) })
	})
}

func chaos(t *testing.T, b *harness.Broker, srcKind harness.Kind) {
	rows := envInt("TRIBUTARY_CHAOS_ROWS", 20000)
	kills := envInt("TRIBUTARY_CHAOS_KILLS", 10)
	rate := envInt("TRIBUTARY_CHAOS_RATE", 50)
	ctx := context.Background()
	n := seq.Add(1)

	var src, dst *harness.Database
	if srcKind == harness.KindMariaDB {
		src, dst = harness.MariaDB(t), harness.Postgres(t)
	} else {
		src, dst = harness.Postgres(t), harness.MariaDB(t)
	}
	sconn, dconn := src.Open(t), dst.Open(t)
	for _, q := range ddl[srcKind] {
		mustExec(t, sconn, q)
	}
	for _, q := range load[srcKind] {
		for lo := 1; lo <= rows; lo += 50_000 {
			mustExec(t, sconn, fmt.Sprintf(q, lo, min(lo+49_999, rows)))
		}
	}

	prefix := fmt.Sprintf("chaos%d", n)
	var srcCfg map[string]string
	var topics []string
	if srcKind == harness.KindMariaDB {
		srcCfg = map[string]string{
			"connector.class":       "io.debezium.connector.mariadb.MariaDbConnector",
			"database.hostname":     src.Host,
			"database.port":         strconv.Itoa(src.Port),
			"database.user":         harness.MariaDBCDCUser,
			"database.password":     harness.MariaDBCDCPassword,
			"database.server.id":    strconv.Itoa(5500 + int(n)),
			"database.include.list": src.Name,
		}
		for _, tb := range tables {
			topics = append(topics, prefix+"."+src.Name+"."+tb)
		}
	} else {
		srcCfg = map[string]string{
			"connector.class":             "io.debezium.connector.postgresql.PostgresConnector",
			"database.hostname":           src.Host,
			"database.port":               strconv.Itoa(src.Port),
			"database.user":               src.User,
			"database.password":           src.Password,
			"database.dbname":             src.Name,
			"plugin.name":                 "pgoutput",
			"slot.name":                   prefix,
			"publication.name":            prefix,
			"publication.autocreate.mode": "filtered",
			"table.include.list":          "public.items,public.events",
		}
		for _, tb := range tables {
			topics = append(topics, prefix+".public."+tb)
		}
	}
	srcCfg["tasks.max"] = "1"
	srcCfg["topic.prefix"] = prefix
	srcCfg["snapshot.mode"] = "initial"
	sinkCfg := map[string]string{
		"connector.class":              "io.confluent.connect.jdbc.JdbcSinkConnector",
		"tasks.max":                    "1",
		"connection.url":               dst.JDBCURL(),
		"topics":                       strings.Join(topics, ","),
		"insert.mode":                  "upsert",
		"pk.mode":                      "record_key",
		"delete.enabled":               "true",
		"auto.create":                  "true",
		"auto.evolve":                  "true",
		"transforms":                   "route",
		"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":       `[^.]+\.[^.]+\.([^.]+)`,
		"transforms.route.replacement": "$1",
	}
	w := newWorker(t, b, nil, map[string]map[string]string{"source": srcCfg, "sink": sinkCfg})

	// The writer runs from the first start until after the last kill.
	wr := newWriter(src, sconn, rows, uint64(n))
	wctx, stopWriter := context.WithCancel(ctx)
	var wwg sync.WaitGroup
	wwg.Add(1)
	go func() { defer wwg.Done(); wr.run(wctx, rate) }()
	defer func() { stopWriter(); wwg.Wait() }()

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(n)))
	phases := map[string]int{}
	restartAt := map[int]string{kills / 3: "source", 2 * kills / 3: "target"}
	start := time.Now()
	for i := 0; i < kills; i++ {
		w.start()
		// The first kills come soon after the task runs, while the
		// snapshot does (its end is not committed yet). A snapshot starts
		// over after a crash, so later kills wait until it finished (else
		// a big one would never get done) and land anywhere in streaming.
		var delay time.Duration
		if i < 3 {
			w.waitPhase("source", time.Minute, func(p string) bool { return p != "startup" })
			delay = time.Duration(rnd.IntN(500)) * time.Millisecond
		} else {
			w.waitPhase("source", 10*time.Minute, func(p string) bool { return p == "streaming" })
			delay = time.Duration(300+rnd.IntN(3000)) * time.Millisecond
		}
		if which, ok := restartAt[i]; ok {
			w.sleep(delay / 2)
			restartServer(t, which, srcKind)
			delay /= 2
		}
		w.sleep(delay)
		phase := w.phase("source")
		w.kill()
		phases[phase]++
		t.Logf("kill %d after %v (%s); writer: %d transactions, %d failed", i+1, delay.Round(time.Millisecond), phase,
			wr.txs.Load(), wr.failed.Load())
	}
	t.Logf("%d kills in %v: %v", kills, time.Since(start).Round(time.Second), phases)

	// Last start: the writer goes on for a moment, then everything must
	// converge.
	w.start()
	w.sleep(2 * time.Second)
	stopWriter()
	wwg.Wait()
	w.waitRunning(2*time.Minute, "source", "sink")
	t.Logf("writer: %d transactions (%d failed); verifying", wr.txs.Load(), wr.failed.Load())
	vctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, tb := range tables {
		rep, err := verify.Until(vctx, sconn, dconn, verify.Options{SourceTable: tb}, time.Second)
		if err != nil {
			for _, d := range rep.Diffs {
				t.Log(d)
			}
			t.Fatalf("%s: %v\n%s", tb, err, w.statuses("source", "sink"))
		}
		t.Logf("%s: %s", tb, rep.Summary())
	}
	w.stop()
	if phases["snapshot"] == 0 || phases["streaming"] == 0 {
		t.Errorf("kills by phase %v: want kills both during the snapshot and while streaming", phases)
	}
}

// phase tells from the source connector's status and committed offset
// what it is doing: "startup" (REST not answering, task not running yet),
// "snapshot" (the offset says so, or nothing is committed yet while the
// task runs: the initial snapshot has not finished) or "streaming".
func (w *worker) phase(name string) string {
	var st status
	if err := w.get("/connectors/"+name+"/status", &st); err != nil || !st.running() {
		return "startup"
	}
	off, err := w.sourceOffset(name)
	if err != nil {
		return "startup"
	}
	return phaseOf(off)
}

// waitPhase waits until the source connector's phase satisfies ok.
func (w *worker) waitPhase(name string, d time.Duration, ok func(string) bool) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for p := w.phase(name); !ok(p); p = w.phase(name) {
		w.alive()
		if time.Now().After(deadline) {
			w.t.Fatalf("%s still %s after %v", name, p, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// phaseOf tells from a committed source offset whether the connector was
// still in its initial snapshot.
func phaseOf(off map[string]any) string {
	if off == nil {
		return "snapshot"
	}
	if done, _ := off["snapshot_completed"].(bool); done {
		return "streaming"
	}
	switch v := off["snapshot"].(type) {
	case bool:
		if v {
			return "snapshot"
		}
	case string:
		if v != "" && !strings.EqualFold(v, "false") {
			return "snapshot"
		}
	}
	return "streaming"
}

// restartServer restarts the pipeline's source or target database server.
func restartServer(t *testing.T, which string, srcKind harness.Kind) {
	t.Helper()
	maria := (which == "source") == (srcKind == harness.KindMariaDB)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	var err error
	if maria {
		err = harness.MariaDBServer(t).Restart(ctx)
	} else {
		err = harness.PostgresServer(t).Restart(ctx)
	}
	if err != nil {
		t.Fatalf("restart %s server: %v", which, err)
	}
	t.Logf("restarted the %s server (%s) in %v", which, map[bool]string{true: "MariaDB", false: "PostgreSQL"}[maria],
		time.Since(start).Round(time.Millisecond))
}

func mustExec(t *testing.T, db *sqlx.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// writer changes the source tables concurrently with the pipeline:
// transactions of 1–4 inserts, updates and deletes.
type writer struct {
	db      *sqlx.DB
	pg      bool
	rnd     *rand.Rand
	next    map[string]int64
	live    map[string][]int64
	txs     atomic.Int64
	failed  atomic.Int64
	lastErr atomic.Value
}

func newWriter(d *harness.Database, db *sqlx.DB, rows int, seed uint64) *writer {
	w := &writer{db: db, pg: d.Kind == harness.KindPostgres, rnd: rand.New(rand.NewPCG(seed, 99)),
		next: map[string]int64{}, live: map[string][]int64{}}
	for _, tb := range tables {
		w.next[tb] = int64(rows) + 1
		ids := make([]int64, rows)
		for i := range ids {
			ids[i] = int64(i + 1)
		}
		w.live[tb] = ids
	}
	return w
}

func (w *writer) q(s string) string {
	if !w.pg {
		return s
	}
	n := 0
	var b strings.Builder
	for _, r := range s {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (w *writer) run(ctx context.Context, rate int) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := w.tx(ctx); err != nil {
			w.failed.Add(1)
			w.lastErr.Store(err.Error())
			if ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond) // e.g. the server is restarting
			}
		}
		w.txs.Add(1)
	}
}

type change struct {
	table string
	id    int64
	del   bool
	add   bool
}

func (w *writer) tx(ctx context.Context) error {
	tx, err := w.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var changes []change
	now := time.Now().UTC().Truncate(time.Microsecond).Format("2006-01-02 15:04:05.999999")
	for k := 1 + w.rnd.IntN(4); k > 0; k-- {
		tb := tables[w.rnd.IntN(len(tables))]
		live := w.live[tb]
		op := w.rnd.IntN(100)
		switch {
		case op < 50 || len(live) == 0: // insert
			id := w.next[tb]
			w.next[tb]++
			var err error
			if tb == "items" {
				var note any = fmt.Sprintf("new %d ünïcode", id)
				if id%5 == 0 {
					note = nil
				}
				_, err = tx.ExecContext(ctx, w.q("INSERT INTO items (id, name, qty, price, updated_at, note) VALUES (?, ?, ?, ?, ?, ?)"),
					id, fmt.Sprintf("item-%d", id), w.rnd.IntN(1000), fmt.Sprintf("%d.%02d", w.rnd.IntN(10000), w.rnd.IntN(100)), now, note)
			} else {
				_, err = tx.ExecContext(ctx, w.q("INSERT INTO events (id, kind, payload, created_at, flag) VALUES (?, ?, ?, ?, ?)"),
					id, []string{"click", "view", "buy"}[w.rnd.IntN(3)], strings.Repeat("x", w.rnd.IntN(200)), now, w.rnd.IntN(2) == 1)
			}
			if err != nil {
				return err
			}
			changes = append(changes, change{table: tb, id: id, add: true})
		case op < 85: // update
			id := live[w.rnd.IntN(len(live))]
			var err error
			if tb == "items" {
				_, err = tx.ExecContext(ctx, w.q("UPDATE items SET qty = qty + 1, price = ?, updated_at = ?, note = ? WHERE id = ?"),
					fmt.Sprintf("%d.%02d", w.rnd.IntN(10000), w.rnd.IntN(100)), now, fmt.Sprintf("updated at %s", now), id)
			} else {
				_, err = tx.ExecContext(ctx, w.q("UPDATE events SET kind = ?, flag = ? WHERE id = ?"),
					[]string{"click", "view", "buy", "refund"}[w.rnd.IntN(4)], w.rnd.IntN(2) == 1, id)
			}
			if err != nil {
				return err
			}
		default: // delete
			i := w.rnd.IntN(len(live))
			if _, err := tx.ExecContext(ctx, w.q("DELETE FROM "+tb+" WHERE id = ?"), live[i]); err != nil {
				return err
			}
			changes = append(changes, change{table: tb, id: live[i], del: true})
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, c := range changes {
		if c.add {
			w.live[c.table] = append(w.live[c.table], c.id)
			continue
		}
		live := w.live[c.table]
		for i, id := range live {
			if id == c.id {
				live[i] = live[len(live)-1]
				w.live[c.table] = live[:len(live)-1]
				break
			}
		}
	}
	return nil
}
