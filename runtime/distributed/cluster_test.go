package distributed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/filestream"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// testWorker is one in-process distributed worker with its REST API.
type testWorker struct {
	h      *Herder
	url    string
	cancel context.CancelFunc
	done   chan struct{}
}

func startWorker(t *testing.T, brokers string, dir string, n int) *testWorker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]string{
		"bootstrap.servers":                 brokers,
		"group.id":                          "test-cluster",
		"config.storage.topic":              "cfg",
		"offset.storage.topic":              "offs",
		"status.storage.topic":              "stat",
		"config.storage.replication.factor": "1",
		"offset.storage.replication.factor": "1",
		"status.storage.replication.factor": "1",
		"offset.storage.partitions":         "3",
		"status.storage.partitions":         "2",
		"key.converter":                     "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                   "org.apache.kafka.connect.storage.StringConverter",
		"offset.flush.interval.ms":          "300",
		"session.timeout.ms":                "6000",
		"heartbeat.interval.ms":             "300",
		"rebalance.timeout.ms":              "6000",
		"scheduled.rebalance.max.delay.ms":  "2000",
		"task.shutdown.graceful.timeout.ms": "1000",
		"offset.flush.timeout.ms":           "1000",
		"listeners":                         "http://" + ln.Addr().String(),
		"rest.advertised.host.name":         "127.0.0.1",
	}
	cfg, err := ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TRIBUTARY_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("w", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := connector.NewRegistry(filestream.Source{}, filestream.Sink{})
	h, err := New(ctx, cfg, ln.Addr(), Options{Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := rest.New(h.RESTOptions())
	sctx, scancel := context.WithCancel(context.Background())
	tw := &testWorker{h: h, url: h.URL(), cancel: scancel, done: make(chan struct{})}
	go func() {
		defer close(tw.done)
		hs := &http.Server{Handler: h.Handler(srv)}
		go func() { <-sctx.Done(); hs.Close() }()
		_ = hs.Serve(ln)
	}()
	t.Cleanup(func() { tw.stop() })
	return tw
}

func (tw *testWorker) stop() {
	select {
	case <-tw.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tw.h.Close(ctx)
	tw.cancel()
	<-tw.done
}

func call(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type placement map[string]map[string]string // connector → "connector"/"task-n" → worker_id

func statusPlacement(t *testing.T, base string) (placement, bool) {
	code, b := call(t, "GET", base+"connectors?expand=status", nil)
	if code != 200 {
		t.Fatalf("expand=status: %d %s", code, b)
	}
	var m map[string]struct {
		Status rest.ConnectorStatus `json:"status"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := placement{}
	allRunning := true
	for name, v := range m {
		p := map[string]string{"connector": v.Status.Connector.WorkerID}
		if v.Status.Connector.State != "RUNNING" || len(v.Status.Tasks) == 0 {
			allRunning = false
		}
		for _, ts := range v.Status.Tasks {
			p[fmt.Sprintf("task-%d", ts.ID)] = ts.WorkerID
			if ts.State != "RUNNING" {
				allRunning = false
			}
		}
		out[name] = p
	}
	return out, allRunning
}

// TestClusterFileStream runs three in-process workers sharing file
// connectors: they spread, every worker reports the same placement, and
// after a worker leaves its work finishes elsewhere.
func TestClusterFileStream(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the workers' cleanups (LIFO)
	brokers := strings.Join(c.ListenAddrs(), ",")
	cl, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	const pairs = 3
	var topics []string
	for i := range pairs {
		topics = append(topics, fmt.Sprintf("lines-%d", i))
	}
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, topics...); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ws := []*testWorker{startWorker(t, brokers, dir, 0), startWorker(t, brokers, dir, 1), startWorker(t, brokers, dir, 2)}

	const lines = 2000
	var in, out []string
	for i := range pairs {
		in = append(in, filepath.Join(dir, fmt.Sprintf("in-%d.txt", i)))
		out = append(out, filepath.Join(dir, fmt.Sprintf("out-%d.txt", i)))
		var b strings.Builder
		for j := range lines / 2 {
			fmt.Fprintf(&b, "%d-%05d\n", i, j)
		}
		os.WriteFile(in[i], []byte(b.String()), 0o644)
	}
	for i := range pairs {
		// Created through different workers: non-leaders forward.
		code, b := call(t, "POST", ws[i%3].url+"connectors", map[string]any{"name": fmt.Sprintf("src-%d", i),
			"config": map[string]string{"connector.class": "FileStreamSource", "file": in[i], "topic": topics[i]}})
		if code != 201 {
			t.Fatalf("create src-%d: %d %s", i, code, b)
		}
		code, b = call(t, "PUT", ws[(i+1)%3].url+fmt.Sprintf("connectors/sink-%d/config", i),
			map[string]string{"connector.class": "FileStreamSink", "file": out[i], "topics": topics[i]})
		if code != 201 {
			t.Fatalf("create sink-%d: %d %s", i, code, b)
		}
	}
	if code, b := call(t, "POST", ws[2].url+"connectors", map[string]any{"name": "src-0",
		"config": map[string]string{"connector.class": "FileStreamSource", "file": in[0], "topic": topics[0]}}); code != 409 {
		t.Fatalf("duplicate create: %d %s", code, b)
	}

	// Every connector runs; the workers share them and agree on placement.
	var p0 placement
	deadline := time.Now().Add(60 * time.Second)
	for {
		p, ok := statusPlacement(t, ws[0].url)
		if ok && len(p) == 2*pairs {
			same := true
			for _, w := range ws[1:] {
				if q, _ := statusPlacement(t, w.url); !reflect.DeepEqual(p, q) {
					same = false
				}
			}
			if same {
				p0 = p
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all RUNNING with one placement after 60s: %v", p)
		}
		time.Sleep(200 * time.Millisecond)
	}
	perWorker := map[string]int{}
	for _, m := range p0 {
		for _, w := range m {
			perWorker[w]++
		}
	}
	if len(perWorker) != 3 {
		t.Fatalf("work not spread over 3 workers: %v (%v)", perWorker, p0)
	}
	for w, n := range perWorker {
		if n != 4 {
			t.Errorf("worker %s runs %d instances, want 4 (%v)", w, n, p0)
		}
	}
	waitFiles(t, out, lines/2, 60*time.Second)
	checkTopicFormats(t, cl, ctx)

	// A worker leaves; more input arrives; its work resumes elsewhere.
	gone := ws[1].h.WorkerID()
	ws[1].stop()
	for i := range pairs {
		f, _ := os.OpenFile(in[i], os.O_APPEND|os.O_WRONLY, 0)
		for j := lines / 2; j < lines; j++ {
			fmt.Fprintf(f, "%d-%05d\n", i, j)
		}
		f.Close()
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		p, ok := statusPlacement(t, ws[0].url)
		moved := ok
		for _, m := range p {
			for _, w := range m {
				if w == gone {
					moved = false
				}
			}
		}
		if moved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("work of %s not moved after 60s: %v", gone, p)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitFiles(t, out, lines, 60*time.Second)
	for i := range pairs {
		got := readSet(t, out[i])
		for j := range lines {
			if !got[fmt.Sprintf("%d-%05d", i, j)] {
				t.Fatalf("%s misses line %d-%05d", out[i], i, j)
			}
		}
	}
}

func readSet(t *testing.T, path string) map[string]bool {
	b, _ := os.ReadFile(path)
	s := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			s[l] = true
		}
	}
	return s
}

func waitFiles(t *testing.T, paths []string, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, p := range paths {
		for len(readSet(t, p)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s has %d distinct lines, want %d", p, len(readSet(t, p)), n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// readAll returns every record of a topic (read_committed).
func readAll(t *testing.T, ctx context.Context, cl *kgo.Client, topic string) []*kgo.Record {
	t.Helper()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	start := map[int32]kgo.Offset{}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		start[o.Partition] = kgo.NewOffset().AtStart()
		want[o.Partition] = o.Offset
	})
	rd, err := kgo.NewClient(kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[int32]int64{}
	var out []*kgo.Record
	for {
		done := true
		for p, o := range want {
			if got[p] < o {
				done = false
			}
		}
		if done {
			return out
		}
		fs := rd.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
}

// checkTopicFormats checks the internal topics hold Kafka Connect's records.
func checkTopicFormats(t *testing.T, cl *kgo.Client, ctx context.Context) {
	t.Helper()
	byKey := func(recs []*kgo.Record) map[string]string {
		m := map[string]string{}
		for _, r := range recs {
			m[string(r.Key)] = string(r.Value)
		}
		return m
	}
	cfg := byKey(readAll(t, ctx, cl, "cfg"))
	for key, want := range map[string]string{
		"connector-src-0": `^\{"properties":\{.*"connector.class":"FileStreamSource".*\}\}$`,
		"task-src-0-0":    `^\{"properties":\{.*"file":".*in-0.txt".*\}\}$`,
		"commit-src-0":    `^\{"tasks":1\}$`,
		"commit-sink-2":   `^\{"tasks":1\}$`,
	} {
		if v, ok := cfg[key]; !ok || !regexp.MustCompile(want).MatchString(v) {
			t.Errorf("config topic %s = %q, want %s", key, v, want)
		}
	}
	st := byKey(readAll(t, ctx, cl, "stat"))
	statusRE := regexp.MustCompile(`^\{"state":"RUNNING","trace":null,"worker_id":"127\.0\.0\.1:\d+","generation":\d+\}$`)
	for _, key := range []string{"status-connector-src-1", "status-task-src-1-0", "status-task-sink-0-0"} {
		if v := st[key]; !statusRE.MatchString(v) {
			t.Errorf("status topic %s = %q", key, v)
		}
	}
	found := false
	for _, r := range readAll(t, ctx, cl, "offs") {
		if strings.HasPrefix(string(r.Key), `["src-0",{"filename":"`) && regexp.MustCompile(`^\{"position":\d+\}$`).Match(r.Value) {
			found = true
		}
	}
	if !found {
		t.Error(`offset topic has no ["src-0",{"filename":…}] → {"position":n} record`)
	}
}

// TestClusterRESTOperations drives pause, resume, restart, stop, the offsets
// API and delete through the worker that does not lead: every change is
// forwarded to the leader and every worker then reports the same state.
func TestClusterRESTOperations(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := strings.Join(c.ListenAddrs(), ",")
	cl, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "ops"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ws := []*testWorker{startWorker(t, brokers, dir, 0), startWorker(t, brokers, dir, 1)}
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte("a\nb\nc\n"), 0o644)

	// Find the follower once the group formed.
	var follower, leader *testWorker
	for follower == nil {
		for _, w := range ws {
			if lead, u := w.h.Leader(); u != "" {
				if lead {
					leader = w
				} else {
					follower = w
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no leader elected")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = leader
	base := follower.url + "connectors/src"
	if code, b := call(t, "PUT", base+"/config", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "ops"}); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	wantState := func(conn, task string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok := true
			for _, w := range ws {
				code, b := call(t, "GET", w.url+"connectors/src/status", nil)
				var st rest.ConnectorStatus
				json.Unmarshal(b, &st)
				got := ""
				if len(st.Tasks) > 0 {
					got = st.Tasks[0].State
				}
				if code != 200 || st.Connector.State != conn || got != task {
					ok = false
				}
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				_, b := call(t, "GET", ws[0].url+"connectors/src/status", nil)
				t.Fatalf("want connector %s, task %q; status %s", conn, task, b)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wantState("RUNNING", "RUNNING")
	for _, step := range []struct {
		method, path string
		code         int
		conn, task   string
	}{
		{"PUT", "/pause", 202, "PAUSED", "PAUSED"},
		{"PUT", "/resume", 202, "RUNNING", "RUNNING"},
		{"POST", "/tasks/0/restart", 204, "RUNNING", "RUNNING"},
		{"POST", "/restart?includeTasks=true", 202, "RUNNING", "RUNNING"},
		{"PUT", "/stop", 204, "STOPPED", ""},
	} {
		if code, b := call(t, step.method, base+step.path, nil); code != step.code {
			t.Fatalf("%s %s: %d %s, want %d", step.method, step.path, code, b, step.code)
		}
		wantState(step.conn, step.task)
	}
	// Offsets of the stopped source: read, altered, read back everywhere.
	code, b := call(t, "GET", base+"/offsets", nil)
	if code != 200 || !strings.Contains(string(b), `"position":6`) {
		t.Fatalf("offsets: %d %s", code, b)
	}
	patch := map[string]any{"offsets": []map[string]any{{"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": 2}}}}
	if code, b := call(t, "PATCH", base+"/offsets", patch); code != 200 {
		t.Fatalf("alter offsets: %d %s", code, b)
	}
	for _, w := range ws {
		if code, b := call(t, "GET", w.url+"connectors/src/offsets", nil); code != 200 || !strings.Contains(string(b), `"position":2`) {
			t.Fatalf("offsets after alter from %s: %d %s", w.url, code, b)
		}
	}
	if code, b := call(t, "PUT", base+"/resume", nil); code != 202 {
		t.Fatalf("resume: %d %s", code, b)
	}
	wantState("RUNNING", "RUNNING")
	if code, b := call(t, "DELETE", base, nil); code != 204 {
		t.Fatalf("delete: %d %s", code, b)
	}
	for _, w := range ws {
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, b := call(t, "GET", w.url+"connectors", nil)
			if code == 200 && string(b) == "[]" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after delete %s lists %s", w.url, b)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code, _ := call(t, "GET", w.url+"connectors/src/status", nil); code != 404 {
			t.Fatalf("status of a deleted connector: %d", code)
		}
	}
}

// TestLeaseStopsWorkBeforeTakeover cuts one worker off from the group
// coordinator only (its other Kafka traffic still flows, the nasty kind of
// partition): it must stop its source task by itself before the other
// worker starts it, and get work again once the partition heals.
func TestLeaseStopsWorkBeforeTakeover(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := strings.Join(c.ListenAddrs(), ",")
	cl, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "lease"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ws := []*testWorker{startWorker(t, brokers, dir, 0), startWorker(t, brokers, dir, 1)}
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte("x\n"), 0o644)
	if code, b := call(t, "PUT", ws[0].url+"connectors/src/config", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "lease"}); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	key := runtime.TaskKey{Connector: "src", Task: 0}
	runs := func(w *testWorker) bool { return slices.Contains(w.h.host.Tasks(), key) }
	var a, b *testWorker
	for a == nil {
		for i, w := range ws {
			if runs(w) {
				a, b = w, ws[1-i]
			}
		}
		if ctx.Err() != nil {
			t.Fatal("task never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.h.member.mu.Lock()
	aID := a.h.member.memberID
	a.h.member.mu.Unlock()
	var cut atomic.Bool
	cut.Store(true)
	drop := func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !cut.Load() {
			return nil, nil, false
		}
		switch r := req.(type) {
		case *kmsg.HeartbeatRequest:
			if r.MemberID == aID {
				return nil, errors.New("partitioned"), true
			}
		case *kmsg.SyncGroupRequest:
			if r.MemberID == aID {
				return nil, errors.New("partitioned"), true
			}
		case *kmsg.JoinGroupRequest:
			if r.MemberID == aID || (len(r.Protocols) > 0 && strings.Contains(string(r.Protocols[0].Metadata), a.url)) {
				return nil, errors.New("partitioned"), true
			}
		}
		return nil, nil, false
	}
	for _, k := range []kmsg.Key{kmsg.Heartbeat, kmsg.JoinGroup, kmsg.SyncGroup} {
		c.ControlKey(int16(k), drop)
	}
	cutAt := time.Now()
	var aStopped, bStarted time.Time
	for aStopped.IsZero() || bStarted.IsZero() {
		now := time.Now()
		if aStopped.IsZero() && !runs(a) {
			aStopped = now
		}
		if bStarted.IsZero() && runs(b) {
			bStarted = now
		}
		if ctx.Err() != nil {
			t.Fatalf("a stopped at %v, b started at %v", aStopped, bStarted)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("cut off at 0; the cut-off worker stopped its task after %v, the other started it after %v",
		aStopped.Sub(cutAt).Round(time.Millisecond), bStarted.Sub(cutAt).Round(time.Millisecond))
	if !aStopped.Before(bStarted) {
		t.Fatalf("the task ran on both workers: cut-off worker stopped at +%v, other started at +%v", aStopped.Sub(cutAt), bStarted.Sub(cutAt))
	}
	// Healed: the worker rejoins and gets a share again once there is
	// more work than one worker's share.
	cut.Store(false)
	in2 := filepath.Join(dir, "in2.txt")
	os.WriteFile(in2, []byte("y\n"), 0o644)
	if code, body := call(t, "PUT", b.url+"connectors/src2/config", map[string]string{"connector.class": "FileStreamSource", "file": in2, "topic": "lease"}); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		p, ok := statusPlacement(t, b.url)
		n := 0
		for _, m := range p {
			for _, w := range m {
				if w == a.h.WorkerID() {
					n++
				}
			}
		}
		if ok && n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healed worker got no work back: %v", p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
