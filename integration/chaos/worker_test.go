package chaos

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

var binary string

func TestMain(m *testing.M) {
	bin, remove, err := harness.BuildReplicate("replicate-chaos-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	code := harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres|harness.NeedKafka)
	remove()
	os.Exit(code)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
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

// worker is one `replicate standalone` setup: its config files, data
// directory (embedded broker data, offsets file) and the running process,
// started and killed as often as the test wants.
type worker struct {
	t         *testing.T
	dir       string
	restPort  int
	bootstrap string // the worker's Kafka, as clients reach it
	args      []string
	runs      int
	cur       *proc
}

// proc is one run of the binary.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	log    string
}

// newWorker writes connect-standalone style worker properties (b's Kafka;
// the embedded broker persisted in the test's directory; Connect JSON
// converters) and one JSON file per connector.
func newWorker(t *testing.T, b *harness.Broker, extra map[string]string, connectors map[string]map[string]string) *worker {
	t.Helper()
	w := &worker{t: t, dir: t.TempDir(), restPort: freePort(t)}
	brokerProps, bootstrap := b.WorkerProps(t)
	w.bootstrap = bootstrap
	props := map[string]string{
		"offset.storage.file.filename": filepath.Join(w.dir, "connect.offsets"),
		"offset.flush.interval.ms":     "500",
		"listeners":                    fmt.Sprintf("http://127.0.0.1:%d", w.restPort),
		"key.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":              "org.apache.kafka.connect.json.JsonConverter",
	}
	for k, v := range extra {
		props[k] = v
	}
	if b.Embedded {
		props["embedded.broker.data.dir"] = filepath.Join(w.dir, "broker")
	}
	var sb strings.Builder
	sb.WriteString(brokerProps)
	for k, v := range props {
		fmt.Fprintf(&sb, "%s=%s\n", k, v)
	}
	workerFile := filepath.Join(w.dir, "worker.properties")
	writeFile(t, workerFile, sb.String())
	w.args = []string{"standalone", workerFile}
	for name, cfg := range connectors {
		body, err := json.MarshalIndent(map[string]any{"name": name, "config": cfg}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(w.dir, name+".json")
		writeFile(t, path, string(body))
		w.args = append(w.args, path)
	}
	t.Cleanup(func() {
		if w.cur != nil {
			w.cur.cmd.Process.Kill()
			<-w.cur.exited
		}
		if t.Failed() {
			w.dumpLogs()
		}
	})
	return w
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// start runs the binary on the worker's files and data directory.
func (w *worker) start() *proc {
	w.t.Helper()
	if w.cur != nil {
		w.t.Fatal("worker already running")
	}
	w.runs++
	logPath := filepath.Join(w.dir, fmt.Sprintf("replicate-%02d.log", w.runs))
	logf, err := os.Create(logPath)
	if err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.Command(binary, append([]string{w.args[0], "-log-level", "info"}, w.args[1:]...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Die with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		w.t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.exited) }()
	w.cur = p
	return p
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (w *worker) kill() {
	w.t.Helper()
	p := w.cur
	if p == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	w.cur = nil
}

// stop sends SIGTERM and expects a clean exit.
func (w *worker) stop() {
	w.t.Helper()
	p := w.cur
	if p == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		w.cur = nil
		if p.err != nil {
			w.t.Fatalf("replicate exited with %v after SIGTERM", p.err)
		}
	case <-time.After(90 * time.Second):
		w.t.Fatal("replicate did not stop within 90s of SIGTERM")
	}
}

// alive fails the test when the current process has exited on its own.
func (w *worker) alive() {
	w.t.Helper()
	if w.cur == nil {
		return
	}
	select {
	case <-w.cur.exited:
		w.t.Fatalf("replicate exited on its own (%v); log %s:\n%s", w.cur.err, w.cur.log, tail(w.cur.log, 4000))
	default:
	}
}

// sleep waits d while checking that the process stays up.
func (w *worker) sleep(d time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		w.alive()
		time.Sleep(min(50*time.Millisecond, time.Until(deadline)))
	}
	w.alive()
}

// get reads a REST resource into v.
func (w *worker) get(path string, v any) error {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d%s", w.restPort, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// status is a connector's status as the REST API shows it.
type status struct {
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

func (s status) running() bool {
	if s.Connector.State != "RUNNING" || len(s.Tasks) == 0 {
		return false
	}
	for _, t := range s.Tasks {
		if t.State != "RUNNING" {
			return false
		}
	}
	return true
}

func (s status) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitRunning waits until every named connector and its tasks run.
func (w *worker) waitRunning(d time.Duration, names ...string) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for {
		w.alive()
		ok := true
		var last string
		for _, n := range names {
			var st status
			if err := w.get("/connectors/"+n+"/status", &st); err != nil || !st.running() {
				ok = false
				last = fmt.Sprintf("%s: %v %s", n, err, st)
				break
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("connectors not running after %v: %s", d, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statuses returns every named connector's status for failure messages.
func (w *worker) statuses(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		var st status
		if err := w.get("/connectors/"+n+"/status", &st); err != nil {
			fmt.Fprintf(&b, "%s: %v\n", n, err)
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", n, st)
	}
	return b.String()
}

// sourceOffset returns a source connector's committed offset (the first
// partition's), nil when none is committed yet.
func (w *worker) sourceOffset(name string) (map[string]any, error) {
	var body struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := w.get("/connectors/"+name+"/offsets", &body); err != nil {
		return nil, err
	}
	if len(body.Offsets) == 0 {
		return nil, nil
	}
	return body.Offsets[0].Offset, nil
}

func (w *worker) dumpLogs() {
	for i := max(1, w.runs-2); i <= w.runs; i++ {
		path := filepath.Join(w.dir, fmt.Sprintf("replicate-%02d.log", i))
		w.t.Logf("replicate log %s (last part, warnings and errors):\n%s", path, interesting(path, 6000))
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// interesting returns a log's warnings and errors and its last lines.
func interesting(path string, n int) string {
	b, _ := os.ReadFile(path)
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			keep = append(keep, l)
		}
	}
	s := strings.Join(keep, "\n")
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s + "\n--- last lines ---\n" + tail(path, 2000)
}
