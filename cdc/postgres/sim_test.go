package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.NeedPostgres)) }

// envInt reads a test size from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// memOffsets is the runtime's offset store, in memory.
type memOffsets struct {
	mu sync.Mutex
	m  map[string]any
}

func (o *memOffsets) Offset(_ context.Context, partition map[string]any) (map[string]any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if v, ok := o.m[fmt.Sprint(partition)]; ok {
		return v.(map[string]any), nil
	}
	return nil, nil
}

func (o *memOffsets) put(partition, offset map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]any{}
	}
	o.m[fmt.Sprint(partition)] = offset
}

// sim plays the runtime for one connector: it starts tasks, polls, "writes
// to Kafka" (a log of records), stores offsets and calls Commit, as the
// worker does after the producer acknowledged.
type sim struct {
	t       testing.TB
	cfg     map[string]string
	offsets *memOffsets
	mu      sync.Mutex
	log     []schema.Record // everything "produced", in order
	counts  map[string]int  // records per topic
	// discard, when set, is called for each record instead of keeping it
	// (memory tests: the log would dominate the process's memory).
	discard func(schema.Record)
	task    *Task
	cancel  context.CancelFunc
}

func newSim(t testing.TB, cfg map[string]string) *sim {
	return &sim{t: t, cfg: cfg, offsets: &memOffsets{}, counts: map[string]int{}}
}

func testLogger(t testing.TB) *slog.Logger {
	lvl := slog.LevelWarn
	if os.Getenv("TRIBUTARY_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// start starts a new task from the committed offsets.
func (h *sim) start(ctx context.Context) {
	h.t.Helper()
	tctx, cancel := context.WithCancel(ctx)
	task := NewTask()
	tc := connector.TaskContext{Connector: "pg", Logger: testLogger(h.t), Offsets: h.offsets, Metrics: connector.NopMetrics{}}
	if err := task.Start(tctx, h.cfg, tc); err != nil {
		cancel()
		h.t.Fatalf("start: %v", err)
	}
	h.mu.Lock()
	h.task, h.cancel = task, cancel
	h.mu.Unlock()
}

// kill cancels the task without Stop: an abrupt end.
func (h *sim) kill() {
	h.cancel()
	<-h.task.done
}

// stop stops the task gracefully.
func (h *sim) stop() {
	if err := h.task.Stop(); err != nil {
		h.t.Errorf("stop: %v", err)
	}
	h.cancel()
}

// pollOnce polls once, appends to the log and commits the last offset.
// commit=false drops the acknowledgement (records in flight at a crash).
func (h *sim) pollOnce(ctx context.Context, commit bool) (int, error) {
	recs, err := h.task.Poll(ctx)
	if err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, nil
	}
	h.mu.Lock()
	if h.discard != nil {
		for i := range recs {
			h.discard(recs[i])
		}
	} else {
		h.log = append(h.log, recs...)
	}
	for i := range recs {
		h.counts[recs[i].Topic]++
	}
	h.mu.Unlock()
	if commit {
		last := recs[len(recs)-1]
		h.offsets.put(last.SourcePartition, last.SourceOffset)
		if err := h.task.Commit(ctx, []connector.Offset{{Partition: last.SourcePartition, Offset: last.SourceOffset}}); err != nil {
			return 0, err
		}
	}
	return len(recs), nil
}

// pollUntil polls until cond holds or timeout.
func (h *sim) pollUntil(ctx context.Context, timeout time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s (%d records)", timeout, h.count())
		}
		if _, err := h.pollOnce(ctx, true); err != nil {
			h.t.Fatalf("poll: %v", err)
		}
	}
}

// pollIdle polls until no record arrives for quiet.
func (h *sim) pollIdle(ctx context.Context, quiet time.Duration) {
	h.t.Helper()
	last := time.Now()
	for time.Since(last) < quiet {
		n, err := h.pollOnce(ctx, true)
		if err != nil {
			h.t.Fatalf("poll: %v", err)
		}
		if n > 0 {
			last = time.Now()
		}
	}
}

// pollFor polls for d.
func (h *sim) pollFor(ctx context.Context, d time.Duration) {
	h.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		if _, err := h.pollOnce(ctx, true); err != nil {
			h.t.Fatalf("poll: %v", err)
		}
	}
}

func (h *sim) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.log)
}

// snapshotDone reports whether a committed offset says the snapshot finished.
func (h *sim) snapshotDone() bool {
	o, _ := h.offsets.Offset(context.Background(), map[string]any{"server": h.cfg["topic.prefix"]})
	if o == nil {
		return false
	}
	_, done, err := parsePosition(o)
	return err == nil && done
}

// topicCount is the number of records produced to topic.
func (h *sim) topicCount(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[topic]
}

func (h *sim) records() []schema.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]schema.Record(nil), h.log...)
}

// dataRecords returns the records of one topic.
func (h *sim) topic(name string) []schema.Record {
	var out []schema.Record
	for _, r := range h.records() {
		if r.Topic == name {
			out = append(out, r)
		}
	}
	return out
}

var (
	keyConv   = jsonconv.New(jsonconv.Config{SchemasEnable: false, IsKey: true})
	valueConv = jsonconv.New(jsonconv.Config{SchemasEnable: false})
)

func payloadJSON(t testing.TB, s *schema.Schema, v any) string {
	t.Helper()
	if s == nil && v == nil {
		return "null"
	}
	b, err := valueConv.FromConnect("", nil, s, v)
	if err != nil {
		t.Fatalf("convert %v: %v", s, err)
	}
	return string(b)
}

// replay applies the topic's records by key, last event wins, deletes and
// tombstones remove: what a compacted topic or an upserting sink holds.
// Values are the after structs.
func replay(t testing.TB, recs []schema.Record) map[string]*schema.Struct {
	state := map[string]*schema.Struct{}
	for _, r := range recs {
		k := payloadJSON(t, r.KeySchema, r.Key)
		if r.Value == nil {
			delete(state, k)
			continue
		}
		env := r.Value.(*schema.Struct)
		switch env.Get("op") {
		case "d":
			delete(state, k)
		case "t":
			for kk := range state {
				delete(state, kk)
			}
		default:
			state[k] = env.Get("after").(*schema.Struct)
		}
	}
	return state
}

// pgAdmin opens a superuser connection to db.
func pgConn(t testing.TB, db *harness.Database) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustExec(t testing.TB, c *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, q := range sqls {
		if _, err := c.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// baseConfig is a Debezium-style config for db with a slot of its own.
func baseConfig(db *harness.Database, extra ...string) map[string]string {
	slot := strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace(db.Name))
	if len(slot) > 60 {
		slot = slot[len(slot)-60:]
	}
	cfg := map[string]string{
		"connector.class":   Class,
		"database.hostname": db.Host,
		"database.port":     strconv.Itoa(db.Port),
		"database.user":     db.User,
		"database.password": db.Password,
		"database.dbname":   db.Name,
		"database.sslmode":  "disable",
		"topic.prefix":      "srv",
		"plugin.name":       "pgoutput",
		"slot.name":         "s_" + slot,
		"publication.name":  "pub_" + slot,
		"poll.interval.ms":  "100",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

// dropSlotAtEnd removes the test's slot when the test ends.
func dropSlotAtEnd(t testing.TB, db *harness.Database, slot string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, db.DSN())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_ = dropSlot(ctx, c, slot, 20*time.Second)
	})
}

func testTaskContext(t testing.TB) connector.TaskContext {
	return connector.TaskContext{Connector: "pg", Logger: testLogger(t), Offsets: &memOffsets{}, Metrics: connector.NopMetrics{}}
}
