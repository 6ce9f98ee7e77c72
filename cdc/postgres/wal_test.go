package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// slotLSNs reads the slot's confirmed_flush_lsn and restart_lsn.
func slotLSNs(t testing.TB, c *pgx.Conn, slot string) (confirmed, restart pglogrepl.LSN) {
	t.Helper()
	st, err := readSlot(context.Background(), c, slot)
	if err != nil {
		t.Fatal(err)
	}
	if !st.exists {
		t.Fatalf("slot %s does not exist", slot)
	}
	return st.confirmed, st.restart
}

func storedProc(t testing.TB, h *sim) pglogrepl.LSN {
	o, _ := h.offsets.Offset(context.Background(), map[string]any{"server": h.cfg["topic.prefix"]})
	if o == nil {
		return 0
	}
	p, _, err := parsePosition(o)
	if err != nil {
		t.Fatal(err)
	}
	return p.proc
}

// TestConfirmedFlushAdvances checks that the slot's confirmed_flush_lsn
// moves forward during a steady run and again after a restart, and never
// passes the stored offsets.
func TestConfirmedFlushAdvances(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	loadBig(t, c, 1000)
	cfg := baseConfig(db, "status.update.interval.ms", "500")
	slot := cfg["slot.name"]
	dropSlotAtEnd(t, db, slot)
	h := newSim(t, cfg)
	w := newWriter(t, db, 1000)
	go w.run(2 * time.Millisecond)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.finish()
		}
	}()
	h.start(ctx)
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.public.big") >= 1000 })

	sample := func(d time.Duration) []pglogrepl.LSN {
		var out []pglogrepl.LSN
		end := time.Now().Add(d)
		next := time.Now()
		for time.Now().Before(end) {
			if _, err := h.pollOnce(ctx, true); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(next) {
				confirmed, _ := slotLSNs(t, c, slot)
				if proc := storedProc(t, h); confirmed > proc && proc != 0 {
					t.Fatalf("confirmed_flush_lsn %s passed the stored offset %s", confirmed, proc)
				}
				out = append(out, confirmed)
				next = time.Now().Add(400 * time.Millisecond)
			}
		}
		return out
	}
	increases := func(ls []pglogrepl.LSN) int {
		n := 0
		for i := 1; i < len(ls); i++ {
			if ls[i] < ls[i-1] {
				t.Fatalf("confirmed_flush_lsn went backwards: %v", ls)
			}
			if ls[i] > ls[i-1] {
				n++
			}
		}
		return n
	}
	run1 := sample(2500 * time.Millisecond)
	if n := increases(run1); n < 3 {
		t.Fatalf("confirmed_flush_lsn advanced %d times during the run: %v", n, run1)
	}
	h.stop()
	afterStop, _ := slotLSNs(t, c, slot)
	if afterStop < run1[len(run1)-1] {
		t.Fatalf("confirmed_flush_lsn moved back at stop: %s < %s", afterStop, run1[len(run1)-1])
	}
	if proc := storedProc(t, h); afterStop > proc {
		t.Fatalf("confirmed_flush_lsn %s passed the stored offset %s at stop", afterStop, proc)
	}
	time.Sleep(300 * time.Millisecond) // the writer goes on while the task is down
	h.start(ctx)
	defer h.stop()
	run2 := sample(2 * time.Second)
	increases(run2)
	if run2[len(run2)-1] <= afterStop {
		t.Fatalf("confirmed_flush_lsn did not advance after restart: %s, was %s", run2[len(run2)-1], afterStop)
	}
	w.finish()
	sentinel(ctx, t, h, c)
	compareBig(ctx, t, h, c)
	t.Logf("confirmed_flush_lsn: run 1 %s → %s, after stop %s, run 2 → %s", run1[0], run1[len(run1)-1], afterStop, run2[len(run2)-1])
}

// TestRetainedWALBounded keeps the captured tables idle while another
// database on the same server is written to for a window
// (TRIBUTARY_WAL_WINDOW seconds, default 10). Heartbeats carry the server's
// position, so the slot keeps confirming and its retained WAL stays small.
func TestRetainedWALBounded(t *testing.T) {
	window := time.Duration(envInt("TRIBUTARY_WAL_WINDOW", 10)) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), window+2*time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	other := harness.Postgres(t)
	c := pgConn(t, db)
	oc := pgConn(t, other)
	mustExec(t, c, "CREATE TABLE idle (id int PRIMARY KEY, v text)", "INSERT INTO idle VALUES (1, 'x')")
	mustExec(t, oc, "CREATE TABLE filler (id int, pad text)")
	cfg := baseConfig(db, "heartbeat.interval.ms", "200", "status.update.interval.ms", "1000")
	slot := cfg["slot.name"]
	dropSlotAtEnd(t, db, slot)
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.public.idle") >= 1 })

	walPos := func() pglogrepl.LSN {
		var s string
		if err := c.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&s); err != nil {
			t.Fatal(err)
		}
		l, _ := pglogrepl.ParseLSN(s)
		return l
	}
	start := walPos()
	end := time.Now().Add(window)
	nextCheckpoint := time.Now().Add(2 * time.Second)
	var maxRetainedLate uint64
	i := 0
	for time.Now().Before(end) {
		// ~600 kB of WAL per statement in the other database.
		mustExec(t, oc, "INSERT INTO filler SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 500) g")
		if i++; i%20 == 0 {
			mustExec(t, oc, "TRUNCATE filler")
		}
		if time.Now().After(nextCheckpoint) {
			// Checkpoints log the running-transactions record that lets
			// restart_lsn move (the bgwriter does so every 15 s anyway).
			mustExec(t, oc, "CHECKPOINT")
			nextCheckpoint = time.Now().Add(2 * time.Second)
		}
		if _, err := h.pollOnce(ctx, true); err != nil {
			t.Fatal(err)
		}
		if time.Until(end) < window/3 {
			_, restart := slotLSNs(t, c, slot)
			maxRetainedLate = max(maxRetainedLate, uint64(walPos()-restart))
		}
	}
	// Let the last heartbeats be acknowledged, then measure.
	mustExec(t, oc, "CHECKPOINT")
	h.pollFor(ctx, time.Second)
	mustExec(t, oc, "CHECKPOINT")
	h.pollFor(ctx, time.Second)
	now := walPos()
	confirmed, restart := slotLSNs(t, c, slot)
	written := uint64(now - start)
	retained := uint64(now - restart)
	lag := uint64(now - confirmed)
	t.Logf("WAL written during the window: %d MiB; retained by the slot at the end: %d MiB (max %d MiB in the last third); confirmed_flush lag %d kB; heartbeats %d",
		written>>20, retained>>20, maxRetainedLate>>20, lag>>10, h.topicCount("__debezium-heartbeat.srv"))
	if written < 20<<20 {
		t.Fatalf("only %d MiB of WAL written; the window is too short to tell", written>>20)
	}
	if retained > written/2 || retained > 64<<20 {
		t.Fatalf("slot retains %d MiB of the %d MiB written: WAL piles up", retained>>20, written>>20)
	}
	if lag > 16<<20 {
		t.Fatalf("confirmed_flush_lsn lags %d MiB behind the WAL end", lag>>20)
	}
	if h.topicCount("__debezium-heartbeat.srv") == 0 {
		t.Fatal("no heartbeat records")
	}
}
