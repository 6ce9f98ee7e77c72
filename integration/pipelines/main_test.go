package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// binary is the replicate binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "replicate-pipelines-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "replicate")
	_, file, _, _ := goruntime.Caller(0)
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/replicate")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build replicate:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres|harness.NeedKafka)
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverIDs hands out distinct database.server.id values to the MariaDB CDC
// connectors of this package (they share one server).
var serverIDs atomic.Int64

func nextServerID() string { return strconv.FormatInt(5600+serverIDs.Add(1), 10) }

// connector is a connector config as a Connect user writes it.
type connector struct {
	name   string
	config map[string]string
}

// workerOpts selects worker settings beyond the defaults.
type workerOpts struct {
	// registry serves the embedded schema registry
	// (schema.registry.url=embedded).
	registry bool
	// broker is the Kafka the worker uses; nil = harness.DefaultBroker.
	broker *harness.Broker
}

// worker is one running `replicate standalone`.
type worker struct {
	t            *testing.T
	dir          string
	url          string // REST API
	bootstrap    string // where clients reach the worker's Kafka
	registryPort int
	cmd          *exec.Cmd
	args         []string
	runs         int
	exited       chan struct{} // closed when the current run ended
	exitErr      error
}

// startWorker writes a worker.properties as a Connect user would (Kafka's
// connect-standalone.properties with the embedded broker and JsonConverter
// with schemas), writes each connector as a {"name", "config"} JSON file,
// runs `replicate standalone worker.properties connector.json…` and waits
// for the REST API. The process is killed at test end; the broker's data,
// the offsets and the REST-created connectors live in the worker's
// directory, so stop and launch restart it where it left off.
func startWorker(t *testing.T, opts workerOpts, conns ...connector) *worker {
	t.Helper()
	w := &worker{t: t, dir: t.TempDir()}
	b := opts.broker
	if b == nil {
		b = harness.DefaultBroker(t)
	}
	brokerProps, bootstrap := b.WorkerProps(t)
	w.bootstrap = bootstrap
	restPort := freePort(t)
	w.url = fmt.Sprintf("http://127.0.0.1:%d", restPort)
	props := brokerProps + fmt.Sprintf(`key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=%s
offset.flush.interval.ms=1000
rest.port=%d
`, filepath.Join(w.dir, "connect.offsets"), restPort)
	if opts.registry {
		w.registryPort = freePort(t)
		props += fmt.Sprintf("schema.registry.url=embedded\nembedded.schema.registry.listener=127.0.0.1:%d\n", w.registryPort)
	}
	workerFile := filepath.Join(w.dir, "worker.properties")
	writeFile(t, workerFile, []byte(props))
	args := []string{"standalone", workerFile}
	for _, c := range conns {
		b, err := json.MarshalIndent(map[string]any{"name": c.name, "config": c.config}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(w.dir, c.name+".json")
		writeFile(t, path, b)
		args = append(args, path)
	}
	w.args = args
	w.launch()
	return w
}

// launch runs replicate with w.args (again, after stop: same directory,
// ports and configs) and waits for the REST API.
func (w *worker) launch() {
	t := w.t
	t.Helper()
	w.runs++
	w.exited = make(chan struct{})
	logPath := filepath.Join(w.dir, fmt.Sprintf("replicate-%d.log", w.runs))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, w.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.cmd = cmd
	exited := w.exited
	go func() { w.exitErr = cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("replicate log (%s):\n%s", filepath.Base(logPath), b)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("replicate exited at start: %v", w.exitErr)
		default:
		}
		resp, err := http.Get(w.url + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("REST API did not come up within 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// stop sends SIGTERM and expects a clean exit (status 0).
func (w *worker) stop() {
	t := w.t
	t.Helper()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
		if w.exitErr != nil {
			t.Fatalf("replicate exited with %v after SIGTERM", w.exitErr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("replicate did not stop within 60s of SIGTERM")
	}
}

// kill ends replicate with SIGKILL (no clean shutdown, as a crash).
func (w *worker) kill() {
	w.t.Helper()
	w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.exited
}

// call sends a REST request and returns the status code and body.
func (w *worker) call(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// create posts a connector (POST /connectors) and expects 201 Created.
func (w *worker) create(c connector) {
	w.t.Helper()
	code, b, err := w.call(http.MethodPost, "/connectors", map[string]any{"name": c.name, "config": c.config})
	if err != nil {
		w.t.Fatalf("POST /connectors %s: %v", c.name, err)
	}
	if code != http.StatusCreated {
		w.t.Fatalf("POST /connectors %s: HTTP %d: %s", c.name, code, b)
	}
}

type connectorStatus struct {
	Name      string `json:"name"`
	Connector struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		ID    int    `json:"id"`
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"tasks"`
}

func (w *worker) status(name string) (connectorStatus, error) {
	var st connectorStatus
	code, b, err := w.call(http.MethodGet, "/connectors/"+name+"/status", nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("GET /connectors/%s/status: HTTP %d: %s", name, code, b)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("GET /connectors/%s/status: %w: %s", name, err, b)
	}
	return st, nil
}

// failures returns the FAILED connectors and tasks of the worker, with
// their traces ("" when none failed).
func (w *worker) failures() string {
	code, b, err := w.call(http.MethodGet, "/connectors", nil)
	if err != nil || code != http.StatusOK {
		return ""
	}
	var names []string
	if json.Unmarshal(b, &names) != nil {
		return ""
	}
	var out []string
	for _, n := range names {
		st, err := w.status(n)
		if err != nil {
			continue
		}
		if st.Connector.State == "FAILED" {
			out = append(out, fmt.Sprintf("connector %s FAILED: %s", n, st.Connector.Trace))
		}
		for _, tk := range st.Tasks {
			if tk.State == "FAILED" {
				out = append(out, fmt.Sprintf("task %s-%d FAILED: %s", n, tk.ID, tk.Trace))
			}
		}
	}
	return strings.Join(out, "\n")
}

// eventually calls f until it returns nil. It fails the test when d passes,
// when replicate exits, or when a connector or task fails.
func (w *worker) eventually(d time.Duration, what string, f func() error) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-w.exited:
			w.t.Fatalf("%s: replicate exited (%v); last check: %v", what, w.exitErr, err)
		default:
		}
		if i%4 == 3 {
			if f := w.failures(); f != "" {
				w.t.Fatalf("%s: %s\nlast check: %v", what, f, err)
			}
		}
		if time.Now().After(deadline) {
			if f := w.failures(); f != "" {
				w.t.Fatalf("%s: %s\nlast check: %v", what, f, err)
			}
			w.t.Fatalf("%s: not reached within %v: %v", what, d, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitRunning waits until the connectors and all their tasks are RUNNING.
func (w *worker) waitRunning(names ...string) {
	w.t.Helper()
	for _, n := range names {
		w.eventually(60*time.Second, "connector "+n+" RUNNING", func() error {
			st, err := w.status(n)
			if err != nil {
				return err
			}
			if st.Connector.State != "RUNNING" || len(st.Tasks) == 0 {
				return fmt.Errorf("connector %s is %s with %d tasks", n, st.Connector.State, len(st.Tasks))
			}
			for _, tk := range st.Tasks {
				if tk.State != "RUNNING" {
					return fmt.Errorf("task %s-%d is %s", n, tk.ID, tk.State)
				}
			}
			return nil
		})
	}
}

// broker is the worker's Kafka address, as any Kafka client sees it.
func (w *worker) broker() string { return w.bootstrap }

// kafka is an independent franz-go client of the worker's Kafka.
func (w *worker) kafka(opts ...kgo.Opt) *kgo.Client {
	w.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(w.broker())}, opts...)...)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(cl.Close)
	return cl
}

// createTopic creates a topic as an operator would before the producer runs.
func (w *worker) createTopic(topic string, partitions int32) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(w.kafka())
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		w.t.Fatalf("create topic %s: %v", topic, err)
	}
}

// readTopic reads every record of topic from the start to its current end.
func (w *worker) readTopic(topic string) []*kgo.Record {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := w.kafka(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		w.t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			w.t.Fatalf("end offset of %s/%d: %v", topic, o.Partition, o.Err)
		}
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			w.t.Fatalf("read %s: %v (still waiting for %v)", topic, err, want)
		}
		fs.EachError(func(_ string, _ int32, err error) { w.t.Fatalf("read %s: %v", topic, err) })
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if r.Offset+1 >= want[r.Partition] {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// topics lists the broker's topics.
func (w *worker) topics() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.broker()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		return nil, err
	}
	names := td.Names()
	sort.Strings(names)
	return names, nil
}

// execSQL runs statements in order.
func execSQL(t *testing.T, db *sqlx.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rows runs a query and returns every row as normalized text, so results
// from MariaDB and PostgreSQL compare equal: NULL as "NULL", booleans as
// 1/0, times in UTC as "2006-01-02 15:04:05.000000".
func rows(db *sqlx.DB, q string, args ...any) ([][]string, error) {
	rs, err := db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = text(v)
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case string:
		return v
	case bool:
		if v {
			return "1"
		}
		return "0"
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case time.Time:
		return v.UTC().Format("2006-01-02 15:04:05.000000")
	}
	return fmt.Sprint(v)
}

// equalRows reports how got differs from want ("" when equal).
func equalRows(got, want [][]string) string {
	var diffs []string
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			diffs = append(diffs, fmt.Sprintf("row %d missing: want %v", i, want[i]))
		case i >= len(want):
			diffs = append(diffs, fmt.Sprintf("row %d extra: got %v", i, got[i]))
		case strings.Join(got[i], "|") != strings.Join(want[i], "|"):
			diffs = append(diffs, fmt.Sprintf("row %d: got %v, want %v", i, got[i], want[i]))
		}
	}
	return strings.Join(diffs, "\n")
}

// columns lists a table's columns in ordinal order with their nullability
// ("name NULL" / "name NOT NULL"), from information_schema.
func columns(db *harness.Database, conn *sqlx.DB, table string) ([]string, error) {
	schemaExpr := "DATABASE()"
	if db.Kind == harness.KindPostgres {
		schemaExpr = "current_schema()"
	}
	rs, err := rows(conn, `SELECT column_name, is_nullable FROM information_schema.columns
		WHERE table_schema = `+schemaExpr+` AND table_name = '`+table+`' ORDER BY ordinal_position`)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs {
		n := "NULL"
		if r[1] == "NO" {
			n = "NOT NULL"
		}
		out = append(out, strings.ToLower(r[0])+" "+n)
	}
	return out, nil
}

// primaryKey lists a table's primary-key columns in key order.
func primaryKey(db *harness.Database, conn *sqlx.DB, table string) ([]string, error) {
	schemaExpr := "DATABASE()"
	if db.Kind == harness.KindPostgres {
		schemaExpr = "current_schema()"
	}
	rs, err := rows(conn, `SELECT k.column_name FROM information_schema.table_constraints c
		JOIN information_schema.key_column_usage k
		  ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema AND k.table_name = c.table_name
		WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = `+schemaExpr+` AND c.table_name = '`+table+`'
		ORDER BY k.ordinal_position`)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs {
		out = append(out, strings.ToLower(r[0]))
	}
	return out, nil
}

// dropSlotAtEnd drops a PostgreSQL replication slot once the test's worker
// is gone (register it before starting the worker: cleanups run last-in
// first-out), so the shared server does not keep WAL for it.
func dropSlotAtEnd(t *testing.T, conn *sqlx.DB, slot string) {
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			_, err := conn.Exec(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
			if err == nil || !strings.Contains(err.Error(), "active") {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
}

var errNotYet = errors.New("not yet")
