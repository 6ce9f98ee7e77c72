package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// TestInterruptedSnapshotKeepsDeletes: a crash in the middle of the initial
// snapshot makes the next start snapshot again. Rows the first attempt
// already emitted and that were deleted before the restart must be deleted
// downstream too, so replaying every record ever produced gives the table.
// (Found by integration/chaos: with a new slot the deletes were lost.)
func TestInterruptedSnapshotKeepsDeletes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE a (id int PRIMARY KEY, v text)", "INSERT INTO a SELECT i, 'v' || i FROM generate_series(1, 5000) i")
	cfg := baseConfig(db, "max.queue.size", "100", "max.batch.size", "50")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	// The small queue keeps the snapshot from running ahead of the polls.
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 200 })
	h.kill()
	if h.snapshotDone() {
		t.Fatal("the snapshot finished before the kill")
	}
	mustExec(t, c, "DELETE FROM a WHERE id <= 10", "UPDATE a SET v = 'changed' WHERE id = 11", "INSERT INTO a VALUES (6001, 'new')")

	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, time.Minute, func() bool { return h.snapshotDone() })
	h.pollIdle(ctx, time.Second)
	state := replay(t, h.topic("srv.public.a"))
	if len(state) != 4991 {
		t.Errorf("replayed state holds %d rows, want 4991", len(state))
	}
	for id := 1; id <= 10; id++ {
		if _, ok := state[fmt.Sprintf(`{"id":%d}`, id)]; ok {
			t.Errorf("row %d was deleted before the restart but is still in the replayed state", id)
		}
	}
	if r, ok := state[`{"id":11}`]; !ok || r.Get("v") != "changed" {
		t.Errorf("row 11 = %v, want v=changed", r)
	}
	if _, ok := state[`{"id":6001}`]; !ok {
		t.Error("row 6001 missing")
	}
}
