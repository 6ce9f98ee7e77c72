package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// ---- an in-memory Herder over test plugins (the real worker is tested in
// runtime's worker_rest tests and against the replicate binary) ----

type testPlugin struct {
	class   string
	aliases []string
	typ     connector.Type
	def     *config.Def
}

func (p *testPlugin) Class() string                         { return p.class }
func (p *testPlugin) Aliases() []string                     { return p.aliases }
func (p *testPlugin) Type() connector.Type                  { return p.typ }
func (p *testPlugin) Version() string                       { return "1.0.0" }
func (p *testPlugin) Config() *config.Def                   { return p.def }
func (p *testPlugin) Validate(*config.Values) config.Errors { return nil }
func (p *testPlugin) NewTask() connector.SourceTask         { return nil }
func (p *testPlugin) TaskConfigs(_ context.Context, cfg map[string]string, max int) ([]map[string]string, error) {
	out := make([]map[string]string, max)
	for i := range out {
		out[i] = maps.Clone(cfg)
	}
	return out, nil
}

func testRegistry() *connector.Registry {
	fileDef := config.NewDef().
		Define(config.Key{Name: "file", Type: config.String, Default: "", Importance: config.High, Doc: "Source filename."}).
		Define(config.Key{Name: "topic", Type: config.String, Default: config.NoDefault, Importance: config.High, Doc: "Topic."}).
		Define(config.Key{Name: "batch.size", Type: config.Int, Default: 2000, Importance: config.Low, Doc: "Batch size."})
	jdbcDef := config.NewDef().
		Define(config.Key{Name: "connection.url", Type: config.String, Default: config.NoDefault, Importance: config.High, Group: "Database"}).
		Define(config.Key{Name: "connection.password", Type: config.Password, Default: nil, Importance: config.High, Group: "Database"}).
		Define(config.Key{Name: "mode", Type: config.String, Default: "", Importance: config.High, Group: "Mode",
			Validator: config.OneOf("", "bulk", "timestamp", "incrementing", "timestamp+incrementing")}).
		Define(config.Key{Name: "batch.max.rows", Type: config.Int, Default: 100, Importance: config.Low, Group: "Connector"})
	return connector.NewRegistry(
		&testPlugin{class: "org.apache.kafka.connect.file.FileStreamSourceConnector", aliases: []string{"FileStreamSource", "FileStreamSourceConnector"}, typ: connector.Source, def: fileDef},
		&testPlugin{class: "io.confluent.connect.jdbc.JdbcSourceConnector", aliases: []string{"JdbcSourceConnector"}, typ: connector.Source, def: jdbcDef},
		&testPlugin{class: "org.apache.kafka.connect.file.FileStreamSinkConnector", aliases: []string{"FileStreamSink"}, typ: connector.Sink, def: config.NewDef()},
	)
}

type memConn struct {
	cfg    map[string]string
	target string
	failed map[int]bool
	tasks  int
}

type memHerder struct {
	reg     *connector.Registry
	mu      sync.Mutex
	conns   map[string]*memConn
	order   []string
	offsets map[string][]Offset
	calls   []string
}

func newMemHerder() *memHerder {
	return &memHerder{reg: testRegistry(), conns: map[string]*memConn{}, offsets: map[string][]Offset{}}
}

func (h *memHerder) record(s string) { h.calls = append(h.calls, s) }

func (h *memHerder) get(name string) (*memConn, error) {
	c, ok := h.conns[name]
	if !ok {
		return nil, fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	return c, nil
}

func (h *memHerder) Connectors(context.Context) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.order), nil
}

func (h *memHerder) ConnectorConfig(_ context.Context, name string) (map[string]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	return maps.Clone(c.cfg), nil
}

func (h *memHerder) TaskConfigs(_ context.Context, name string) ([]map[string]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	if c.target == StateStopped {
		return []map[string]string{}, nil
	}
	out := make([]map[string]string, c.tasks)
	for i := range out {
		out[i] = maps.Clone(c.cfg)
		out[i]["task.id"] = fmt.Sprint(i)
	}
	return out, nil
}

func (h *memHerder) ConnectorStatus(_ context.Context, name string) (ConnectorStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return ConnectorStatus{}, err
	}
	p, _ := h.reg.Lookup(c.cfg["connector.class"])
	st := ConnectorStatus{Name: name, Connector: StateInfo{State: c.target, WorkerID: "host:8083"}, Type: string(p.Type()), Tasks: []TaskState{}}
	if c.target != StateStopped {
		for i := 0; i < c.tasks; i++ {
			ts := TaskState{ID: i, State: c.target, WorkerID: "host:8083"}
			if c.failed[i] {
				ts.State, ts.Trace = StateFailed, "org.apache.kafka.connect.errors.ConnectException: boom"
				if u := c.cfg["connection.url"]; u != "" {
					// as a driver error quoting its connection string
					ts.Trace += ": cannot connect to " + u + " as " + c.cfg["connection.password"]
				}
			}
			st.Tasks = append(st.Tasks, ts)
		}
	}
	return st, nil
}

func (h *memHerder) PutConnectorConfig(_ context.Context, name string, cfg map[string]string, initial string, allowReplace bool) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.record("put " + name + " " + initial)
	c, exists := h.conns[name]
	if exists && !allowReplace {
		return false, fmt.Errorf("connector %s: %w", name, ErrExists)
	}
	if cfg["test.fail.put"] == "true" {
		return false, fmt.Errorf("writing config of %s to %s failed", name, cfg["connection.url"])
	}
	n := 1
	fmt.Sscan(cfg["tasks.max"], &n)
	if !exists {
		c = &memConn{target: initial, failed: map[int]bool{}}
		h.conns[name] = c
		h.order = append(h.order, name)
	}
	c.cfg, c.tasks = maps.Clone(cfg), n
	return !exists, nil
}

func (h *memHerder) DeleteConnector(_ context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.get(name); err != nil {
		return err
	}
	delete(h.conns, name)
	h.order = slices.DeleteFunc(h.order, func(s string) bool { return s == name })
	return nil
}

func (h *memHerder) setTarget(name, target string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return err
	}
	c.target = target
	return nil
}

func (h *memHerder) PauseConnector(_ context.Context, name string) error {
	return h.setTarget(name, StatePaused)
}
func (h *memHerder) ResumeConnector(_ context.Context, name string) error {
	return h.setTarget(name, StateRunning)
}
func (h *memHerder) StopConnector(_ context.Context, name string) error {
	return h.setTarget(name, StateStopped)
}

func (h *memHerder) RestartConnector(_ context.Context, name string, includeTasks, onlyFailed bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return err
	}
	h.record(fmt.Sprintf("restart %s %v %v", name, includeTasks, onlyFailed))
	if includeTasks {
		clear(c.failed)
	}
	return nil
}

func (h *memHerder) RestartTask(_ context.Context, name string, task int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return err
	}
	if task >= c.tasks {
		return ErrTaskNotFound
	}
	delete(c.failed, task)
	return nil
}

func (h *memHerder) Offsets(_ context.Context, name string) ([]Offset, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.get(name); err != nil {
		return nil, err
	}
	return slices.Clone(h.offsets[name]), nil
}

func (h *memHerder) AlterOffsets(_ context.Context, name string, offs []Offset) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.offsets[name] = append(h.offsets[name], offs...)
	return nil
}

func (h *memHerder) ResetOffsets(_ context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.offsets, name)
	return nil
}

func commonDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "name", Type: config.String, Default: config.NoDefault, Importance: config.High, Group: "Common", Validator: config.NonEmpty}).
		Define(config.Key{Name: "connector.class", Type: config.String, Default: config.NoDefault, Importance: config.High, Group: "Common"}).
		Define(config.Key{Name: "tasks.max", Type: config.Int, Default: 1, Importance: config.High, Group: "Common", Validator: config.AtLeast(1)}).
		Define(config.Key{Name: "key.converter", Type: config.Class, Default: "", Group: "Common"}).
		Define(config.Key{Name: "value.converter", Type: config.Class, Default: "", Group: "Common"})
}

func (h *memHerder) ConfigDef(_ context.Context, class string) (*config.Def, string, error) {
	p, err := h.reg.Lookup(class)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrPluginNotFound, err)
	}
	return commonDef().Merge(p.Config()), string(p.Type()), nil
}

func (h *memHerder) Validate(ctx context.Context, cfg map[string]string) (config.Errors, error) {
	def, _, err := h.ConfigDef(ctx, cfg["connector.class"])
	if err != nil {
		return nil, err
	}
	_, perr := def.Parse(cfg)
	errs, _ := perr.(config.Errors)
	if u, ok := cfg["connection.url"]; ok {
		// as a connector that wraps url.Parse's error, which quotes the URL
		if _, err := url.Parse(strings.TrimPrefix(u, "jdbc:")); err != nil {
			errs = append(errs, config.KeyError{Key: "connection.url", Message: "connection.url: " + err.Error()})
		}
	}
	known := []string{"", "org.apache.kafka.connect.json.JsonConverter", "org.apache.kafka.connect.storage.StringConverter", "org.apache.kafka.connect.converters.ByteArrayConverter"}
	for _, k := range []string{"key.converter", "value.converter"} {
		if v, ok := cfg[k]; ok && !slices.Contains(known, v) {
			errs = append(errs, config.KeyError{Key: k, Message: fmt.Sprintf("Invalid value %s for configuration %s: Class %s could not be found.", v, k, v)})
		}
	}
	return errs, nil
}

// ---- helpers ----

type api struct {
	t   *testing.T
	url string
}

func (a api) do(method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, a.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if len(out) > 0 && resp.Header.Get("Content-Type") != "application/json" && !strings.HasPrefix(path, "/metrics") {
		a.t.Errorf("%s %s: content type %q", method, path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

// expect calls the API and checks the status code; it decodes the body into out.
func (a api) expect(method, path string, body any, code int, out any) []byte {
	a.t.Helper()
	got, b := a.do(method, path, body)
	if got != code {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return b
}

func (a api) expectError(method, path string, body any, code int, msg string) {
	a.t.Helper()
	var e map[string]any
	a.expect(method, path, body, code, &e)
	if len(e) != 2 || e["error_code"] != float64(code) {
		a.t.Errorf("%s %s: error body %v", method, path, e)
	}
	if m, _ := e["message"].(string); !strings.Contains(m, msg) {
		a.t.Errorf("%s %s: message %q does not contain %q", method, path, m, msg)
	}
}

func newTestServer(t *testing.T) (api, *memHerder) {
	h := newMemHerder()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "up 1")
	})
	h.reg.Register(jsonconv.Plugin())
	s := New(Options{Herder: h, Registry: h.reg, Metrics: metrics, Commit: "abc",
		ClusterID: func(context.Context) (string, error) { return "cluster-1", nil }})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return api{t: t, url: ts.URL}, h
}

// ---- tests ----

func TestRootAndHealth(t *testing.T) {
	a, _ := newTestServer(t)
	var info map[string]string
	a.expect("GET", "/", nil, 200, &info)
	if info["version"] != DefaultVersion || info["commit"] != "abc" || info["kafka_cluster_id"] != "cluster-1" || len(info) != 3 {
		t.Errorf("root %v", info)
	}
	var health map[string]string
	a.expect("GET", "/health", nil, 200, &health)
	if health["status"] != "healthy" {
		t.Errorf("health %v", health)
	}
	a.expectError("GET", "/nope", nil, 404, "HTTP 404 Not Found")
	a.expectError("DELETE", "/connectors", nil, 405, "HTTP 405 Method Not Allowed")
	if code, b := a.do("GET", "/metrics", nil); code != 200 || !strings.Contains(string(b), "up 1") {
		t.Errorf("metrics %d %s", code, b)
	}
}

func TestConnectorLifecycle(t *testing.T) {
	a, h := newTestServer(t)
	seed := `{"name":"my-connector","config":{"connector.class":"FileStreamSource","file":"/tmp/in.txt","topic":"lines"}}`
	var info ConnectorInfo
	a.expect("POST", "/connectors", seed, 201, &info)
	if info.Name != "my-connector" || info.Type != "source" || info.Config["file"] != "/tmp/in.txt" || info.Config["name"] != "my-connector" ||
		len(info.Tasks) != 1 || info.Tasks[0] != (TaskID{"my-connector", 0}) {
		t.Errorf("created %+v", info)
	}
	a.expectError("POST", "/connectors", seed, 409, "Connector my-connector already exists")

	var names []string
	a.expect("GET", "/connectors", nil, 200, &names)
	if !slices.Equal(names, []string{"my-connector"}) {
		t.Errorf("names %v", names)
	}
	var expanded map[string]struct {
		Status *ConnectorStatus `json:"status"`
		Info   *ConnectorInfo   `json:"info"`
	}
	a.expect("GET", "/connectors?expand=status&expand=info", nil, 200, &expanded)
	if e := expanded["my-connector"]; e.Status == nil || e.Info == nil || e.Status.Connector.State != "RUNNING" || e.Info.Type != "source" {
		t.Errorf("expanded %+v", expanded)
	}
	a.expect("GET", "/connectors/my-connector", nil, 200, &info)
	var cfg map[string]string
	a.expect("GET", "/connectors/my-connector/config", nil, 200, &cfg)
	if cfg["topic"] != "lines" || cfg["connector.class"] != "FileStreamSource" {
		t.Errorf("config %v", cfg)
	}
	a.expectError("GET", "/connectors/nope", nil, 404, "Connector nope not found")
	// Connect 4.4's wording for a missing status (integration/reference's
	// TestRESTAgainstConnect compares it with a real worker's).
	a.expectError("GET", "/connectors/nope/status", nil, 404, "No status found for connector nope")
	a.expectError("PUT", "/connectors/nope/pause", nil, 404, "Unknown connector nope") // Connect 4.4's wording
	a.expectError("DELETE", "/connectors/nope", nil, 404, "Connector nope not found")

	// PUT config: update (200), then create (201); numbers become strings.
	a.expect("PUT", "/connectors/my-connector/config", `{"connector.class":"FileStreamSource","file":"/tmp/in.txt","topic":"lines2","tasks.max":2}`, 200, &info)
	if info.Config["topic"] != "lines2" || info.Config["tasks.max"] != "2" || len(info.Tasks) != 2 {
		t.Errorf("updated %+v", info)
	}
	info = ConnectorInfo{}
	a.expect("PUT", "/connectors/second/config", map[string]string{"connector.class": "FileStreamSink", "topics": "lines"}, 201, &info)
	if info.Type != "sink" || info.Name != "second" {
		t.Errorf("put-created %+v", info)
	}
	a.expectError("PUT", "/connectors/second/config", map[string]string{"name": "other", "connector.class": "FileStreamSink"}, 400,
		"Connector name configuration (other) doesn't match connector name in the URL (second)")
	// PATCH: null removes, others merge.
	info = ConnectorInfo{}
	a.expect("PATCH", "/connectors/my-connector/config", `{"tasks.max":null,"batch.size":"10"}`, 200, &info)
	if _, ok := info.Config["tasks.max"]; ok || info.Config["batch.size"] != "10" || info.Config["topic"] != "lines2" {
		t.Errorf("patched %+v", info.Config)
	}
	a.expectError("PATCH", "/connectors/nope/config", `{"a":"b"}`, 404, "Connector nope not found")

	var st ConnectorStatus
	a.expect("GET", "/connectors/my-connector/status", nil, 200, &st)
	if st.Name != "my-connector" || st.Connector.State != "RUNNING" || st.Connector.WorkerID == "" || st.Type != "source" || len(st.Tasks) != 1 {
		t.Errorf("status %+v", st)
	}
	var raw map[string]any
	a.expect("GET", "/connectors/my-connector/status", nil, 200, &raw)
	if _, ok := raw["connector"].(map[string]any)["trace"]; ok {
		t.Errorf("trace present on a running connector: %v", raw)
	}
	var tasks []TaskInfo
	a.expect("GET", "/connectors/my-connector/tasks", nil, 200, &tasks)
	if len(tasks) != 1 || tasks[0].ID != (TaskID{"my-connector", 0}) || tasks[0].Config["task.id"] != "0" {
		t.Errorf("tasks %+v", tasks)
	}
	var ts TaskState
	a.expect("GET", "/connectors/my-connector/tasks/0/status", nil, 200, &ts)
	if ts.ID != 0 || ts.State != "RUNNING" {
		t.Errorf("task status %+v", ts)
	}
	a.expectError("GET", "/connectors/my-connector/tasks/7/status", nil, 404, "")
	a.expect("POST", "/connectors/my-connector/tasks/0/restart", nil, 204, nil)
	a.expectError("POST", "/connectors/my-connector/tasks/9/restart", nil, 404, "")

	// Pause, resume, stop.
	a.expect("PUT", "/connectors/my-connector/pause", nil, 202, nil)
	a.expect("GET", "/connectors/my-connector/status", nil, 200, &st)
	if st.Connector.State != "PAUSED" {
		t.Errorf("after pause %+v", st)
	}
	a.expect("PUT", "/connectors/my-connector/resume", nil, 202, nil)
	a.expect("PUT", "/connectors/my-connector/stop", nil, 204, nil)
	a.expect("GET", "/connectors/my-connector/status", nil, 200, &st)
	if st.Connector.State != "STOPPED" || len(st.Tasks) != 0 {
		t.Errorf("after stop %+v", st)
	}
	a.expect("DELETE", "/connectors/second", nil, 204, nil)
	a.expectError("GET", "/connectors/second", nil, 404, "Connector second not found")

	// Topics (KIP-558).
	var topics map[string]map[string][]string
	a.expect("GET", "/connectors/my-connector/topics", nil, 200, &topics)
	if topics["my-connector"]["topics"] == nil {
		t.Errorf("topics %v", topics)
	}
	a.expect("PUT", "/connectors/my-connector/topics/reset", nil, 202, nil)
	_ = h
}

func TestInitialState(t *testing.T) {
	a, h := newTestServer(t)
	a.expect("POST", "/connectors", `{"name":"s","config":{"connector.class":"FileStreamSource","topic":"t"},"initial_state":"stopped"}`, 201, nil)
	if !slices.Contains(h.calls, "put s STOPPED") {
		t.Errorf("calls %v", h.calls)
	}
	a.expectError("POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSource","topic":"t"},"initial_state":"SLEEPING"}`, 400, "Invalid initial state")
}

func TestCreateBadRequests(t *testing.T) {
	a, _ := newTestServer(t)
	a.expectError("POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSource","batch.size":"many"}}`, 400,
		"Connector configuration is invalid and contains the following 2 error(s):")
	a.expectError("POST", "/connectors", `{"name":"x","config":{"connector.class":"com.example.Nope"}}`, 400, "com.example.Nope")
	a.expectError("POST", "/connectors", `{"name":"x","config":{"topic":"t"}}`, 400, "connector.class")
	a.expectError("POST", "/connectors", `{"name":"x"`, 400, "Invalid JSON")
	a.expectError("POST", "/connectors", `{"config":{"connector.class":"FileStreamSource","topic":"t"}}`, 400, "name")
	a.expectError("POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSource","topic":["a"]}}`, 400, "must be a string")
	a.expectError("POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSource","topic":"t","name":"y"}}`, 400, "doesn't match")
}

func TestRestart(t *testing.T) {
	a, h := newTestServer(t)
	a.expect("POST", "/connectors", `{"name":"c","config":{"connector.class":"FileStreamSource","topic":"t","tasks.max":"3"}}`, 201, nil)
	h.conns["c"].failed[1] = true

	a.expect("POST", "/connectors/c/restart", nil, 204, nil)
	var st ConnectorStatus
	a.expect("POST", "/connectors/c/restart?includeTasks=true&onlyFailed=true", nil, 202, &st)
	if st.Connector.State != "RUNNING" || st.Tasks[0].State != "RUNNING" || st.Tasks[1].State != "RESTARTING" || st.Tasks[1].Trace != "" {
		t.Errorf("restart plan %+v", st)
	}
	a.expect("POST", "/connectors/c/restart?includeTasks=true", nil, 202, &st)
	if st.Connector.State != "RESTARTING" || st.Tasks[0].State != "RESTARTING" || st.Tasks[2].State != "RESTARTING" {
		t.Errorf("restart all plan %+v", st)
	}
	if !slices.Contains(h.calls, "restart c false false") || !slices.Contains(h.calls, "restart c true true") {
		t.Errorf("calls %v", h.calls)
	}
	a.expectError("POST", "/connectors/c/restart?includeTasks=maybe", nil, 400, "includeTasks")
	a.expectError("POST", "/connectors/nope/restart", nil, 404, "Connector nope not found")
}

func TestOffsetsAPI(t *testing.T) {
	a, _ := newTestServer(t)
	a.expect("POST", "/connectors", `{"name":"src","config":{"connector.class":"FileStreamSource","topic":"t"}}`, 201, nil)
	a.expect("POST", "/connectors", `{"name":"snk","config":{"connector.class":"FileStreamSink","topics":"t"}}`, 201, nil)
	var offs Offsets
	a.expect("GET", "/connectors/src/offsets", nil, 200, &offs)
	if offs.Offsets == nil || len(offs.Offsets) != 0 {
		t.Errorf("offsets %+v", offs)
	}
	body := `{"offsets":[{"partition":{"filename":"/tmp/in.txt"},"offset":{"position":42}}]}`
	a.expectError("PATCH", "/connectors/src/offsets", body, 400,
		"Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint")
	a.expectError("DELETE", "/connectors/src/offsets", nil, 400, "STOPPED state")
	a.expectError("PATCH", "/connectors/nope/offsets", body, 404, "Connector nope not found")
	a.expect("PUT", "/connectors/src/stop", nil, 204, nil)
	var msg Message
	a.expect("PATCH", "/connectors/src/offsets", body, 200, &msg)
	if msg.Message != "The offsets for this connector have been altered successfully" {
		t.Errorf("alter message %q", msg.Message)
	}
	a.expect("GET", "/connectors/src/offsets", nil, 200, &offs)
	if len(offs.Offsets) != 1 || offs.Offsets[0].Offset["position"] != float64(42) {
		t.Errorf("offsets after alter %+v", offs)
	}
	a.expectError("PATCH", "/connectors/src/offsets", `{"offsets":[]}`, 400, "Partitions / offsets need to be provided")
	a.expect("DELETE", "/connectors/src/offsets", nil, 200, &msg)
	if msg.Message != "The offsets for this connector have been reset successfully" {
		t.Errorf("reset message %q", msg.Message)
	}
	a.expect("PUT", "/connectors/snk/stop", nil, 204, nil)
	a.expectError("PATCH", "/connectors/snk/offsets", `{"offsets":[{"partition":{"kafka_topic":"t"},"offset":{"kafka_offset":5}}]}`, 400, "kafka_partition")
	a.expect("PATCH", "/connectors/snk/offsets", `{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":5}},{"partition":{"kafka_topic":"t","kafka_partition":1},"offset":null}]}`, 200, &msg)
}

func TestPlugins(t *testing.T) {
	a, _ := newTestServer(t)
	var plugins []PluginInfo
	a.expect("GET", "/connector-plugins", nil, 200, &plugins)
	if len(plugins) != 3 || plugins[0].Class != "io.confluent.connect.jdbc.JdbcSourceConnector" || plugins[0].Type != "source" || plugins[0].Version == "" {
		t.Errorf("plugins %+v", plugins)
	}
	a.expect("GET", "/connector-plugins?connectorsOnly=false", nil, 200, &plugins)
	if len(plugins) != 4 || plugins[3].Type != "converter" {
		t.Errorf("all plugins %+v", plugins)
	}
	var keys []map[string]any
	a.expect("GET", "/connector-plugins/JdbcSourceConnector/config", nil, 200, &keys)
	found := false
	for _, k := range keys {
		if k["name"] == "connection.url" && k["required"] == true && k["type"] == "STRING" {
			found = true
		}
	}
	if !found {
		t.Errorf("plugin config %v", keys)
	}
	a.expectError("GET", "/connector-plugins/Nope/config", nil, 404, "Nope")
}

func TestValidateReportsEveryError(t *testing.T) {
	a, _ := newTestServer(t)
	// A bad enum, a missing required key and a wrong type in one request.
	body := map[string]string{
		"connector.class":     "io.confluent.connect.jdbc.JdbcSourceConnector",
		"name":                "jdbc",
		"mode":                "sideways",
		"batch.max.rows":      "lots",
		"connection.password": "secret",
		"key.converter":       "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":     "org.apache.kafka.connect.storage.StringConverter",
		"some.unknown.key":    "kept",
	}
	var infos config.ConfigInfos
	raw := a.expect("PUT", "/connector-plugins/JdbcSourceConnector/config/validate", body, 200, &infos)
	if infos.Name != "io.confluent.connect.jdbc.JdbcSourceConnector" || infos.ErrorCount != 3 {
		t.Fatalf("validate: name %q error_count %d: %s", infos.Name, infos.ErrorCount, raw)
	}
	errs := map[string][]string{}
	for _, c := range infos.Configs {
		if len(c.Value.Errors) > 0 {
			errs[c.Value.Name] = c.Value.Errors
		}
		if c.Value.Name == "connection.password" && (c.Value.Value == nil || *c.Value.Value != "[hidden]") {
			t.Errorf("password shown in validation: %v", c.Value.Value)
		}
	}
	if !strings.Contains(strings.Join(errs["mode"], ""), "String must be one of") ||
		!strings.Contains(strings.Join(errs["connection.url"], ""), "Missing required configuration \"connection.url\"") ||
		!strings.Contains(strings.Join(errs["batch.max.rows"], ""), "INT") {
		t.Errorf("errors %v", errs)
	}
	if strings.Contains(string(raw), "secret") {
		t.Errorf("secret in validation response")
	}
	for _, g := range []string{"Common", "Database", "Mode"} {
		if !slices.Contains(infos.Groups, g) {
			t.Errorf("groups %v lack %s", infos.Groups, g)
		}
	}
	// connector.class is filled from the path; a mismatch is a 400.
	a.expect("PUT", "/connector-plugins/FileStreamSource/config/validate", `{"topic":"t","name":"f"}`, 200, &infos)
	if infos.ErrorCount != 0 {
		t.Errorf("valid config has %d errors", infos.ErrorCount)
	}
	a.expectError("PUT", "/connector-plugins/FileStreamSource/config/validate", `{"connector.class":"JdbcSourceConnector"}`, 400, "does not match request type")
	a.expectError("PUT", "/connector-plugins/Nope/config/validate", `{}`, 400, "Nope")
	// A bad converter class is reported on its key.
	a.expect("PUT", "/connector-plugins/FileStreamSource/config/validate", `{"topic":"t","name":"f","value.converter":"com.example.Conv"}`, 200, &infos)
	if infos.ErrorCount != 1 {
		t.Errorf("bad converter: %d errors", infos.ErrorCount)
	}
	// Topic creation keys of a source connector are validated.
	a.expect("PUT", "/connector-plugins/FileStreamSource/config/validate", `{"topic":"t","name":"f","topic.creation.default.partitions":"0"}`, 200, &infos)
	if infos.ErrorCount != 2 {
		t.Errorf("topic creation: %d errors", infos.ErrorCount)
	}
}

func TestPasswordsHidden(t *testing.T) {
	a, h := newTestServer(t)
	cfg := map[string]string{"connector.class": "JdbcSourceConnector", "connection.url": "jdbc:mysql://db/x", "connection.password": "s3cret",
		"producer.override.sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"x\";",
		"mode":                               "bulk"}
	var info ConnectorInfo
	b := a.expect("PUT", "/connectors/jdbc/config", cfg, 201, &info)
	for _, path := range []string{"/connectors/jdbc", "/connectors/jdbc/config", "/connectors/jdbc/tasks", "/connectors?expand=info"} {
		_, body := a.do("GET", path, nil)
		b = append(b, body...)
	}
	if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "PlainLoginModule") || !strings.Contains(string(b), `"connection.password":"[hidden]"`) {
		t.Errorf("secret leaked or not hidden: %s", b)
	}
	// Sending the config back as read keeps the stored secret.
	var got map[string]string
	a.expect("GET", "/connectors/jdbc/config", nil, 200, &got)
	got["mode"] = "incrementing"
	a.expect("PUT", "/connectors/jdbc/config", got, 200, nil)
	if s := h.conns["jdbc"].cfg["connection.password"]; s != "s3cret" {
		t.Errorf("stored password became %q", s)
	}
	// A provider reference is not a secret and is shown as written.
	got["connection.password"] = "${env:DB_PASSWORD}"
	a.expect("PUT", "/connectors/jdbc/config", got, 200, &info)
	if info.Config["connection.password"] != "${env:DB_PASSWORD}" {
		t.Errorf("reference not shown: %v", info.Config["connection.password"])
	}
}

func TestLoggers(t *testing.T) {
	a, _ := newTestServer(t)
	var ls map[string]map[string]any
	a.expect("GET", "/admin/loggers", nil, 200, &ls)
	if ls["root"]["level"] != "INFO" {
		t.Errorf("loggers %v", ls)
	}
	var changed []string
	a.expect("PUT", "/admin/loggers/io.debezium", `{"level":"DEBUG"}`, 200, &changed)
	var l map[string]any
	a.expect("GET", "/admin/loggers/io.debezium", nil, 200, &l)
	if l["level"] != "DEBUG" {
		t.Errorf("logger %v", l)
	}
	a.expectError("PUT", "/admin/loggers/root", `{"level":"LOUD"}`, 400, "Invalid log level")
}

// TestCurlSeedRequest sends the seed request with the real curl binary.
func TestCurlSeedRequest(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not installed (scripts/install-deps.sh installs it)")
	}
	a, _ := newTestServer(t)
	out, err := exec.Command(curl, "-sS", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
		"--data", `{"name":"my-connector","config":{"connector.class":"FileStreamSource","file":"/tmp/test.txt","topic":"connect-test"}}`,
		a.url+"/connectors").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if lines[len(lines)-1] != "201" {
		t.Fatalf("curl status: %s", out)
	}
	var info ConnectorInfo
	if err := json.Unmarshal([]byte(lines[0]), &info); err != nil || info.Name != "my-connector" || info.Type != "source" {
		t.Fatalf("curl body %s: %v", lines[0], err)
	}
}

func TestListenerAddrs(t *testing.T) {
	cases := []struct {
		cfg  map[string]string
		want string
	}{
		{map[string]string{}, ":8083"},
		{map[string]string{"rest.port": "18083"}, ":18083"},
		{map[string]string{"rest.port": "18083", "rest.host.name": "127.0.0.1"}, "127.0.0.1:18083"},
		{map[string]string{"listeners": "http://0.0.0.0:9000", "rest.port": "1"}, "0.0.0.0:9000"},
		{map[string]string{"listeners": "HTTP://:9001"}, ":9001"},
		{map[string]string{"listeners": "http://[::1]:9002"}, "[::1]:9002"},
	}
	for _, c := range cases {
		s, err := ParseSecurity(c.cfg, nil)
		if err != nil || len(s.Listeners) != 1 || s.Listeners[0].Addr != c.want || s.Listeners[0].Scheme != "http" {
			t.Errorf("ParseSecurity(%v) = %+v, %v; want %q", c.cfg, s, err, c.want)
		}
	}
	if _, err := ParseSecurity(map[string]string{"rest.port": "x"}, nil); err == nil {
		t.Error("bad port accepted")
	}
}

var _ = schema.Record{}

// TestWritesRequireJSON: a cross-origin "simple" request (text/plain or a
// form, which a browser sends without a CORS preflight) cannot create,
// change or validate connectors; Connect's Jersey resources answer 415.
func TestWritesRequireJSON(t *testing.T) {
	a, h := newTestServer(t)
	seed := `{"name":"csrf","config":{"connector.class":"FileStreamSource","file":"/tmp/in.txt","topic":"lines"}}`
	send := func(method, path, ctype, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	for _, c := range []struct{ method, path, ctype, body string }{
		{"POST", "/connectors", "text/plain", seed},
		{"POST", "/connectors", "text/plain;charset=UTF-8", seed},
		{"POST", "/connectors", "application/x-www-form-urlencoded", seed},
		{"POST", "/connectors", "multipart/form-data; boundary=x", seed},
		{"PUT", "/connectors/csrf/config", "text/plain", `{"connector.class":"FileStreamSource","file":"/tmp/in.txt","topic":"lines"}`},
		{"PUT", "/connector-plugins/FileStreamSource/config/validate", "text/plain", `{"connector.class":"FileStreamSource"}`},
	} {
		code, e := send(c.method, c.path, c.ctype, c.body)
		if code != http.StatusUnsupportedMediaType || e["error_code"] != float64(415) || e["message"] != "HTTP 415 Unsupported Media Type" {
			t.Errorf("%s %s as %s: %d %v, want 415", c.method, c.path, c.ctype, code, e)
		}
	}
	if names, _ := h.Connectors(context.Background()); len(names) != 0 {
		t.Fatalf("a refused request created connectors: %v", names)
	}
	if code, _ := send("POST", "/connectors", "application/json; charset=utf-8", seed); code != http.StatusCreated {
		t.Fatalf("application/json with charset: %d, want 201", code)
	}
	if code, _ := send("PUT", "/connectors/csrf/pause", "", ""); code != http.StatusAccepted {
		t.Fatalf("pause without a body or Content-Type: %d, want 202", code)
	}
}

func TestWarnIfExposed(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	open := &Security{}
	ln := func(ip net.IP) []*Listener {
		return []*Listener{{Listener: fakeListener{&net.TCPAddr{IP: ip, Port: 8083}}, Scheme: "http"}}
	}
	open.WarnIfExposed(log, ln(net.IPv4(127, 0, 0, 1)))
	open.WarnIfExposed(log, ln(net.IPv6loopback))
	if buf.Len() != 0 {
		t.Fatalf("loopback warned: %s", buf.String())
	}
	open.WarnIfExposed(log, ln(net.IPv4zero))
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "without authentication") {
		t.Fatalf("0.0.0.0 not warned: %q", buf.String())
	}
	buf.Reset()
	(&Security{Auth: &BasicAuth{}}).WarnIfExposed(log, ln(net.IPv4zero))
	if strings.Contains(buf.String(), "without authentication") || !strings.Contains(buf.String(), "plain http") {
		t.Fatalf("basic auth over http: %q", buf.String())
	}
}

type fakeListener struct{ addr net.Addr }

func (f fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (f fakeListener) Close() error              { return nil }
func (f fakeListener) Addr() net.Addr            { return f.addr }
