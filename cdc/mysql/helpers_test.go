package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/cdc"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.NeedMariaDB)) }

// memOffsets is an in-test offset store: Offset returns the last committed
// offset of the partition.
type memOffsets struct {
	mu  sync.Mutex
	off map[string]any
}

func (o *memOffsets) Offset(_ context.Context, _ map[string]any) (map[string]any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.off == nil {
		return nil, nil
	}
	// round-trip through JSON as a real offset store does
	b, _ := json.Marshal(o.off)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m, nil
}

func (o *memOffsets) commit(off map[string]any) {
	o.mu.Lock()
	o.off = maps.Clone(off)
	o.mu.Unlock()
}

func testConfig(db *harness.Database, prefix string, kv ...string) map[string]string {
	cfg := map[string]string{
		"connector.class":       Class,
		"database.hostname":     db.Host,
		"database.port":         strconv.Itoa(db.Port),
		"database.user":         db.User,
		"database.password":     db.Password,
		"topic.prefix":          prefix,
		"database.include.list": db.Name,
		"poll.interval.ms":      "50",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	return cfg
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TRIBUTARY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func startTask(t testing.TB, cfg map[string]string, offsets *memOffsets) *Task {
	t.Helper()
	task := Plugin{}.NewTask().(*Task)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := task.Start(ctx, cfg, connector.TaskContext{Connector: "test", Logger: testLogger(t), Offsets: offsets, Metrics: connector.NopMetrics{}}); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

// collector polls a task and keeps every record.
type collector struct {
	t    testing.TB
	task *Task
	recs []schema.Record
	off  *memOffsets
	// fold, when set, receives every record and recs keeps only a tail.
	fold func(schema.Record)
}

// pollUntil polls until cond holds for the records collected so far.
func (c *collector) pollUntil(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s (%d records so far)", what, len(c.recs))
		}
		recs, err := c.task.Poll(context.Background())
		if err != nil {
			c.t.Fatalf("poll: %v", err)
		}
		recs = ackPolled(c.task, recs, c.off)
		c.recs = append(c.recs, recs...)
		if c.fold != nil {
			// keep memory flat for big loads: fold records away, keep a tail
			for _, r := range recs {
				c.fold(r)
			}
			if len(c.recs) > 20000 {
				c.recs = append([]schema.Record(nil), c.recs[len(c.recs)-10000:]...)
			}
		}
	}
}

// ackPolled plays the runtime's part after a poll: it stores the last
// offset in off (when given), tells the task (Commit releases a snapshot
// waiting for its start position to be stored), and returns the records
// without offset-only ones, which the runtime never produces.
func ackPolled(task *Task, recs []schema.Record, off *memOffsets) []schema.Record {
	if len(recs) == 0 {
		return recs
	}
	if off != nil {
		off.commit(recs[len(recs)-1].SourceOffset)
	}
	_ = task.Commit(context.Background(), nil)
	out := recs[:0:0]
	for _, r := range recs {
		if !r.OffsetOnly {
			out = append(out, r)
		}
	}
	return out
}

func (c *collector) count(topic string) int {
	n := 0
	for _, r := range c.recs {
		if r.Topic == topic {
			n++
		}
	}
	return n
}

var (
	jsonKeyConv   = jsonconv.New(jsonconv.Config{SchemasEnable: false, IsKey: true})
	jsonValueConv = jsonconv.New(jsonconv.Config{SchemasEnable: true, ReplaceNullWithDefault: true})
)

func keyString(t testing.TB, r schema.Record) string {
	b, err := jsonKeyConv.FromConnect(r.Topic, nil, r.KeySchema, r.Key)
	if err != nil {
		t.Fatalf("key to JSON: %v", err)
	}
	return string(b)
}

// replay applies records (last event per key) into a map key JSON → after
// struct (as JSON without schema); deletes and tombstones remove the key.
func replay(t testing.TB, recs []schema.Record, topic string) map[string]string {
	out := map[string]string{}
	for _, r := range recs {
		replayOne(t, out, r, topic)
	}
	return out
}

func replayOne(t testing.TB, out map[string]string, r schema.Record, topic string) {
	if r.Topic != topic {
		return
	}
	k := keyString(t, r)
	if r.Value == nil {
		delete(out, k)
		return
	}
	env := r.Value.(*schema.Struct)
	after := env.Get("after")
	if after == nil {
		delete(out, k)
		return
	}
	st := after.(*schema.Struct)
	b, err := jsonKeyConv.FromConnect(topic, nil, st.Schema, st)
	if err != nil {
		t.Fatalf("value to JSON: %v", err)
	}
	out[k] = string(b)
}

func mustExec(t testing.TB, db *sqlx.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func envelopeJSON(t testing.TB, r schema.Record) string {
	b, err := jsonValueConv.FromConnect(r.Topic, nil, r.ValueSchema, r.Value)
	if err != nil {
		t.Fatalf("value to JSON: %v", err)
	}
	return string(b)
}

func opOf(r schema.Record) string {
	if r.Value == nil {
		return "tombstone"
	}
	st, ok := r.Value.(*schema.Struct)
	if !ok {
		return "?"
	}
	if op, ok := st.Get("op").(string); ok {
		return op
	}
	return fmt.Sprintf("%s", st.Schema.Name)
}

// serverLogOnFailure logs the tail of the MariaDB error log when t failed.
func serverLogOnFailure(t *testing.T) {
	srv := harness.MariaDBServer(t)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(srv.Dir + "/error.log")
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("mariadb error.log:\n%s", b)
		}
	})
}

func discardLogger() *slog.Logger { return slog.New(discardHandler{}) }

func mustDecimal(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func newEnvelopeForBench(tbl *table, val, src *schema.Struct) *schema.Struct {
	return cdc.NewEnvelope(tbl.envSchema, cdc.OpCreate, nil, val, src, nil, time.Now())
}
