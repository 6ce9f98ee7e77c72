package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/filestream"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/schema"
)

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testWorkerConfig is the worker config the tests run with, raw and parsed:
// the embedded broker, file offsets in dir flushed every 100 ms and string
// converters, with extra on top.
func testWorkerConfig(t *testing.T, dir string, extra map[string]string) (map[string]string, *runtime.WorkerConfig) {
	t.Helper()
	raw := map[string]string{
		"bootstrap.servers":            "embedded",
		"embedded.broker.port":         "0",
		"offset.storage.file.filename": filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms":     "100",
		"key.converter":                runtime.StringConverterClass,
		"value.converter":              runtime.StringConverterClass,
	}
	for k, v := range extra {
		raw[k] = v
	}
	wc, err := runtime.ParseWorkerConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, wc
}

func newWorker(t *testing.T, dir string, extra map[string]string, plugins ...connector.Plugin) *runtime.Worker {
	t.Helper()
	_, wc := testWorkerConfig(t, dir, extra)
	reg := connector.NewRegistry(append([]connector.Plugin{filestream.Source{}, filestream.Sink{}}, plugins...)...)
	w, err := runtime.NewWorker(context.Background(), wc, runtime.Options{Registry: reg, Logger: testLogger(t), WorkerID: "test:8083"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		w.Close(ctx)
	})
	return w
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeLines(t *testing.T, path string, from, to int) []byte {
	var b bytes.Buffer
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %06d ünïcode\n", i)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFileToFile(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	want := writeLines(t, in, 0, 5000)
	w := newWorker(t, dir, nil)
	ctx := context.Background()
	if err := w.CreateConnector(ctx, "src", map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "lines", "batch.size": "300",
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateConnector(ctx, "sink", map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": out, "topics": "lines",
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "output", 30*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) >= len(want)
	})
	// The file keeps being followed.
	want = append(want, writeLines(t, in, 5000, 5100)...)
	waitFor(t, "appended output", 30*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) >= len(want)
	})
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatalf("output differs from input (%d vs %d bytes)", len(got), len(want))
	}
	waitFor(t, "source offset", 10*time.Second, func() bool {
		offs, err := w.Offsets(ctx, "src")
		return err == nil && len(offs) == 1 && offs[0].Offset["position"] == int64(len(want))
	})
	offs, _ := w.Offsets(ctx, "src")
	if offs[0].Partition["filename"] != in {
		t.Fatalf("source partition = %v", offs[0].Partition)
	}
	waitFor(t, "sink offset", 10*time.Second, func() bool {
		offs, err := w.Offsets(ctx, "sink")
		return err == nil && len(offs) == 1 && offs[0].Offset["kafka_offset"] == int64(5100)
	})
	st, err := w.ConnectorStatus("src")
	if err != nil || st.Connector.State != runtime.Running || len(st.Tasks) != 1 || st.Tasks[0].State != runtime.Running || st.Type != connector.Source {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if got := w.Connectors(); len(got) != 2 || got[0] != "src" {
		t.Fatalf("Connectors = %v", got)
	}
}

func TestCreateConnectorErrors(t *testing.T) {
	w := newWorker(t, t.TempDir(), nil)
	ctx := context.Background()
	err := w.CreateConnector(ctx, "bad", map[string]string{"connector.class": "FileStreamSink", "tasks.max": "zero"})
	var ce config.Errors
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want config.Errors", err)
	}
	msg := err.Error()
	for _, key := range []string{"tasks.max", "topics"} {
		if !strings.Contains(msg, key) {
			t.Errorf("error %q does not name %s", msg, key)
		}
	}
	if err := w.CreateConnector(ctx, "x", map[string]string{"connector.class": "NoSuchConnector"}); err == nil || !strings.Contains(err.Error(), "connector.class") {
		t.Fatalf("unknown class: err = %v", err)
	}
	if err := w.CreateConnector(ctx, "x", map[string]string{"connector.class": "FileStreamSource", "topic": "a,b"}); err == nil || !strings.Contains(err.Error(), "single topic") {
		t.Fatalf("two topics: err = %v", err)
	}
	if _, err := w.ConnectorStatus("nope"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("status of unknown: %v", err)
	}
}

// failingSource fails its task on the first poll; the worker must keep
// running and report the trace.
type failingSource struct{ filestream.Source }

func (failingSource) Class() string     { return "test.FailingSource" }
func (failingSource) Aliases() []string { return nil }
func (failingSource) NewTask() connector.SourceTask {
	return &failTask{}
}

type failTask struct{ n int }

func (*failTask) Start(context.Context, map[string]string, connector.TaskContext) error { return nil }
func (f *failTask) Poll(ctx context.Context) ([]schema.Record, error) {
	f.n++
	if f.n > 1 {
		return nil, errors.New("disk on fire")
	}
	return nil, nil
}
func (*failTask) Commit(context.Context, []connector.Offset) error { return nil }
func (*failTask) Stop() error                                      { return nil }

func TestTaskFailureAndLifecycle(t *testing.T) {
	dir := t.TempDir()
	w := newWorker(t, dir, nil, failingSource{})
	ctx := context.Background()
	if err := w.CreateConnector(ctx, "f", map[string]string{"connector.class": "test.FailingSource", "topic": "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FAILED", 10*time.Second, func() bool {
		st, _ := w.TaskStatus("f", 0)
		return st.State == runtime.Failed
	})
	st, _ := w.TaskStatus("f", 0)
	if !strings.Contains(st.Trace, "disk on fire") {
		t.Fatalf("trace = %q", st.Trace)
	}
	// Another connector still works.
	in := filepath.Join(dir, "in.txt")
	writeLines(t, in, 0, 10)
	if err := w.CreateConnector(ctx, "ok", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "t"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ok RUNNING", 5*time.Second, func() bool {
		st, _ := w.TaskStatus("ok", 0)
		return st.State == runtime.Running
	})
	if err := w.PauseConnector("ok"); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.ConnectorStatus("ok"); st.Connector.State != runtime.Paused || st.Tasks[0].State != runtime.Paused {
		t.Fatalf("after pause: %+v", st)
	}
	if err := w.ResumeConnector(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if err := w.StopConnector(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.ConnectorStatus("ok"); st.Connector.State != runtime.Stopped || len(st.Tasks) != 0 {
		t.Fatalf("after stop: %+v", st)
	}
	// Offsets of a stopped connector can be reset.
	if err := w.ResetOffsets(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if offs, _ := w.Offsets(ctx, "ok"); len(offs) != 0 {
		t.Fatalf("offsets after reset: %v", offs)
	}
	if err := w.ResumeConnector(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ok RUNNING again", 5*time.Second, func() bool {
		st, _ := w.ConnectorStatus("ok")
		return st.Connector.State == runtime.Running && len(st.Tasks) == 1 && st.Tasks[0].State == runtime.Running
	})
	if err := w.RestartTask(ctx, "f", 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "FAILED after restart", 10*time.Second, func() bool {
		st, _ := w.TaskStatus("f", 0)
		return st.State == runtime.Failed
	})
	if err := w.DeleteConnector(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ConnectorStatus("f"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("deleted connector still there: %v", err)
	}
}
