package reference

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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// rest is a Kafka Connect REST API: the real worker's or Tributary's, the
// same calls for both.
type rest struct {
	name string // "debezium" or "tributary", for messages
	url  string
	// alive reports why the worker process is gone ("" while it runs).
	alive func() string
}

func (r *rest) call(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
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

// create posts a connector and waits until it and its tasks are RUNNING.
func (r *rest) create(t *testing.T, name string, config map[string]string) {
	t.Helper()
	code, b, err := r.call(http.MethodPost, "/connectors", map[string]any{"name": name, "config": config})
	if err != nil || code != http.StatusCreated {
		class := config["connector.class"]
		_, vb, _ := r.call(http.MethodPut, "/connector-plugins/"+class[strings.LastIndex(class, ".")+1:]+"/config/validate", config)
		t.Fatalf("%s: POST /connectors %s: HTTP %d %v: %s\nvalidation errors: %s", r.name, name, code, err, b, validationErrors(vb))
	}
	t.Cleanup(func() { _, _, _ = r.call(http.MethodDelete, "/connectors/"+name, nil) })
	r.eventually(t, 90*time.Second, name+" RUNNING", func() error {
		st, err := r.status(name)
		if err != nil {
			return err
		}
		if st.Connector.State != "RUNNING" || len(st.Tasks) == 0 {
			return fmt.Errorf("connector %s is %s with %d tasks", name, st.Connector.State, len(st.Tasks))
		}
		for _, tk := range st.Tasks {
			if tk.State != "RUNNING" {
				return fmt.Errorf("task %s-%d is %s", name, tk.ID, tk.State)
			}
		}
		return nil
	})
}

type connectorStatus struct {
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

func (r *rest) status(name string) (connectorStatus, error) {
	var st connectorStatus
	code, b, err := r.call(http.MethodGet, "/connectors/"+name+"/status", nil)
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

// failures lists the worker's FAILED connectors and tasks with traces.
func (r *rest) failures() string {
	code, b, err := r.call(http.MethodGet, "/connectors", nil)
	if err != nil || code != http.StatusOK {
		return ""
	}
	var names []string
	if json.Unmarshal(b, &names) != nil {
		return ""
	}
	var out []string
	for _, n := range names {
		st, err := r.status(n)
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

// check fails the test if the worker died or a connector or task failed.
func (r *rest) check(t *testing.T, what string) {
	t.Helper()
	if why := r.alive(); why != "" {
		t.Fatalf("%s: %s worker %s", what, r.name, why)
	}
	if f := r.failures(); f != "" {
		t.Fatalf("%s: %s: %s", what, r.name, f)
	}
}

// eventually calls f until it returns nil, failing the test after d or as
// soon as the worker dies or a connector fails.
func (r *rest) eventually(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		err := f()
		if err == nil {
			return
		}
		if i%4 == 3 || time.Now().After(deadline) {
			r.check(t, what)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s: not reached within %v: %v", r.name, what, d, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// startDebezium starts a real Kafka Connect worker (Debezium's plugins on
// its plugin.path) on b.
func startDebezium(t *testing.T, b *harness.Broker) *rest {
	w := harness.Connect(t, b, nil)
	return &rest{name: "debezium", url: w.URL, alive: func() string {
		select {
		case <-w.Exited():
			return "exited"
		default:
			return ""
		}
	}}
}

// startTributary runs `replicate standalone worker.properties` with the
// same worker settings as the Connect worker's (JsonConverter with schemas,
// a file offset store) on b, and waits for its REST API. The process is
// killed at test end; its log is shown if the test failed.
func startTributary(t *testing.T, b *harness.Broker) *rest {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	props := fmt.Sprintf(`bootstrap.servers=%s
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=%s
offset.flush.interval.ms=1000
listeners=%s
`, b.Bootstrap, filepath.Join(dir, "connect.offsets"), url)
	workerFile := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(workerFile, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "replicate.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "standalone", workerFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			body, _ := os.ReadFile(logPath)
			if len(body) > 12000 {
				body = body[len(body)-12000:]
			}
			t.Logf("replicate log (last 12000 bytes):\n%s", body)
		}
	})
	r := &rest{name: "tributary", url: url, alive: func() string {
		select {
		case <-exited:
			return fmt.Sprintf("exited: %v", exitErr)
		default:
			return ""
		}
	}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if why := r.alive(); why != "" {
			t.Fatalf("replicate %s at start", why)
		}
		if code, _, err := r.call(http.MethodGet, "/", nil); err == nil && code == http.StatusOK {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("replicate REST API did not come up within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// collector consumes every topic whose name starts with prefix+"." from
// the start, in the background, keeping each topic's records in order.
type collector struct {
	prefix string
	cl     *kgo.Client
	mu     sync.Mutex
	topics map[string][]*kgo.Record
}

func collect(t *testing.T, b *harness.Broker, prefix string) *collector {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(b.Bootstrap, ",")...),
		kgo.ConsumeRegex(), kgo.ConsumeTopics("^"+strings.ReplaceAll(prefix, ".", `\.`)+`\..+`),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(200*time.Millisecond),
		kgo.MetadataMaxAge(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{prefix: prefix, cl: cl, topics: map[string][]*kgo.Record{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			c.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) { c.topics[r.Topic] = append(c.topics[r.Topic], r) })
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
	return c
}

// count is the number of records consumed from topic (suffix after the
// prefix and its dot).
func (c *collector) count(suffix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.topics[c.prefix+"."+suffix])
}

// records returns a copy of topic's records (suffix after the prefix).
func (c *collector) records(suffix string) []*kgo.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*kgo.Record(nil), c.topics[c.prefix+"."+suffix]...)
}

// suffixes lists the consumed topics, without the prefix.
func (c *collector) suffixes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.topics {
		out = append(out, strings.TrimPrefix(k, c.prefix+"."))
	}
	sort.Strings(out)
	return out
}

// validationErrors lists the keys with errors in a config/validate answer.
func validationErrors(body []byte) string {
	var v struct {
		Configs []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body)
	}
	var out []string
	for _, c := range v.Configs {
		if len(c.Value.Errors) > 0 && c.Value.Name != "name" {
			out = append(out, c.Value.Name+": "+strings.Join(c.Value.Errors, "; "))
		}
	}
	return strings.Join(out, "\n")
}
