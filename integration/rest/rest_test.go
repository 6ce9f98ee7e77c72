// Package rest_test drives a running `replicate standalone` process through
// its Kafka Connect REST API, as an operator's scripts would: every endpoint
// with its status codes and JSON shapes, the seed request sent by the real
// curl binary, config validation, the dead letter queue, /metrics, and
// REST-created connectors surviving a restart.
package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

var binary string

func TestMain(m *testing.M) {
	bin, remove, err := harness.BuildReplicate("replicate-rest-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	code := harness.Run(m, harness.NeedKafka)
	remove()
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

// worker is one replicate process (restartable on the same directory and ports).
type worker struct {
	t         *testing.T
	dir       string
	restPort  int
	bootstrap string // the worker's Kafka, as clients reach it
	cmd       *exec.Cmd
	runs      int
	url       string
}

func newWorker(t *testing.T) *worker {
	w := &worker{t: t, dir: t.TempDir(), restPort: freePort(t)}
	w.url = fmt.Sprintf("http://127.0.0.1:%d", w.restPort)
	brokerProps, bootstrap := harness.DefaultBroker(t).WorkerProps(t)
	w.bootstrap = bootstrap
	props := brokerProps + fmt.Sprintf(`key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=%s
offset.flush.interval.ms=200
rest.port=%d
`, filepath.Join(w.dir, "connect.offsets"), w.restPort)
	if err := os.WriteFile(filepath.Join(w.dir, "worker.properties"), []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if w.cmd != nil && w.cmd.ProcessState == nil {
			w.cmd.Process.Kill()
			w.cmd.Wait()
		}
	})
	return w
}

func (w *worker) start() {
	t := w.t
	t.Helper()
	w.runs++
	logf, err := os.Create(filepath.Join(w.dir, fmt.Sprintf("replicate-%d.log", w.runs)))
	if err != nil {
		t.Fatal(err)
	}
	w.cmd = exec.Command(binary, "standalone", filepath.Join(w.dir, "worker.properties"))
	w.cmd.Stdout, w.cmd.Stderr = logf, logf
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	run := w.runs
	t.Cleanup(func() {
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("replicate log (run %d):\n%s", run, b)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(w.url + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("REST API did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *worker) stop() {
	t := w.t
	t.Helper()
	w.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("replicate exited with %v after SIGTERM", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("replicate did not stop within 40s of SIGTERM")
	}
}

// call sends a request and checks the status code; out receives the body.
func (w *worker) call(method, path string, body any, want int, out any) []byte {
	t := w.t
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, w.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if len(b) > 0 && !strings.HasPrefix(path, "/metrics") && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, resp.Header.Get("Content-Type"))
	}
	if (want == 204 || want == 202 && out == nil) && len(b) > 0 {
		t.Errorf("%s %s: %d with a body: %s", method, path, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode: %v: %s", method, path, err, b)
		}
	}
	return b
}

// callError expects Connect's error body.
func (w *worker) callError(method, path string, body any, code int, msg string) {
	w.t.Helper()
	var e map[string]any
	w.call(method, path, body, code, &e)
	if len(e) != 2 || e["error_code"] != float64(code) {
		w.t.Errorf("%s %s: error body %v", method, path, e)
	}
	if m, _ := e["message"].(string); !strings.Contains(m, msg) {
		w.t.Errorf("%s %s: message %q lacks %q", method, path, m, msg)
	}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type status struct {
	Name      string `json:"name"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"tasks"`
	Type string `json:"type"`
}

func (w *worker) status(name string) status {
	w.t.Helper()
	var st status
	w.call("GET", "/connectors/"+name+"/status", nil, 200, &st)
	return st
}

func (w *worker) running(name string, tasks int) bool {
	st := w.status(name)
	if st.Connector.State != "RUNNING" || len(st.Tasks) != tasks {
		return false
	}
	for _, tk := range st.Tasks {
		if tk.State != "RUNNING" {
			return false
		}
	}
	return true
}

func (w *worker) metrics() map[string]*dto.MetricFamily {
	w.t.Helper()
	resp, err := http.Get(w.url + "/metrics")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		w.t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		w.t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
	}
	return fams
}

func metric(fams map[string]*dto.MetricFamily, name, conn string) float64 {
	var sum float64
	if f := fams[name]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "connector" && l.GetValue() == conn {
					sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return sum
}

func lines(n, from int) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "line %05d\n", i)
	}
	return b.Bytes()
}

func appendFile(t *testing.T, path string, b []byte) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestRESTAPI drives every endpoint of a running replicate, then restarts it.
func TestRESTAPI(t *testing.T) {
	w := newWorker(t)
	w.start()
	in, out := filepath.Join(w.dir, "in.txt"), filepath.Join(w.dir, "out.txt")
	want := lines(200, 0)
	appendFile(t, in, want)

	// GET /
	var root map[string]string
	w.call("GET", "/", nil, 200, &root)
	if root["version"] == "" || root["kafka_cluster_id"] == "" || len(root) != 3 {
		t.Errorf("GET / = %v", root)
	}
	var health map[string]string
	w.call("GET", "/health", nil, 200, &health)
	if health["status"] != "healthy" {
		t.Errorf("GET /health = %v", health)
	}
	var names []string
	w.call("GET", "/connectors", nil, 200, &names)
	if names == nil || len(names) != 0 {
		t.Errorf("GET /connectors on a fresh worker = %v", names)
	}

	// The seed request, unchanged, with the real curl.
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed (scripts/install-deps.sh installs it)")
	}
	seed := fmt.Sprintf(`{"name":"my-connector","config":{"connector.class":"FileStreamSource","file":%q,"topic":"connect-test"}}`, in)
	cout, err := exec.Command(curl, "-sS", "-X", "POST", "-H", "Content-Type: application/json", "--data", seed,
		"-w", "\n%{http_code}", w.url+"/connectors").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, cout)
	}
	parts := strings.Split(strings.TrimSpace(string(cout)), "\n")
	if parts[len(parts)-1] != "201" {
		t.Fatalf("curl POST /connectors: %s", cout)
	}
	var created struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
		Tasks  []map[string]any  `json:"tasks"`
		Type   string            `json:"type"`
	}
	if err := json.Unmarshal([]byte(parts[0]), &created); err != nil || created.Name != "my-connector" || created.Type != "source" ||
		created.Config["file"] != in || created.Config["name"] != "my-connector" {
		t.Fatalf("created %s: %v", parts[0], err)
	}
	w.callError("POST", "/connectors", seed, 409, "Connector my-connector already exists")

	// A sink through PUT …/config (201), with a secret that must stay hidden.
	var info struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
		Tasks  []struct {
			Connector string `json:"connector"`
			Task      int    `json:"task"`
		} `json:"tasks"`
		Type string `json:"type"`
	}
	w.call("PUT", "/connectors/file-sink/config", map[string]any{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
		"file": out, "topics": "connect-test", "tasks.max": 1, "consumer.override.sasl.jaas.config": "secret-jaas"}, 201, &info)
	if info.Name != "file-sink" || info.Type != "sink" || info.Config["tasks.max"] != "1" || info.Config["consumer.override.sasl.jaas.config"] != "[hidden]" {
		t.Errorf("PUT-created %+v", info)
	}
	waitFor(t, "sink output", 30*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) >= len(want)
	})
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatalf("sink output differs from the input")
	}
	waitFor(t, "both running", 10*time.Second, func() bool { return w.running("my-connector", 1) && w.running("file-sink", 1) })

	// Reads.
	w.call("GET", "/connectors", nil, 200, &names)
	slices.Sort(names)
	if !slices.Equal(names, []string{"file-sink", "my-connector"}) {
		t.Errorf("GET /connectors = %v", names)
	}
	var expanded map[string]map[string]json.RawMessage
	w.call("GET", "/connectors?expand=status&expand=info", nil, 200, &expanded)
	if len(expanded) != 2 || expanded["my-connector"]["status"] == nil || expanded["my-connector"]["info"] == nil {
		t.Errorf("expand = %v", expanded)
	}
	w.call("GET", "/connectors/my-connector", nil, 200, &info)
	if len(info.Tasks) != 1 || info.Tasks[0].Connector != "my-connector" || info.Tasks[0].Task != 0 {
		t.Errorf("GET /connectors/my-connector = %+v", info)
	}
	var cfg map[string]string
	w.call("GET", "/connectors/my-connector/config", nil, 200, &cfg)
	if cfg["connector.class"] != "FileStreamSource" || cfg["topic"] != "connect-test" {
		t.Errorf("config %v", cfg)
	}
	if b := w.call("GET", "/connectors/file-sink/config", nil, 200, nil); strings.Contains(string(b), "secret-jaas") {
		t.Errorf("secret shown: %s", b)
	}
	st := w.status("my-connector")
	if st.Name != "my-connector" || st.Type != "source" || st.Connector.WorkerID == "" || st.Tasks[0].ID != 0 || st.Tasks[0].WorkerID == "" {
		t.Errorf("status %+v", st)
	}
	var tasks []struct {
		ID     map[string]any    `json:"id"`
		Config map[string]string `json:"config"`
	}
	w.call("GET", "/connectors/my-connector/tasks", nil, 200, &tasks)
	if len(tasks) != 1 || tasks[0].ID["connector"] != "my-connector" || tasks[0].ID["task"] != float64(0) || tasks[0].Config["file"] != in {
		t.Errorf("tasks %+v", tasks)
	}
	var ts map[string]any
	w.call("GET", "/connectors/my-connector/tasks/0/status", nil, 200, &ts)
	if ts["id"] != float64(0) || ts["state"] != "RUNNING" {
		t.Errorf("task status %v", ts)
	}
	var topics map[string]map[string][]string
	w.call("GET", "/connectors/file-sink/topics", nil, 200, &topics)
	if !slices.Equal(topics["file-sink"]["topics"], []string{"connect-test"}) {
		t.Errorf("topics %v", topics)
	}
	w.call("PUT", "/connectors/file-sink/topics/reset", nil, 202, nil)
	var plugins []map[string]string
	w.call("GET", "/connector-plugins", nil, 200, &plugins)
	classes := []string{}
	for _, p := range plugins {
		classes = append(classes, p["class"])
		if p["type"] != "source" && p["type"] != "sink" {
			t.Errorf("plugin %v", p)
		}
	}
	if !slices.Contains(classes, "org.apache.kafka.connect.file.FileStreamSourceConnector") {
		t.Errorf("plugins %v", classes)
	}
	w.call("GET", "/connector-plugins?connectorsOnly=false", nil, 200, &plugins)
	var defs []map[string]any
	w.call("GET", "/connector-plugins/FileStreamSource/config", nil, 200, &defs)
	if len(defs) == 0 || defs[0]["name"] == nil {
		t.Errorf("plugin config %v", defs)
	}

	// Errors.
	w.callError("GET", "/connectors/nope", nil, 404, "Connector nope not found")
	w.callError("GET", "/connectors/nope/config", nil, 404, "Connector nope not found")
	w.callError("GET", "/connectors/nope/status", nil, 404, "No status found for connector nope") // Connect 4.4's wording
	w.callError("GET", "/connectors/nope/tasks", nil, 404, "Connector nope not found")
	w.callError("PUT", "/connectors/nope/pause", nil, 404, "Unknown connector nope")
	w.callError("PUT", "/connectors/nope/resume", nil, 404, "Unknown connector nope")
	w.callError("PUT", "/connectors/nope/stop", nil, 404, "Connector nope not found")
	w.callError("POST", "/connectors/nope/restart", nil, 404, "Connector nope not found")
	w.callError("DELETE", "/connectors/nope", nil, 404, "Connector nope not found")
	w.callError("GET", "/connectors/nope/offsets", nil, 404, "Connector nope not found")
	w.callError("POST", "/connectors", `{"name":"bad","config":{"connector.class":"FileStreamSource","tasks.max":"many"}}`, 400,
		"Connector configuration is invalid and contains the following 2 error(s)")
	w.callError("POST", "/connectors", `{"name":"bad","config":{"connector.class":"com.example.NoSuchConnector","topic":"t"}}`, 400, "com.example.NoSuchConnector")
	w.callError("POST", "/connectors", `not json`, 400, "Invalid JSON")
	w.callError("DELETE", "/connector-plugins", nil, 405, "Method Not Allowed")

	// Lifecycle: pause/resume (202), restart (204 / 202 + plan), task restart (204).
	w.call("PUT", "/connectors/file-sink/pause", nil, 202, nil)
	waitFor(t, "paused", 10*time.Second, func() bool {
		st := w.status("file-sink")
		return st.Connector.State == "PAUSED" && st.Tasks[0].State == "PAUSED"
	})
	w.call("PUT", "/connectors/file-sink/resume", nil, 202, nil)
	waitFor(t, "resumed", 10*time.Second, func() bool { return w.running("file-sink", 1) })
	w.call("POST", "/connectors/my-connector/restart", nil, 204, nil)
	var plan status
	w.call("POST", "/connectors/my-connector/restart?includeTasks=true&onlyFailed=false", nil, 202, &plan)
	if plan.Connector.State != "RESTARTING" || len(plan.Tasks) != 1 || plan.Tasks[0].State != "RESTARTING" {
		t.Errorf("restart plan %+v", plan)
	}
	w.call("POST", "/connectors/my-connector/restart?includeTasks=true&onlyFailed=true", nil, 202, &plan)
	w.call("POST", "/connectors/my-connector/tasks/0/restart", nil, 204, nil)
	w.callError("POST", "/connectors/my-connector/tasks/5/restart", nil, 404, "")
	waitFor(t, "running after restarts", 20*time.Second, func() bool { return w.running("my-connector", 1) })

	// Validation: a bad enum, a missing required key and a wrong type in one response.
	var infos struct {
		Name       string   `json:"name"`
		ErrorCount int      `json:"error_count"`
		Groups     []string `json:"groups"`
		Configs    []struct {
			Definition map[string]any `json:"definition"`
			Value      struct {
				Name              string   `json:"name"`
				Value             *string  `json:"value"`
				RecommendedValues []string `json:"recommended_values"`
				Errors            []string `json:"errors"`
				Visible           bool     `json:"visible"`
			} `json:"value"`
		} `json:"configs"`
	}
	w.call("PUT", "/connector-plugins/FileStreamSinkConnector/config/validate", map[string]string{
		"connector.class": "FileStreamSink", "name": "v", "errors.tolerance": "sometimes", "tasks.max": "x",
		"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
	}, 200, &infos)
	errs := map[string]string{}
	for _, c := range infos.Configs {
		if len(c.Value.Errors) > 0 {
			errs[c.Value.Name] = strings.Join(c.Value.Errors, "; ")
		}
		for _, k := range []string{"name", "type", "required", "default_value", "importance", "documentation", "group", "width", "display_name", "dependents", "order"} {
			if _, ok := c.Definition[k]; !ok {
				t.Errorf("definition of %s lacks %q", c.Value.Name, k)
			}
		}
	}
	if infos.ErrorCount != 3 || !strings.Contains(errs["errors.tolerance"], "none, all") || errs["tasks.max"] == "" || !strings.Contains(errs["topics"], "topics") {
		t.Errorf("validate: error_count %d, errors %v", infos.ErrorCount, errs)
	}

	// Offsets (KIP-875): only while STOPPED.
	w.callError("PATCH", "/connectors/my-connector/offsets", `{"offsets":[{"partition":{"filename":"x"},"offset":{"position":0}}]}`, 400,
		"Connectors must be in the STOPPED state before their offsets can be modified")
	w.callError("DELETE", "/connectors/my-connector/offsets", nil, 400, "STOPPED state")
	w.call("PUT", "/connectors/my-connector/stop", nil, 204, nil)
	waitFor(t, "stopped", 10*time.Second, func() bool {
		st := w.status("my-connector")
		return st.Connector.State == "STOPPED" && len(st.Tasks) == 0
	})
	var offs struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	w.call("GET", "/connectors/my-connector/offsets", nil, 200, &offs)
	if len(offs.Offsets) != 1 || offs.Offsets[0].Partition["filename"] != in || offs.Offsets[0].Offset["position"] != float64(len(want)) {
		t.Fatalf("source offsets %+v", offs)
	}
	var msg map[string]string
	w.call("PATCH", "/connectors/my-connector/offsets", map[string]any{"offsets": []any{map[string]any{
		"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": len(want)}}}}, 200, &msg)
	if msg["message"] != "The offsets for this connector have been altered successfully" {
		t.Errorf("alter message %v", msg)
	}
	// The sink's consumer offsets are committed at the next offset flush
	// after its records were written (the file shows them at once).
	waitFor(t, "sink offsets committed", 10*time.Second, func() bool {
		w.call("GET", "/connectors/file-sink/offsets", nil, 200, &offs)
		return len(offs.Offsets) == 1 && offs.Offsets[0].Offset["kafka_offset"] == float64(200)
	})
	if len(offs.Offsets) != 1 || offs.Offsets[0].Partition["kafka_topic"] != "connect-test" || offs.Offsets[0].Offset["kafka_offset"] != float64(200) {
		t.Errorf("sink offsets %+v", offs)
	}
	w.call("PUT", "/connectors/my-connector/resume", nil, 202, nil)
	waitFor(t, "resumed after stop", 20*time.Second, func() bool { return w.running("my-connector", 1) })

	// PATCH …/config (KIP-477) and a config update (200).
	w.call("PATCH", "/connectors/my-connector/config", `{"batch.size":"50"}`, 200, &info)
	if info.Config["batch.size"] != "50" || info.Config["file"] != in {
		t.Errorf("patched %+v", info.Config)
	}

	// Metrics parse and move.
	fams := w.metrics()
	before := metric(fams, "kafka_connect_sink_task_sink_record_read_total", "file-sink")
	if metric(fams, "kafka_connect_source_task_source_record_poll_total", "my-connector") < 200 || before < 200 {
		t.Errorf("counters: poll %v read %v", metric(fams, "kafka_connect_source_task_source_record_poll_total", "my-connector"), before)
	}
	more := lines(50, 200)
	appendFile(t, in, more)
	want = append(want, more...)
	waitFor(t, "counters to move", 30*time.Second, func() bool {
		return metric(w.metrics(), "kafka_connect_sink_task_sink_record_read_total", "file-sink") >= before+50
	})

	// Restart replicate: the REST-created connectors run again and carry on.
	w.call("PUT", "/connectors/file-sink/pause", nil, 202, nil)
	w.stop()
	w.start()
	w.call("GET", "/connectors", nil, 200, &names)
	slices.Sort(names)
	if !slices.Equal(names, []string{"file-sink", "my-connector"}) {
		t.Fatalf("connectors after restart: %v", names)
	}
	waitFor(t, "source running after restart", 20*time.Second, func() bool { return w.running("my-connector", 1) })
	if st := w.status("file-sink"); st.Connector.State != "PAUSED" {
		t.Errorf("paused sink came back as %+v", st)
	}
	w.call("PUT", "/connectors/file-sink/resume", nil, 202, nil)
	more = lines(30, 250)
	appendFile(t, in, more)
	want = append(want, more...)
	waitFor(t, "output after restart", 30*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) >= len(want)
	})
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Errorf("output after restart differs from the input (%d vs %d bytes)", len(got), len(want))
	}

	// DELETE (204) is durable too.
	w.call("DELETE", "/connectors/file-sink", nil, 204, nil)
	w.callError("GET", "/connectors/file-sink", nil, 404, "Connector file-sink not found")
	w.stop()
	w.start()
	w.call("GET", "/connectors", nil, 200, &names)
	if !slices.Equal(names, []string{"my-connector"}) {
		t.Errorf("connectors after delete and restart: %v", names)
	}
	w.stop()
}

// TestDeadLetterQueue feeds a sink three values its JsonConverter cannot
// read among good ones: with errors.tolerance=all the good ones are written,
// the bad ones land on the DLQ with Connect's context headers, and the
// offsets pass them; with none the task fails with the reason in its trace
// and the offsets stop before the bad record.
func TestDeadLetterQueue(t *testing.T) {
	w := newWorker(t)
	w.start()
	defer w.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	values := []string{`"a"`, `"b"`, `"c"`, `{"broken`, `"d"`, `not json`, `"e"`, `[1,`, `"f"`}
	for i, v := range values {
		r := &kgo.Record{Topic: "orders", Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(v)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	sinkCfg := func(file, tolerance string) map[string]string {
		return map[string]string{
			"connector.class": "FileStreamSink", "file": file, "topics": "orders",
			"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
			"errors.tolerance": tolerance, "errors.log.enable": "true",
			"errors.deadletterqueue.topic.name": "orders-dlq", "errors.deadletterqueue.topic.replication.factor": "1",
			"errors.deadletterqueue.context.headers.enable": "true",
		}
	}
	sinkOffset := func(name string) (float64, bool) {
		var offs struct {
			Offsets []struct {
				Partition map[string]any `json:"partition"`
				Offset    map[string]any `json:"offset"`
			} `json:"offsets"`
		}
		w.call("GET", "/connectors/"+name+"/offsets", nil, 200, &offs)
		for _, o := range offs.Offsets {
			if o.Partition["kafka_topic"] == "orders" {
				n, _ := o.Offset["kafka_offset"].(float64)
				return n, true
			}
		}
		return 0, false
	}

	outAll := filepath.Join(w.dir, "all.txt")
	w.call("PUT", "/connectors/sink-all/config", sinkCfg(outAll, "all"), 201, nil)
	waitFor(t, "offsets past every record", 30*time.Second, func() bool {
		n, ok := sinkOffset("sink-all")
		return ok && n == float64(len(values))
	})
	if got, _ := os.ReadFile(outAll); string(got) != "a\nb\nc\nd\ne\nf\n" {
		t.Errorf("tolerance=all output %q", got)
	}
	dl, err := kgo.NewClient(kgo.SeedBrokers(w.bootstrap), kgo.ConsumeTopics("orders-dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	var dead []*kgo.Record
	for len(dead) < 3 && ctx.Err() == nil {
		dl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { dead = append(dead, r) })
	}
	if len(dead) != 3 {
		t.Fatalf("%d records on the DLQ, want 3", len(dead))
	}
	for i, idx := range []int{3, 5, 7} {
		r := dead[i]
		h := map[string]string{}
		for _, hd := range r.Headers {
			h[hd.Key] = string(hd.Value)
		}
		if string(r.Value) != values[idx] || string(r.Key) != fmt.Sprintf("k%d", idx) {
			t.Errorf("DLQ record %d: key %q value %q", i, r.Key, r.Value)
		}
		want := map[string]string{
			"__connect.errors.topic": "orders", "__connect.errors.partition": "0", "__connect.errors.offset": fmt.Sprint(idx),
			"__connect.errors.connector.name": "sink-all", "__connect.errors.task.id": "0", "__connect.errors.stage": "VALUE_CONVERTER",
			"__connect.errors.class.name":           "org.apache.kafka.connect.json.JsonConverter",
			"__connect.errors.exception.class.name": "org.apache.kafka.connect.errors.DataException",
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("DLQ record %d: %s = %q, want %q", i, k, h[k], v)
			}
		}
		for _, k := range []string{"__connect.errors.exception.message", "__connect.errors.exception.stacktrace"} {
			if h[k] == "" {
				t.Errorf("DLQ record %d lacks %s", i, k)
			}
		}
	}
	if v := metric(w.metrics(), "kafka_connect_task_error_deadletterqueue_produce_requests", "sink-all"); v != 3 {
		t.Errorf("DLQ metric %v", v)
	}

	outNone := filepath.Join(w.dir, "none.txt")
	w.call("PUT", "/connectors/sink-none/config", sinkCfg(outNone, "none"), 201, nil)
	var st status
	waitFor(t, "task FAILED", 30*time.Second, func() bool {
		st = w.status("sink-none")
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
	})
	if tr := st.Tasks[0].Trace; !strings.Contains(tr, "Tolerance exceeded in error handler") || !strings.Contains(tr, "VALUE_CONVERTER") {
		t.Errorf("trace %q", tr)
	}
	time.Sleep(500 * time.Millisecond)
	if n, ok := sinkOffset("sink-none"); ok && n > 3 {
		t.Errorf("tolerance=none committed offset %v, past the bad record at 3", n)
	}
	// The failed task does not take the worker down.
	if !w.running("sink-all", 1) {
		t.Errorf("other connector affected: %+v", w.status("sink-all"))
	}
	w.call("GET", "/", nil, 200, nil)
}
