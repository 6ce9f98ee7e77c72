package mysql

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// TestSnapshotUnderWriterThenCatchUp snapshots a big table (TRIBUTARY_ROWS,
// 100k by default) and a second one on two threads while a writer inserts,
// updates, deletes and changes keys; after catching up, replaying the topics
// (last event per key) must equal the source tables exactly.
func TestSnapshotUnderWriterThenCatchUp(t *testing.T) {
	n := testRows()
	serverLogOnFailure(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE marker (id INT PRIMARY KEY)")
	for _, tbl := range []string{"big", "small"} {
		mustExec(t, conn, "CREATE TABLE "+tbl+" (id INT NOT NULL PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(40), ts DATETIME(6))")
	}
	fillTable(t, conn, "big", n)
	fillTable(t, conn, "small", n/10)
	w := startWriter(t, db.Open(t), map[string]int{"big": n, "small": n / 10})
	time.Sleep(200 * time.Millisecond) // the writer is busy before the snapshot starts

	off := &memOffsets{}
	task := startTask(t, testConfig(db, "load", "snapshot.max.threads", "2", "max.batch.size", "4096", "max.queue.size", "16384"), off)
	topic := func(tbl string) string { return "load." + db.Name + "." + tbl }
	state := map[string]map[string]string{topic("big"): {}, topic("small"): {}}
	emitted := emittedValues{}
	reads := map[string]int{}
	c := &collector{t: t, task: task, off: off, fold: func(r schema.Record) {
		if m := state[r.Topic]; m != nil {
			replayOne(t, m, r, r.Topic)
		}
		emitted.add(r)
		if opOf(r) == "r" {
			reads[r.Topic]++
		}
	}}
	snapDone := func() bool {
		for i := len(c.recs) - 1; i >= 0 && i >= len(c.recs)-8192; i-- {
			if c.recs[i].Value == nil {
				continue
			}
			if src, ok := c.recs[i].Value.(*schema.Struct).Get("source").(*schema.Struct); ok && src.Get("snapshot") == "last" {
				return true
			}
		}
		return false
	}
	started := time.Now()
	c.pollUntil(300*time.Second, "snapshot", snapDone)
	w.record.Store(true)
	t.Logf("snapshot of %d+%d rows under writer: %v (%d writer transactions so far)", n, n/10, time.Since(started).Round(time.Millisecond), w.txns.Load())
	time.Sleep(500 * time.Millisecond) // more streaming under load
	w.halt(t)
	c.waitMarker(conn, topic("marker"), 1)
	t.Logf("caught up: %d writer transactions", w.txns.Load())
	if reads[topic("big")] < n-n/10 {
		t.Fatalf("snapshot read only %d rows of big", reads[topic("big")])
	}
	for _, tbl := range []string{"big", "small"} {
		compareState(t, tbl, sourceState(t, conn, tbl), state[topic(tbl)])
	}
	checkEmitted(t, w, emitted, topic)
}

// TestRestartAtRandomPoints kills the task at random points (during the
// snapshot and while streaming, at least 10 times) with a concurrent writer,
// without committing what was delivered since the last commit, and restarts
// it from the committed offsets. Replaying everything delivered must give the
// source state, and every committed change must have been emitted.
func TestRestartAtRandomPoints(t *testing.T) {
	n := max(testRows()/5, 1000)
	serverLogOnFailure(t)
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE marker (id INT PRIMARY KEY)")
	mustExec(t, conn, "CREATE TABLE big (id INT NOT NULL PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(40), ts DATETIME(6))")
	fillTable(t, conn, "big", n)
	w := startWriter(t, db.Open(t), map[string]int{"big": n})

	off := &memOffsets{}
	cfg := testConfig(db, "rs", "max.batch.size", "500", "max.queue.size", "1000", "provide.transaction.metadata", "true")
	var delivered []schema.Record
	rng := rand.New(rand.NewPCG(7, 11))
	kills := 12
	midSnapshot, midTxn := 0, 0
	for i := 0; i < kills; i++ {
		task := startTask(t, cfg, off)
		var pending map[string]any
		deliver := func(recs []schema.Record, commit bool) {
			for _, r := range recs {
				if !r.OffsetOnly {
					delivered = append(delivered, r)
				}
			}
			if len(recs) > 0 {
				pending = recs[len(recs)-1].SourceOffset
			}
			if pending != nil && commit {
				off.commit(pending)
				pending = nil
				_ = task.Commit(t.Context(), nil) // as the runtime does once stored
			}
		}
		if i == 4 {
			// one run finishes the snapshot, so later kills land in streaming
			for done := false; !done; {
				recs, err := task.Poll(t.Context())
				if err != nil {
					t.Fatalf("poll: %v", err)
				}
				for _, r := range recs {
					if r.SourceOffset[offSnapshotCompleted] == true {
						done = true
					}
				}
				deliver(recs, true)
			}
		}
		polls := 1 + rng.IntN(25)
		for p := 0; p < polls; p++ {
			recs, err := task.Poll(t.Context())
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			// The runtime commits after Kafka acked, not after every poll,
			// and a kill may come before any commit of a run, the snapshot
			// start's included: the snapshot then has sent no row yet.
			deliver(recs, rng.IntN(3) > 0)
		}
		if o, _ := off.Offset(t.Context(), nil); o != nil {
			if o[offSnapshotCompleted] != nil || o[offSnapshot] == nil {
				w.record.Store(true) // a completed snapshot is behind us
			}
			if o[offSnapshot] != nil {
				midSnapshot++
			} else if o[offEvent] != nil || o[offRow] != nil {
				midTxn++
			}
		}
		// kill: the delivered-but-uncommitted records stay delivered
		// (at-least-once), the queue is lost, nothing more is committed.
		task.Stop()
	}
	t.Logf("%d kills (%d with a snapshot offset, %d inside a transaction); %d records delivered", kills, midSnapshot, midTxn, len(delivered))
	w.halt(t)
	task := startTask(t, cfg, off)
	c := &collector{t: t, task: task, off: off, recs: delivered}
	c.waitMarker(conn, "rs."+db.Name+".marker", 1)
	topic := func(tbl string) string { return "rs." + db.Name + "." + tbl }
	want, got := sourceState(t, conn, "big"), replay(t, c.recs, topic("big"))
	if os.Getenv("TRIBUTARY_TEST_LOG") != "" {
		for k := range got {
			if _, ok := want[k]; !ok {
				for _, r := range c.recs {
					if r.Topic == topic("big") && keyString(t, r) == k {
						var after, src any
						if r.Value != nil {
							after = r.Value.(*schema.Struct).Get("after")
							src = r.Value.(*schema.Struct).Get("source").(*schema.Struct).Values[3:16]
						}
						t.Logf("%s %s %v %v %v", k, opOf(r), after, src, r.SourceOffset)
					}
				}
				break
			}
		}
	}
	compareState(t, "big", want, got)
	checkValuesEmitted(t, w, c.recs, topic)
	if midSnapshot == 0 {
		t.Logf("note: no kill landed during the snapshot")
	}
	_ = strconv.Itoa
}
