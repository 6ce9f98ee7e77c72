package jdbcsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// childEnv marks a re-executed test binary that loads records and is then
// killed with SIGKILL (TestKill9); it talks to the parent's servers, so it
// must not start its own.
const childEnv = "JDBCSINK_KILL_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(m.Run())
	}
	os.Exit(harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres))
}

// forEachDB runs f against a fresh MariaDB database and a fresh PostgreSQL
// database.
func forEachDB(t *testing.T, f func(t *testing.T, db *harness.Database)) {
	t.Run("mariadb", func(t *testing.T) { f(t, harness.MariaDB(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, harness.Postgres(t)) })
}

// sinkConfig is a connector config for db with test-friendly retries.
func sinkConfig(db *harness.Database, kv ...string) map[string]string {
	m := map[string]string{
		"connector.class":  Class,
		"connection.url":   db.JDBCURL(),
		"topics":           "orders",
		"max.retries":      "3",
		"retry.backoff.ms": "50",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// reporter is an errant-record reporter that records what it gets;
// refuse=true makes it fail like errors.tolerance=none.
type reporter struct {
	mu     sync.Mutex
	recs   []schema.Record
	errs   []error
	refuse bool
}

func (r *reporter) report(_ context.Context, rec schema.Record, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	r.errs = append(r.errs, err)
	if r.refuse {
		return errors.New("errors.tolerance=none")
	}
	return nil
}

func (r *reporter) offsets() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, rec := range r.recs {
		out = append(out, rec.Offset)
	}
	return out
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startTask starts a sink task; rep may be nil (no errant-record reporter).
func startTask(t testing.TB, cfg map[string]string, rep *reporter) *Task {
	t.Helper()
	task := Plugin{}.NewTask().(*Task)
	tc := connector.TaskContext{Connector: "jdbc-sink-test", Logger: testLogger(t), Metrics: connector.NopMetrics{}}
	if rep != nil {
		tc.Report = rep.report
	}
	if err := task.Start(context.Background(), cfg, tc); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

func mustPut(t testing.TB, task *Task, recs ...schema.Record) {
	t.Helper()
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatalf("put: %v", err)
	}
}

func mustFlush(t testing.TB, task *Task) {
	t.Helper()
	if err := task.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// query returns rows as strings ("NULL" for null), one []string per row.
func query(t testing.TB, db *sqlx.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, r := range raw {
			if r == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(r)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func render(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|"))
		b.WriteByte('\n')
	}
	return b.String()
}

// expectRows compares a query's result with want (rows joined by |).
func expectRows(t testing.TB, db *sqlx.DB, q string, want ...string) {
	t.Helper()
	got := render(query(t, db, q))
	w := ""
	if len(want) > 0 {
		w = strings.Join(want, "\n") + "\n"
	}
	if got != w {
		t.Fatalf("%s:\ngot:\n%swant:\n%s", q, got, w)
	}
}

// columnsOf lists a table's columns with their types, lower case, sorted by
// position: "name type nullable".
func columnsOf(t testing.TB, hdb *harness.Database, db *sqlx.DB, table string) []string {
	t.Helper()
	var q string
	if hdb.Kind == harness.KindMariaDB {
		q = fmt.Sprintf(`SELECT COLUMN_NAME, LOWER(COLUMN_TYPE), IS_NULLABLE FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION`, table)
	} else {
		q = fmt.Sprintf(`SELECT column_name, format_type(a.atttypid, a.atttypmod), is_nullable FROM information_schema.columns c
			JOIN pg_attribute a ON a.attrelid = ('public.'||c.table_name)::regclass AND a.attname = c.column_name
			WHERE table_schema = 'public' AND table_name = '%s' ORDER BY ordinal_position`, table)
	}
	var out []string
	for _, r := range query(t, db, q) {
		out = append(out, strings.Join(r, " "))
	}
	return out
}

func primaryKeyOf(t testing.TB, hdb *harness.Database, db *sqlx.DB, table string) string {
	t.Helper()
	var q string
	if hdb.Kind == harness.KindMariaDB {
		q = fmt.Sprintf(`SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
			AND TABLE_NAME = '%s' AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, table)
	} else {
		q = fmt.Sprintf(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = 'public.%s'::regclass AND i.indisprimary ORDER BY a.attnum`, table)
	}
	var cols []string
	for _, r := range query(t, db, q) {
		cols = append(cols, r[0])
	}
	sort.Strings(cols)
	return strings.Join(cols, ",")
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// record builds a sink record.
func record(topic string, partition int32, offset int64, ks *schema.Schema, k any, vs *schema.Schema, v any) schema.Record {
	return schema.Record{Topic: topic, Partition: partition, Offset: offset, KeySchema: ks, Key: k, ValueSchema: vs, Value: v,
		Timestamp: t0.Add(time.Duration(offset) * time.Millisecond)}
}

func structOf(s *schema.Schema, vals ...any) *schema.Struct {
	return &schema.Struct{Schema: s, Values: vals}
}
