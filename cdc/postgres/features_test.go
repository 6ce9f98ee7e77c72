package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

func fieldNames(s *schema.Schema) string {
	var n []string
	for _, f := range s.Fields {
		n = append(n, f.Name+":"+f.Schema.Type.String())
	}
	return strings.Join(n, ",")
}

func afterSchema(r schema.Record) *schema.Schema {
	f, _ := r.ValueSchema.Field("after")
	return f.Schema
}

// TestSchemaChange alters a captured table while streaming: each Relation
// message with a new shape gives new schemas from that event on.
func TestSchemaChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE t (id int PRIMARY KEY, a int)")
	cfg := baseConfig(db)
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	mustExec(t, c, "INSERT INTO t VALUES (1, 1)")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 1 })
	mustExec(t, c,
		"ALTER TABLE t ADD COLUMN b text",
		"INSERT INTO t VALUES (2, 2, 'two')",
		"ALTER TABLE t DROP COLUMN a",
		"INSERT INTO t VALUES (3, 'three')",
		"ALTER TABLE t ALTER COLUMN b TYPE bigint USING length(b)",
		"INSERT INTO t VALUES (4, 4)",
		"UPDATE t SET b = 5 WHERE id = 1")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 5 })
	recs := h.topic("srv.public.t")
	want := []string{
		"id:int32,a:int32",
		"id:int32,a:int32,b:string",
		"id:int32,b:string",
		"id:int32,b:int64",
		"id:int32,b:int64",
	}
	for i, w := range want {
		if got := fieldNames(afterSchema(recs[i])); got != w {
			t.Errorf("event %d: fields %s, want %s", i, got, w)
		}
	}
	if afterSchema(recs[3]) != afterSchema(recs[4]) {
		t.Error("events of one table version do not share the schema")
	}
	if v := recs[4].Value.(*schema.Struct).Get("after").(*schema.Struct).Get("b"); v != int64(5) {
		t.Errorf("b = %v after the type change", v)
	}
}

// TestTransactionMetadata checks BEGIN/END events and the transaction block.
func TestTransactionMetadata(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)")
	cfg := baseConfig(db, "provide.transaction.metadata", "true")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	time.Sleep(500 * time.Millisecond)
	mustExec(t, c, "BEGIN; INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); INSERT INTO a VALUES (2); COMMIT")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.transaction") >= 2 })
	recs := h.records()
	if len(recs) != 5 || recs[0].Topic != "srv.transaction" || recs[4].Topic != "srv.transaction" {
		t.Fatalf("records: %d, first %s", len(recs), recs[0].Topic)
	}
	begin := recs[0].Value.(*schema.Struct)
	end := recs[4].Value.(*schema.Struct)
	id := begin.Get("id").(string)
	if begin.Get("status") != "BEGIN" || end.Get("status") != "END" || end.Get("event_count") != int64(3) {
		t.Fatalf("BEGIN %v END %v", begin.Values, end.Values)
	}
	// As Debezium 3.6.1's (integration/reference): "<txId>:<lsn>" with the
	// BEGIN message's LSN, and the END event's id with the COMMIT's (its
	// end LSN), later.
	xid, lsn, ok := strings.Cut(id, ":")
	exid, elsn, eok := strings.Cut(end.Get("id").(string), ":")
	b, _ := strconv.ParseUint(lsn, 10, 64)
	e, _ := strconv.ParseUint(elsn, 10, 64)
	if !ok || !eok || xid == "" || exid != xid || b == 0 || e <= b {
		t.Errorf("transaction ids BEGIN %q END %q are not <txId>:<lsn>, same txId, later END lsn", id, end.Get("id"))
	}
	colls := end.Get("data_collections").([]any)
	if len(colls) != 2 || colls[0].(*schema.Struct).Get("data_collection") != "public.a" || colls[0].(*schema.Struct).Get("event_count") != int64(2) {
		t.Errorf("data_collections %v", colls)
	}
	wantOrder := [][2]int64{{1, 1}, {2, 1}, {3, 2}}
	for i, r := range recs[1:4] {
		tb := r.Value.(*schema.Struct).Get("transaction").(*schema.Struct)
		// A data event's id is "<xid>:<its own lsn>", as Debezium's.
		evID := fmt.Sprintf("%s:%d", xid, r.Value.(*schema.Struct).Get("source").(*schema.Struct).Get("lsn"))
		if tb.Get("id") != evID || tb.Get("total_order") != wantOrder[i][0] || tb.Get("data_collection_order") != wantOrder[i][1] {
			t.Errorf("event %d transaction block %v", i, tb.Values)
		}
	}
}

// TestFilteredPublicationAndColumns: publication.autocreate.mode=filtered
// publishes only the included tables; excluded columns are not in events.
func TestFilteredPublicationAndColumns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE a (id int PRIMARY KEY, name text, secret text)", "CREATE TABLE b (id int PRIMARY KEY)",
		"INSERT INTO a VALUES (1, 'x', 's')", "INSERT INTO b VALUES (1)")
	cfg := baseConfig(db, "publication.autocreate.mode", "filtered", "table.include.list", "public\\.a",
		"column.exclude.list", "public.a.secret")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 1 })
	mustExec(t, c, "INSERT INTO b VALUES (2)", "INSERT INTO a VALUES (2, 'y', 's')")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 2 })
	h.pollIdle(ctx, 300*time.Millisecond)
	for _, r := range h.records() {
		if r.Topic != "srv.public.a" {
			t.Errorf("record for %s", r.Topic)
		}
		if got := fieldNames(afterSchema(r)); got != "id:int32,name:string" {
			t.Errorf("fields %s", got)
		}
	}
	var tables []string
	rows, err := c.Query(ctx, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1", cfg["publication.name"])
	if err != nil {
		t.Fatal(err)
	}
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) != 1 || tables[0] != "public.a" {
		t.Errorf("publication tables %v %v", tables, err)
	}
}

// TestSlotLifecycle: a restart keeps the slot; slot.drop.on.stop drops it
// at stop; deleting the connector drops slot and publication.
func TestSlotLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE a (id int PRIMARY KEY)")
	cfg := baseConfig(db)
	slot, pub := cfg["slot.name"], cfg["publication.name"]
	dropSlotAtEnd(t, db, slot)
	exists := func(q, name string) bool {
		var ok bool
		if err := c.QueryRow(ctx, q, name).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	slotExists := func() bool {
		return exists("SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)", slot)
	}
	pubExists := func() bool { return exists("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", pub) }

	h := newSim(t, cfg)
	h.start(ctx)
	mustExec(t, c, "INSERT INTO a VALUES (1)")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 1 })
	h.stop()
	if !slotExists() || !pubExists() {
		t.Fatal("stop removed the slot or publication")
	}
	if err := (Plugin{}).OnDelete(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if slotExists() || pubExists() {
		t.Fatal("delete left the slot or publication")
	}

	cfg["slot.drop.on.stop"] = "true"
	h = newSim(t, cfg)
	h.start(ctx)
	mustExec(t, c, "INSERT INTO a VALUES (2)")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 2 })
	h.stop()
	if slotExists() {
		t.Fatal("slot.drop.on.stop left the slot")
	}
}

// TestPublicationDisabled: with autocreate disabled a missing publication
// is an error naming publication.name.
func TestPublicationDisabled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	cfg := baseConfig(db, "publication.autocreate.mode", "disabled")
	err := NewTask().Start(ctx, cfg, testTaskContext(t))
	if err == nil || !strings.Contains(err.Error(), "publication.name") {
		t.Fatalf("got %v", err)
	}
}

// TestHeartbeatActionQuery: heartbeat records are emitted and the action
// query runs.
func TestHeartbeatActionQuery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE hb (id int PRIMARY KEY, n int)", "INSERT INTO hb VALUES (1, 0)")
	cfg := baseConfig(db, "heartbeat.interval.ms", "100", "heartbeat.action.query", "UPDATE hb SET n = n + 1 WHERE id = 1",
		"table.exclude.list", "public\\.hb")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("__debezium-heartbeat.srv") >= 5 })
	var n int
	if err := c.QueryRow(ctx, "SELECT n FROM hb WHERE id = 1").Scan(&n); err != nil || n == 0 {
		t.Fatalf("action query did not run: n=%d %v", n, err)
	}
	hb := h.topic("__debezium-heartbeat.srv")[0]
	if hb.KeySchema != cdc.HeartbeatKeySchema || hb.Key.(*schema.Struct).Get("serverName") != "srv" || hb.SourceOffset[offLSNProc] == nil {
		t.Errorf("heartbeat record %+v", hb)
	}
	if h.topicCount("srv.public.hb") != 0 {
		t.Error("excluded table emitted events")
	}
}

// TestSnapshotModes covers what each snapshot.mode does on first start and
// on restart.
func TestSnapshotModes(t *testing.T) {
	setup := func(t *testing.T, mode string) (*sim, *pgx.Conn, *harness.Database) {
		db := harness.Postgres(t)
		c := pgConn(t, db)
		mustExec(t, c, "CREATE TABLE a (id int PRIMARY KEY)", "INSERT INTO a VALUES (1), (2)")
		cfg := baseConfig(db, "snapshot.mode", mode)
		dropSlotAtEnd(t, db, cfg["slot.name"])
		return newSim(t, cfg), c, db
	}
	ops := func(h *sim) string {
		var out []string
		for _, r := range h.topic("srv.public.a") {
			out = append(out, r.Value.(*schema.Struct).Get("op").(string))
		}
		return strings.Join(out, "")
	}
	t.Run("no_data", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h, c, _ := setup(t, "no_data")
		h.start(ctx)
		defer h.stop()
		time.Sleep(300 * time.Millisecond)
		mustExec(t, c, "INSERT INTO a VALUES (3)")
		h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 1 })
		if got := ops(h); got != "c" {
			t.Errorf("ops %q, want c", got)
		}
	})
	t.Run("always", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h, _, _ := setup(t, "always")
		h.start(ctx)
		h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 2 })
		h.stop()
		h.start(ctx)
		defer h.stop()
		h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 4 })
		if got := ops(h); got != "rrrr" {
			t.Errorf("ops %q, want rrrr", got)
		}
	})
	t.Run("initial_only", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h, c, _ := setup(t, "initial_only")
		h.start(ctx)
		defer h.stop()
		h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 2 })
		mustExec(t, c, "INSERT INTO a VALUES (3)")
		h.pollFor(ctx, 500*time.Millisecond)
		var slots int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", h.cfg["slot.name"]).Scan(&slots); err != nil {
			t.Fatal(err)
		}
		if got := ops(h); got != "rr" || slots != 0 {
			t.Errorf("ops %q (want rr), %d slots left (want 0)", got, slots)
		}
	})
	t.Run("initial_slot_lost", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h, c, _ := setup(t, "initial")
		h.start(ctx)
		h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 2 })
		mustExec(t, c, "INSERT INTO a VALUES (3)")
		h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 3 })
		h.stop()
		if err := dropSlot(ctx, c, h.cfg["slot.name"], 10*time.Second); err != nil {
			t.Fatal(err)
		}
		h.start(ctx)
		defer h.stop()
		var err error
		for end := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(end); {
			_, err = h.pollOnce(ctx, true)
		}
		if !errors.Is(err, ErrSlotMissing) {
			t.Fatalf("got %v, want ErrSlotMissing", err)
		}
		// when_needed takes a new snapshot instead.
		h.stop()
		h.cfg["snapshot.mode"] = "when_needed"
		h.start(ctx)
		h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 6 })
		if got := ops(h); got != "rrcrrr" {
			t.Errorf("ops %q, want rrcrrr", got)
		}
	})
}

// TestReconnect kills the walsender under the task (twice, once in the
// middle of a big transaction): the task reconnects with backoff and
// resumes where it was, so every row arrives exactly once.
func TestReconnect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE a (id int PRIMARY KEY)")
	cfg := baseConfig(db, "max.queue.size", "100", "max.batch.size", "50")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	mustExec(t, c, "INSERT INTO a SELECT i FROM generate_series(1, 100) i")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 100 })
	kill := func() {
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			var killed bool
			err := c.QueryRow(ctx, "SELECT coalesce(bool_or(pg_terminate_backend(active_pid)), false) FROM pg_replication_slots WHERE slot_name = $1 AND active", cfg["slot.name"]).Scan(&killed)
			if err != nil {
				t.Fatal(err)
			}
			if killed {
				return
			}
		}
		t.Fatal("no active walsender to kill")
	}
	kill()
	mustExec(t, c, "INSERT INTO a SELECT i FROM generate_series(101, 200) i")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 200 })
	// A transaction of 5000 rows, killed while it is being read (the small
	// queue keeps the reader inside it).
	mustExec(t, c, "INSERT INTO a SELECT i FROM generate_series(201, 5200) i")
	for h.count() < 1000 {
		if _, err := h.pollOnce(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	kill()
	h.pollUntil(ctx, 60*time.Second, func() bool { return h.count() >= 5200 })
	h.pollFor(ctx, 300*time.Millisecond)
	seen := map[int32]int{}
	for _, r := range h.topic("srv.public.a") {
		seen[r.Key.(*schema.Struct).Get("id").(int32)]++
	}
	for i := int32(1); i <= 5200; i++ {
		if seen[i] != 1 {
			t.Fatalf("id %d seen %d times", i, seen[i])
		}
	}
}
