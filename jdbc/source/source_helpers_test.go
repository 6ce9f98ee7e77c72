package source

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres))
}

// backend is one database flavor under test, with its DDL dialect.
type backend struct {
	name   string
	open   func(t testing.TB) *harness.Database
	serial string // auto-increment BIGINT primary key
	ts     string // microsecond timestamp without zone
	nowFn  string
}

var backends = []backend{
	{name: "mariadb", open: harness.MariaDB, serial: "BIGINT AUTO_INCREMENT PRIMARY KEY", ts: "DATETIME(6)", nowFn: "NOW(6)"},
	{name: "postgres", open: harness.Postgres, serial: "BIGSERIAL PRIMARY KEY", ts: "TIMESTAMP(6)", nowFn: "now()"},
}

// forEach runs f as a subtest per backend.
func forEach(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// fixture is a test database with a connection.
type fixture struct {
	b   backend
	db  *harness.Database
	sql *sqlx.DB
}

func newFixture(t *testing.T, b backend) *fixture {
	db := b.open(t)
	return &fixture{b: b, db: db, sql: db.Open(t)}
}

func (f *fixture) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	q = strings.ReplaceAll(q, "$SERIAL", f.b.serial)
	q = strings.ReplaceAll(q, "$TS", f.b.ts)
	q = strings.ReplaceAll(q, "$NOW", f.b.nowFn)
	if _, err := f.sql.Exec(f.sql.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// fqn is the source-partition table name for table in this database.
func (f *fixture) fqn(table string) string {
	if f.b.name == "mariadb" {
		return f.db.Name + "." + table
	}
	return "public." + table
}

// config returns a connector config for the fixture's database.
func (f *fixture) config(kv ...string) map[string]string {
	m := map[string]string{
		"connector.class":        "JdbcSourceConnector",
		"connection.url":         f.db.JDBCURL(),
		"poll.interval.ms":       "10",
		"table.poll.interval.ms": "60000",
		"topic.prefix":           "test-",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// memOffsets is an in-test offset store: the runtime's role of storing the
// last record's offset per source partition.
type memOffsets struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

func newOffsets() *memOffsets { return &memOffsets{m: map[string]map[string]any{}} }

func partKey(p map[string]any) string {
	b, _ := json.Marshal(p) // map keys are sorted
	return string(b)
}

// Offset implements connector.OffsetReader. Offsets go through JSON, as
// they would in the runtime's store.
func (o *memOffsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v := o.m[partKey(p)]
	if v == nil {
		return nil, nil
	}
	b, _ := json.Marshal(v)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// commit stores the offsets of recs, as the runtime does once Kafka acked.
func (o *memOffsets) commit(recs []schema.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range recs {
		if r.SourceOffset != nil {
			o.m[partKey(r.SourcePartition)] = r.SourceOffset
		}
	}
}

func taskContextB(b *testing.B) connector.TaskContext {
	return connector.TaskContext{Connector: "jdbc-bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Offsets: newOffsets(), Metrics: connector.NopMetrics{}}
}

func taskContext(t *testing.T) connector.TaskContext {
	level := slog.LevelInfo
	if os.Getenv("TRIBUTARY_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return connector.TaskContext{Connector: "jdbc-test", Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level})),
		Offsets: newOffsets(), Metrics: connector.NopMetrics{}}
}

func startTask(t *testing.T, cfg map[string]string, offs *memOffsets) *SourceTask {
	t.Helper()
	task := NewSourceTask()
	tc := taskContext(t)
	if offs != nil {
		tc.Offsets = offs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := task.Start(ctx, cfg, tc); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// drain polls until a poll returns nothing (incremental modes).
func drain(t *testing.T, task *SourceTask) []schema.Record {
	t.Helper()
	var all []schema.Record
	for i := 0; i < 100000; i++ {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(recs) == 0 {
			return all
		}
		all = append(all, recs...)
	}
	t.Fatal("drain: no end")
	return nil
}

// pollN polls until n records arrived (bulk mode, which never runs dry).
func pollN(t *testing.T, task *SourceTask, n int) []schema.Record {
	t.Helper()
	var all []schema.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(all) < n && time.Now().Before(deadline) {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		all = append(all, recs...)
	}
	if len(all) < n {
		t.Fatalf("got %d records, want %d", len(all), n)
	}
	return all
}

// field returns a record value's field.
func field(r schema.Record, name string) any {
	return r.Value.(*schema.Struct).Get(name)
}

// ids returns the "id" fields of records as int64s.
func ids(recs []schema.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		switch v := field(r, "id").(type) {
		case int64:
			out[i] = v
		case int32:
			out[i] = int64(v)
		default:
			out[i] = -999
		}
	}
	return out
}

func names(recs []schema.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprint(field(r, "name"))
	}
	return out
}

func eqInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pollFor polls for d and returns everything read.
func pollFor(t *testing.T, task *SourceTask, d time.Duration) []schema.Record {
	t.Helper()
	var all []schema.Record
	for end := time.Now().Add(d); time.Now().Before(end); {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		all = append(all, recs...)
	}
	return all
}

// pollUntil polls until n records arrived or d passed.
func pollUntil(t *testing.T, task *SourceTask, n int, d time.Duration) []schema.Record {
	t.Helper()
	var all []schema.Record
	for end := time.Now().Add(d); len(all) < n && time.Now().Before(end); {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		all = append(all, recs...)
	}
	return all
}
