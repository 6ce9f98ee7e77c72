package postgres

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// TestUnchangedToastedIntArrays: an UPDATE that leaves large (TOASTed)
// integer[] and bigint[] columns out of the WAL. Debezium 3.6.1's
// UnchangedToastedPlaceholder sends them as the placeholder's bytes, each
// a signed Integer or Long ("__debezium_unavailable_value" → 95, 95, 100…),
// and a text[] as a one-element array of the placeholder. Before, the
// integer arrays came out NULL, which a sink then wrote over the real
// value.
func TestUnchangedToastedIntArrays(t *testing.T) {
	ctx := context.Background()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c,
		"CREATE TABLE arr (id int PRIMARY KEY, name text, ints int[], bigs bigint[], texts text[])",
		"ALTER TABLE arr REPLICA IDENTITY DEFAULT",
		// random values resist compression, so the arrays are stored out of line
		`INSERT INTO arr SELECT 1, 'v0',
		   ARRAY(SELECT (random()*2e9)::int FROM generate_series(1, 5000)),
		   ARRAY(SELECT (random()*9e18)::bigint FROM generate_series(1, 5000)),
		   ARRAY(SELECT md5(random()::text) FROM generate_series(1, 1000))`)
	cfg := baseConfig(db, "table.include.list", "public.arr")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 1 })
	mustExec(t, c, "UPDATE arr SET name = 'v1' WHERE id = 1")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 2 })

	recs := h.records()
	after := recs[len(recs)-1].Value.(*schema.Struct).Get("after").(*schema.Struct)
	if got := after.Get("name"); got != "v1" {
		t.Fatalf("last event name = %v, want the update", got)
	}
	placeholder := []byte("__debezium_unavailable_value")
	wantInts, wantBigs := make([]any, len(placeholder)), make([]any, len(placeholder))
	for i, b := range placeholder {
		wantInts[i], wantBigs[i] = int32(b), int64(b)
	}
	if got := after.Get("ints"); !reflect.DeepEqual(got, wantInts) {
		t.Errorf("ints = %v, want the placeholder's bytes as int32 %v", got, wantInts)
	}
	if got := after.Get("bigs"); !reflect.DeepEqual(got, wantBigs) {
		t.Errorf("bigs = %v, want the placeholder's bytes as int64", got)
	}
	if got := after.Get("texts"); !reflect.DeepEqual(got, []any{string(placeholder)}) {
		t.Errorf("texts = %v, want [%s]", got, placeholder)
	}
}
