package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

func ops(recs []schema.Record) []string {
	var out []string
	for _, r := range recs {
		if r.Value == nil {
			out = append(out, "tombstone")
			continue
		}
		out = append(out, r.Value.(*schema.Struct).Get("op").(string))
	}
	return out
}

// TestSnapshotThenStream covers the basic life of the connector: snapshot
// rows (op r with markers), then inserts, updates, deletes (with tombstones),
// a primary-key change and a truncate, with offsets acknowledged.
func TestSnapshotThenStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c,
		"CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int)",
		"INSERT INTO items VALUES (1, 'a', 10), (2, 'b', NULL), (3, 'c', 30)")
	cfg := baseConfig(db, "skipped.operations", "none")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 3 })
	recs := h.topic("srv.public.items")
	if got := ops(recs); len(got) != 3 || got[0] != "r" {
		t.Fatalf("snapshot ops %v", got)
	}
	var markers []string
	for _, r := range recs {
		markers = append(markers, r.Value.(*schema.Struct).Get("source").(*schema.Struct).Get("snapshot").(string))
	}
	if markers[0] != "first" || markers[2] != "last" {
		t.Errorf("snapshot markers %v", markers)
	}

	mustExec(t, c,
		"INSERT INTO items VALUES (4, 'd', 40)",
		"UPDATE items SET qty = 11 WHERE id = 1",
		"DELETE FROM items WHERE id = 2",
		"UPDATE items SET id = 33 WHERE id = 3",
		"TRUNCATE items")
	// c, u, d + tombstone, d + tombstone + c, t
	h.pollUntil(ctx, 30*time.Second, func() bool { return len(h.topic("srv.public.items")) >= 3+8 })
	got := ops(h.topic("srv.public.items")[3:])
	want := []string{"c", "u", "d", "tombstone", "d", "tombstone", "c", "t"}
	if len(got) != len(want) {
		t.Fatalf("ops %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ops %v, want %v", got, want)
		}
	}
	pk := h.topic("srv.public.items")[3+4]
	if v, ok := pk.Header("__debezium.newkey"); !ok || string(v) != `{"id":33}` {
		t.Errorf("newkey header %q", v)
	}
}
