package runtime_test

// Tests of the REST API, DLQ, metrics, config providers and topic creation
// against a real Worker (embedded broker, FileStream connectors, the real
// JsonConverter of the default converter factory).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/filestream"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/configstore"
	"github.com/tributary-cdc/tributary/runtime/dlq"
	"github.com/tributary-cdc/tributary/runtime/metrics"
	"github.com/tributary-cdc/tributary/runtime/rest"
	"github.com/tributary-cdc/tributary/schema"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type restEnv struct {
	w      *runtime.Worker
	obs    *runtime.MetricsObserver
	herder *runtime.RESTHerder
	url    string
	closed bool
	close  func()
}

// startRESTWorker starts a worker in dir with the REST API, metrics, the
// DLQ reporters and a config store; Restore starts stored connectors.
func startRESTWorker(t *testing.T, dir string, extra map[string]string, opt ...func(*runtime.Options)) *restEnv {
	t.Helper()
	raw, wc := testWorkerConfig(t, dir, extra)
	obs := runtime.NewMetricsObserver(metrics.New())
	reg := connector.NewRegistry(filestream.Source{}, filestream.Sink{})
	wopts := runtime.Options{Registry: reg, Logger: testLogger(t), WorkerID: "test:8083",
		Observer: obs, Errors: runtime.DLQErrorReporters(obs)}
	for _, o := range opt {
		o(&wopts)
	}
	w, err := runtime.NewWorker(context.Background(), wc, wopts)
	if err != nil {
		t.Fatal(err)
	}
	store, err := configstore.OpenFile(configstore.PathFor(raw, dir))
	if err != nil {
		t.Fatal(err)
	}
	h := runtime.NewRESTHerder(w, store)
	h.OnDelete = obs.Forget
	obs.Watch(w)
	opts := h.RESTOptions()
	opts.Metrics = obs.Registry().Handler()
	ts := httptest.NewServer(rest.New(opts))
	env := &restEnv{w: w, obs: obs, herder: h, url: ts.URL}
	env.close = func() {
		if env.closed {
			return
		}
		env.closed = true
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		w.Close(ctx)
		store.Close()
	}
	t.Cleanup(env.close)
	if err := h.Restore(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	return env
}

func (e *restEnv) call(t *testing.T, method, path string, body any, want int, out any) []byte {
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
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

func (e *restEnv) status(t *testing.T, name string) rest.ConnectorStatus {
	t.Helper()
	var st rest.ConnectorStatus
	e.call(t, "GET", "/connectors/"+name+"/status", nil, 200, &st)
	return st
}

func (e *restEnv) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	e.obs.Registry().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

func metricValue(fams map[string]*dto.MetricFamily, name, conn string) float64 {
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

// envProvider enables Kafka's EnvVarConfigProvider as "env" (no provider is
// on unless config.providers names it).
var envProvider = map[string]string{"config.providers": "env",
	"config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider"}

func TestRESTWorkerLifecycleAndRestore(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	want := writeLines(t, in, 0, 500)
	t.Setenv("TRIBUTARY_REST_TEST_IN", in)
	e := startRESTWorker(t, dir, envProvider)

	// The seed request, with the input file named through a config provider.
	var info rest.ConnectorInfo
	e.call(t, "POST", "/connectors", `{"name":"my-connector","config":{"connector.class":"FileStreamSource","file":"${env:TRIBUTARY_REST_TEST_IN}","topic":"lines",
		"topic.creation.default.partitions":"3","topic.creation.default.replication.factor":"1"}}`, 201, &info)
	if info.Type != "source" || info.Config["file"] != "${env:TRIBUTARY_REST_TEST_IN}" || len(info.Tasks) != 1 {
		t.Fatalf("created %+v", info)
	}
	// The sink starts once the source wrote (its consumer must not create
	// the topic first).
	waitFor(t, "source offsets", 30*time.Second, func() bool {
		var offs rest.Offsets
		e.call(t, "GET", "/connectors/my-connector/offsets", nil, 200, &offs)
		return len(offs.Offsets) == 1
	})
	e.call(t, "POST", "/connectors", map[string]any{"name": "sink", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "lines", "consumer.override.ssl.key.password": "s3cret"}}, 201, nil)
	e.call(t, "POST", "/connectors", `{"name":"sink","config":{"connector.class":"FileStreamSink","file":"x","topics":"lines"}}`, 409, nil)
	waitFor(t, "output", 30*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) >= len(want)
	})
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatalf("output differs")
	}
	// Task configs keep the reference, not the resolved path.
	var tasks []rest.TaskInfo
	b := e.call(t, "GET", "/connectors/my-connector/tasks", nil, 200, &tasks)
	if len(tasks) != 1 || strings.Contains(string(b), in) || tasks[0].Config["file"] != "${env:TRIBUTARY_REST_TEST_IN}" {
		t.Errorf("task configs %s", b)
	}
	if b := e.call(t, "GET", "/connectors/sink/config", nil, 200, nil); strings.Contains(string(b), "s3cret") {
		t.Errorf("secret shown: %s", b)
	}
	// KIP-158: the topic was created with the default group's settings.
	cl, err := e.w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(context.Background(), "lines")
	if err != nil || len(td["lines"].Partitions) != 3 {
		t.Errorf("topic lines: %+v %v", td["lines"], err)
	}

	// Metrics parse and move.
	fams := e.scrape(t)
	if v := metricValue(fams, "kafka_connect_source_task_source_record_poll_total", "my-connector"); v != 500 {
		t.Errorf("poll total %v", v)
	}
	if v := metricValue(fams, "kafka_connect_sink_task_sink_record_read_total", "sink"); v < 500 {
		t.Errorf("sink read total %v", v)
	}
	if v := metricValue(fams, "kafka_connect_connector_status", "sink"); v != 1 {
		t.Errorf("status series %v", v)
	}
	want = append(want, writeLines(t, in, 500, 600)...)
	waitFor(t, "counters to move", 30*time.Second, func() bool {
		return metricValue(e.scrape(t), "kafka_connect_sink_task_sink_record_send_total", "sink") >= 600
	})

	// Stop, read and alter offsets (KIP-875), resume.
	e.call(t, "PATCH", "/connectors/my-connector/offsets", `{"offsets":[{"partition":{"filename":"x"},"offset":{"position":0}}]}`, 400, nil)
	e.call(t, "PUT", "/connectors/my-connector/stop", nil, 204, nil)
	if st := e.status(t, "my-connector"); st.Connector.State != "STOPPED" || len(st.Tasks) != 0 {
		t.Fatalf("stopped status %+v", st)
	}
	var offs rest.Offsets
	e.call(t, "GET", "/connectors/my-connector/offsets", nil, 200, &offs)
	if len(offs.Offsets) != 1 || offs.Offsets[0].Offset["position"] != float64(len(want)) {
		t.Fatalf("offsets %+v (want position %d)", offs, len(want))
	}
	part := offs.Offsets[0].Partition
	var msg rest.Message
	e.call(t, "PATCH", "/connectors/my-connector/offsets", map[string]any{"offsets": []any{map[string]any{"partition": part, "offset": map[string]any{"position": 7}}}}, 200, &msg)
	e.call(t, "GET", "/connectors/my-connector/offsets", nil, 200, &offs)
	if offs.Offsets[0].Offset["position"] != float64(7) {
		t.Fatalf("altered offsets %+v", offs)
	}
	e.call(t, "PUT", "/connectors/sink/pause", nil, 202, nil)
	if st := e.status(t, "sink"); st.Connector.State != "PAUSED" || st.Tasks[0].State != "PAUSED" {
		t.Fatalf("paused status %+v", st)
	}

	// A restart of the worker brings both REST-created connectors back,
	// with their target states.
	e.close()
	e2 := startRESTWorker(t, dir, envProvider)
	var names []string
	e2.call(t, "GET", "/connectors", nil, 200, &names)
	if len(names) != 2 {
		t.Fatalf("connectors after restart: %v", names)
	}
	if st := e2.status(t, "my-connector"); st.Connector.State != "STOPPED" {
		t.Errorf("my-connector after restart: %+v", st)
	}
	if st := e2.status(t, "sink"); st.Connector.State != "PAUSED" {
		t.Errorf("sink after restart: %+v", st)
	}
	e2.call(t, "PUT", "/connectors/sink/resume", nil, 202, nil)
	e2.call(t, "PUT", "/connectors/my-connector/resume", nil, 202, nil)
	waitFor(t, "running after restart", 20*time.Second, func() bool {
		a, b := e2.status(t, "my-connector"), e2.status(t, "sink")
		return a.Connector.State == "RUNNING" && len(a.Tasks) == 1 && a.Tasks[0].State == "RUNNING" &&
			b.Connector.State == "RUNNING" && b.Tasks[0].State == "RUNNING"
	})
	// From position 7 the source re-reads the file: the output grows past
	// the input (at-least-once replay after an offset rewind).
	waitFor(t, "replayed output", 30*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) >= len(want)+len(want)-7
	})
	e2.call(t, "DELETE", "/connectors/sink", nil, 204, nil)
	e2.call(t, "GET", "/connectors/sink", nil, 404, nil)
	e2.close()
	e3 := startRESTWorker(t, dir, envProvider)
	e3.call(t, "GET", "/connectors", nil, 200, &names)
	if len(names) != 1 || names[0] != "my-connector" {
		t.Fatalf("deleted connector came back: %v", names)
	}
}

// dlqRun feeds a sink good JSON values with three unconvertible ones among
// them and returns the environment and the topic's record count.
func dlqRun(t *testing.T, tolerance string) (*restEnv, string, []string) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	e := startRESTWorker(t, dir, nil)
	cl, err := e.w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx := context.Background()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	values := []string{`"a"`, `"b"`, `"c"`, `{"broken`, `"d"`, `not json`, `"e"`, `[1,`, `"f"`}
	for i, v := range values {
		r := &kgo.Record{Topic: "orders", Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("test")}}}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	e.call(t, "PUT", "/connectors/json-sink/config", map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "orders",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"errors.tolerance": tolerance, "errors.log.enable": "true", "errors.log.include.messages": "true",
		"errors.deadletterqueue.topic.name": "orders-dlq", "errors.deadletterqueue.topic.replication.factor": "3",
		"errors.deadletterqueue.context.headers.enable": "true",
	}, 201, nil)
	return e, out, values
}

func sinkOffset(t *testing.T, e *restEnv, name string) (int64, bool) {
	var offs rest.Offsets
	e.call(t, "GET", "/connectors/"+name+"/offsets", nil, 200, &offs)
	for _, o := range offs.Offsets {
		if o.Partition["kafka_topic"] == "orders" {
			n, _ := o.Offset["kafka_offset"].(float64)
			return int64(n), true
		}
	}
	return 0, false
}

func TestDLQToleranceAll(t *testing.T) {
	e, out, values := dlqRun(t, "all")
	waitFor(t, "good records written and offsets past every record", 30*time.Second, func() bool {
		n, ok := sinkOffset(t, e, "json-sink")
		return ok && n == int64(len(values))
	})
	if got, _ := os.ReadFile(out); string(got) != "a\nb\nc\nd\ne\nf\n" {
		t.Fatalf("sink output %q", got)
	}
	if st := e.status(t, "json-sink"); st.Tasks[0].State != "RUNNING" {
		t.Fatalf("status %+v", st)
	}
	cl, err := e.w.KafkaClient(kgo.ConsumeTopics("orders-dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var dead []*kgo.Record
	for len(dead) < 3 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { dead = append(dead, r) })
	}
	if len(dead) != 3 {
		t.Fatalf("%d records on the DLQ, want 3", len(dead))
	}
	wantOffsets := []string{"3", "5", "7"}
	for i, r := range dead {
		h := map[string]string{}
		for _, hd := range r.Headers {
			h[hd.Key] = string(hd.Value)
		}
		off := wantOffsets[i]
		idx := map[string]int{"3": 3, "5": 5, "7": 7}[off]
		if string(r.Value) != values[idx] || string(r.Key) != fmt.Sprintf("k%d", idx) || h["origin"] != "test" {
			t.Errorf("DLQ record %d is not the original: key %q value %q headers %v", i, r.Key, r.Value, h)
		}
		want := map[string]string{
			dlq.HeaderTopic: "orders", dlq.HeaderPartition: "0", dlq.HeaderOffset: off,
			dlq.HeaderConnectorName: "json-sink", dlq.HeaderTaskID: "0", dlq.HeaderStage: "VALUE_CONVERTER",
			dlq.HeaderExecutingClass: "org.apache.kafka.connect.json.JsonConverter",
			dlq.HeaderExceptionClass: "org.apache.kafka.connect.errors.DataException",
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("DLQ record %d: header %s = %q, want %q", i, k, h[k], v)
			}
		}
		if h[dlq.HeaderExceptionMessage] == "" || h[dlq.HeaderExceptionStacktrace] == "" {
			t.Errorf("DLQ record %d lacks exception headers: %v", i, h)
		}
	}
	fams := e.scrape(t)
	if v := metricValue(fams, "kafka_connect_task_error_deadletterqueue_produce_requests", "json-sink"); v != 3 {
		t.Errorf("dlq metric %v", v)
	}
	if v := metricValue(fams, "kafka_connect_task_error_total_record_failures", "json-sink"); v != 3 {
		t.Errorf("failures metric %v", v)
	}
}

func TestDLQToleranceNone(t *testing.T) {
	e, out, _ := dlqRun(t, "none")
	var st rest.ConnectorStatus
	waitFor(t, "task FAILED", 30*time.Second, func() bool {
		st = e.status(t, "json-sink")
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
	})
	tr := st.Tasks[0].Trace
	if !strings.Contains(tr, "Tolerance exceeded in error handler") || !strings.Contains(tr, "VALUE_CONVERTER") {
		t.Errorf("trace %q", tr)
	}
	if st.Connector.State != "RUNNING" {
		t.Errorf("a failed task took the connector down: %+v", st)
	}
	// The offsets never pass the bad record (offset 3).
	time.Sleep(300 * time.Millisecond)
	if n, ok := sinkOffset(t, e, "json-sink"); ok && n > 3 {
		t.Errorf("committed offset %d passes the bad record at 3", n)
	}
	if got, _ := os.ReadFile(out); strings.Contains(string(got), "broken") || strings.Contains(string(got), "d\n") {
		t.Errorf("output %q", got)
	}
	// The worker is unaffected: other connectors still work.
	e.call(t, "GET", "/connectors", nil, 200, nil)
	var plan rest.ConnectorStatus
	e.call(t, "POST", "/connectors/json-sink/restart?includeTasks=true&onlyFailed=true", nil, 202, &plan)
	if plan.Tasks[0].State != "RESTARTING" || plan.Connector.State != "RUNNING" {
		t.Errorf("restart plan %+v", plan)
	}
}

func TestRESTValidateAgainstWorker(t *testing.T) {
	e := startRESTWorker(t, t.TempDir(), nil)
	var infos struct {
		Name       string `json:"name"`
		ErrorCount int    `json:"error_count"`
		Configs    []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	// A bad enum, a missing required key (topic) and a wrong type.
	e.call(t, "PUT", "/connector-plugins/FileStreamSource/config/validate", map[string]string{
		"connector.class": "FileStreamSource", "name": "v", "errors.tolerance": "most", "tasks.max": "two",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
	}, 200, &infos)
	errs := map[string]string{}
	for _, c := range infos.Configs {
		if len(c.Value.Errors) > 0 {
			errs[c.Value.Name] = strings.Join(c.Value.Errors, "; ")
		}
	}
	if infos.ErrorCount != 3 || errs["errors.tolerance"] == "" || errs["topic"] == "" || errs["tasks.max"] == "" {
		t.Fatalf("error_count %d, errors %v", infos.ErrorCount, errs)
	}
	e.call(t, "POST", "/connectors", `{"name":"bad","config":{"connector.class":"FileStreamSource","errors.tolerance":"most"}}`, 400, nil)
}

func TestRESTConverterPlugins(t *testing.T) {
	e := startRESTWorker(t, t.TempDir(), nil)
	var plugins []rest.PluginInfo
	e.call(t, "GET", "/connector-plugins?connectorsOnly=false", nil, 200, &plugins)
	var conv []string
	for _, p := range plugins {
		if p.Type == "converter" {
			conv = append(conv, p.Class)
		}
	}
	want := []string{runtime.JSONConverterClass, runtime.StringConverterClass, runtime.ByteArrayConverterClass}
	for _, c := range want {
		if !slices.Contains(conv, c) {
			t.Errorf("converter %s not listed: %v", c, conv)
		}
	}
	// Validation accepts the converter class names per connector.
	var infos struct {
		ErrorCount int `json:"error_count"`
	}
	for _, c := range append(want, "JsonConverter") {
		e.call(t, "PUT", "/connector-plugins/FileStreamSink/config/validate", map[string]string{
			"connector.class": "FileStreamSink", "name": "v", "topics": "t", "key.converter": c, "value.converter": c,
		}, 200, &infos)
		if infos.ErrorCount != 0 {
			t.Errorf("%s: %d errors", c, infos.ErrorCount)
		}
	}
	e.call(t, "PUT", "/connector-plugins/FileStreamSink/config/validate", map[string]string{
		"connector.class": "FileStreamSink", "name": "v", "topics": "t", "value.converter": "com.example.NoConverter",
	}, 200, &infos)
	if infos.ErrorCount != 1 {
		t.Errorf("unknown converter: %d errors", infos.ErrorCount)
	}
}

// flakyConverter fails every value with a retriable error until fails
// reaches zero (a schema registry that is briefly unreachable).
type flakyConverter struct {
	mu    *sync.Mutex
	fails *int
}

func (c flakyConverter) FromConnect(string, []schema.Header, *schema.Schema, any) ([]byte, error) {
	return nil, errors.New("not used")
}

func (c flakyConverter) ToConnect(_ string, _ []schema.Header, b []byte) (*schema.Schema, any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *c.fails > 0 {
		*c.fails--
		return nil, nil, connector.Retriable(errors.New("registry unreachable"))
	}
	return nil, string(b), nil
}

func TestConverterRetriedPerRetryTimeout(t *testing.T) {
	var mu sync.Mutex
	fails := 3
	std := connector.NewRegistry().Register(runtime.StandardPlugins()...)
	conv := func(class string, props map[string]string, isKey bool) (schema.Converter, error) {
		if class == "test.FlakyConverter" {
			return flakyConverter{&mu, &fails}, nil
		}
		return std.NewConverter(class, props, isKey)
	}
	dir := t.TempDir()
	e := startRESTWorker(t, dir, nil, func(o *runtime.Options) { o.Converters = conv })
	cl, err := e.w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "flaky"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "flaky", Value: []byte("v1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")
	e.call(t, "PUT", "/connectors/flaky/config", map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "flaky", "value.converter": "test.FlakyConverter",
		"errors.retry.timeout": "10000", "errors.retry.delay.max.ms": "5",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "flaky-dlq", "errors.deadletterqueue.topic.replication.factor": "1",
	}, 201, nil)
	waitFor(t, "record written after retries", 20*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return string(b) == "v1\n"
	})
	fams := e.scrape(t)
	if v := metricValue(fams, "kafka_connect_task_error_total_retries", "flaky"); v != 3 {
		t.Errorf("retries %v, want 3", v)
	}
	if v := metricValue(fams, "kafka_connect_task_error_deadletterqueue_produce_requests", "flaky"); v != 0 {
		t.Errorf("dead-lettered %v records", v)
	}
}

// outageSink fails Put with a retriable error while down > 0 (a database
// outage), then keeps what it is given.
type outageSink struct {
	mu   *sync.Mutex
	down *int
	got  *[]string
}

func (p outageSink) Class() string                         { return "test.OutageSink" }
func (p outageSink) Aliases() []string                     { return nil }
func (p outageSink) Type() connector.Type                  { return connector.Sink }
func (p outageSink) Version() string                       { return "1" }
func (p outageSink) Config() *config.Def                   { return config.NewDef() }
func (p outageSink) Validate(*config.Values) config.Errors { return nil }
func (p outageSink) NewTask() connector.SinkTask           { return p }
func (p outageSink) Start(context.Context, map[string]string, connector.TaskContext) error {
	return nil
}
func (p outageSink) Flush(context.Context) error { return nil }
func (p outageSink) Stop() error                 { return nil }
func (p outageSink) TaskConfigs(_ context.Context, cfg map[string]string, _ int) ([]map[string]string, error) {
	return []map[string]string{cfg}, nil
}

func (p outageSink) Put(_ context.Context, recs []schema.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *p.down > 0 {
		*p.down--
		return connector.Retriable(errors.New("connection refused"))
	}
	for _, r := range recs {
		*p.got = append(*p.got, fmt.Sprint(r.Value))
	}
	return nil
}

func TestSinkOutageRetriedNotDeadLettered(t *testing.T) {
	var mu sync.Mutex
	down := 3
	var got []string
	sink := outageSink{&mu, &down, &got}
	e := startRESTWorker(t, t.TempDir(), nil, func(o *runtime.Options) {
		o.Registry = connector.NewRegistry(filestream.Source{}, filestream.Sink{}, sink)
	})
	cl, err := e.w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "rows"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"r1", "r2"} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "rows", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	e.call(t, "PUT", "/connectors/db/config", map[string]string{
		"connector.class": "test.OutageSink", "topics": "rows", "errors.retry.delay.max.ms": "20",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "rows-dlq", "errors.deadletterqueue.topic.replication.factor": "1",
	}, 201, nil)
	waitFor(t, "rows written after the outage", 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	})
	fams := e.scrape(t)
	if v := metricValue(fams, "kafka_connect_task_error_total_retries", "db"); v != 3 {
		t.Errorf("retries %v, want 3", v)
	}
	if v := metricValue(fams, "kafka_connect_task_error_deadletterqueue_produce_requests", "db") +
		metricValue(fams, "kafka_connect_task_error_total_record_failures", "db"); v != 0 {
		t.Errorf("outage counted as record failures: %v", v)
	}
	if st := e.status(t, "db"); st.Tasks[0].State != "RUNNING" {
		t.Errorf("status %+v", st)
	}
}
