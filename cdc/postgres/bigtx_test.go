package postgres

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// rssBytes is the process's resident set size.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestBigTransaction streams one transaction of TRIBUTARY_BIG_TX rows
// (default 100k; 1M when measuring) and checks that peak RSS stays under
// 300 MiB. logical_decoding_work_mem is lowered for the database so the
// server streams the transaction while it is in progress and the connector
// spools it to disk; a savepoint rolled back inside a streamed transaction
// and a streamed transaction that aborts emit nothing.
func TestBigTransaction(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows := envInt("TRIBUTARY_BIG_TX", 100_000)
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL, n bigint)",
		fmt.Sprintf("ALTER DATABASE %q SET logical_decoding_work_mem = '64kB'", db.Name))
	cfg := baseConfig(db)
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	// Wait for the stream to be up (a heartbeat-less empty snapshot
	// leaves nothing to poll): a first row.
	mustExec(t, c, "INSERT INTO big VALUES (0, 'first', 0)")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.public.big") >= 1 })

	var bad atomic.Value
	h.discard = func(r schema.Record) {
		a := r.Value.(*schema.Struct).Get("after").(*schema.Struct)
		if v := a.Get("v"); v == "aborted" || v == "rolled back" {
			bad.Store(fmt.Sprint(a.Values))
		}
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if r := rssBytes(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	// A streamed transaction that aborts, then one with a rolled-back
	// savepoint, then the big one.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO big SELECT -i, 'aborted', -i FROM generate_series(1, 5000) i"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, `BEGIN;
INSERT INTO big SELECT i, 'kept', i FROM generate_series(1000000001, 1000003000) i;
SAVEPOINT s1;
INSERT INTO big SELECT i, 'rolled back', i FROM generate_series(1000003001, 1000006000) i;
ROLLBACK TO SAVEPOINT s1;
INSERT INTO big SELECT i, 'kept', i FROM generate_series(1000006001, 1000009000) i;
COMMIT`)
	mustExec(t, c, fmt.Sprintf("INSERT INTO big SELECT i, 'row-' || i, i FROM generate_series(1, %d) i", rows))
	want := 1 + 6000 + rows
	h.pollUntil(ctx, 4*time.Minute, func() bool { return h.topicCount("srv.public.big") >= want })
	took := time.Since(start)
	h.pollFor(ctx, 500*time.Millisecond)
	close(stop)
	<-sampled
	if got := h.topicCount("srv.public.big"); got != want {
		t.Fatalf("%d records, want %d", got, want)
	}
	if v := bad.Load(); v != nil {
		t.Fatalf("emitted an aborted change: %v", v)
	}
	if h.task.st.version >= 140000 && h.task.st.spilledTx.Load() == 0 {
		t.Errorf("the server did not stream the transactions in progress; the spool path was not exercised")
	}
	t.Logf("single transaction of %d rows: %s (%.0f rows/s), peak RSS %d MiB, transactions spooled: %d",
		rows, took.Round(time.Millisecond), float64(rows)/took.Seconds(), peak.Load()>>20, h.task.st.spilledTx.Load())
	if peak.Load() > 300<<20 {
		t.Fatalf("peak RSS %d MiB exceeds 300 MiB", peak.Load()>>20)
	}
}
