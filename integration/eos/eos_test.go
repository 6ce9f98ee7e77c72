package eos

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

var replicateBin string

// eosSupport is the workers' exactly.once.source.support. With
// -eos.support=disabled the test shows what it catches: the duplicates of
// at-least-once delivery after the kill and the zombie.
var eosSupport = flag.String("eos.support", "enabled", "exactly.once.source.support of the test's workers")

func TestMain(m *testing.M) {
	bin, remove, err := harness.BuildReplicate("replicate-eos")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	replicateBin = bin
	code := harness.Run(m, harness.NeedKafka)
	remove()
	os.Exit(code)
}

// Group timing: Kafka's default group.min.session.timeout.ms is 6 s.
const (
	sessionTimeout = 6 * time.Second
	// scheduledDelay is at least task.shutdown.graceful.timeout.ms +
	// offset.flush.timeout.ms (the distributed worker's rule).
	scheduledDelay = 4 * time.Second
)

// worker is one `replicate distributed` process slot (restarts keep the
// port and properties).
type worker struct {
	t    testing.TB
	i    int
	port int
	prop string
	dir  string
	runs []*proc
}

type proc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
	err    error
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newWorker(t testing.TB, dir string, i int, bootstrap, support string, extra string) *worker {
	w := &worker{t: t, i: i, port: freePort(t), dir: dir, prop: filepath.Join(dir, fmt.Sprintf("worker-%d.properties", i))}
	props := fmt.Sprintf(`bootstrap.servers=%s
group.id=eos-it
config.storage.topic=eos-configs
offset.storage.topic=eos-offsets
status.storage.topic=eos-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.storage.partitions=3
status.storage.partitions=1
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
listeners=http://127.0.0.1:%d
rest.advertised.host.name=127.0.0.1
offset.flush.interval.ms=1000
session.timeout.ms=%d
heartbeat.interval.ms=1000
rebalance.timeout.ms=10000
scheduled.rebalance.max.delay.ms=%d
task.shutdown.graceful.timeout.ms=1000
offset.flush.timeout.ms=3000
exactly.once.source.support=%s
%s`, bootstrap, w.port, sessionTimeout.Milliseconds(), scheduledDelay.Milliseconds(), support, extra)
	if err := os.WriteFile(w.prop, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for n, r := range w.runs {
				b, _ := os.ReadFile(r.log)
				t.Logf("worker %d run %d log (tail):\n%s", w.i, n, tail(b, 5000))
			}
		}
	})
	return w
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (w *worker) url() string { return fmt.Sprintf("http://127.0.0.1:%d/", w.port) }
func (w *worker) id() string  { return fmt.Sprintf("127.0.0.1:%d", w.port) }
func (w *worker) cur() *proc  { return w.runs[len(w.runs)-1] }

// start starts a run of the worker and waits until its REST API answers.
func (w *worker) start() {
	t := w.t
	t.Helper()
	logPath := filepath.Join(w.dir, fmt.Sprintf("worker-%d-run-%d.log", w.i, len(w.runs)))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(replicateBin, "distributed", w.prop)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGCONT)
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	w.runs = append(w.runs, p)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(w.url()); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.exited:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("worker %d exited at start: %v\n%s", w.i, p.err, tail(b, 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker %d REST API not up after 60s", w.i)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *worker) signal(sig syscall.Signal) {
	if err := w.cur().cmd.Process.Signal(sig); err != nil {
		w.t.Fatal(err)
	}
	if sig == syscall.SIGKILL {
		<-w.cur().exited
	}
}

func call(method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// putConnector creates a connector through w, retrying while the cluster
// has no leader yet (409).
func putConnector(t testing.TB, w *worker, name string, cfg map[string]string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, b, err := call("PUT", w.url()+"connectors/"+name+"/config", cfg)
		if err == nil && (code == 200 || code == 201) {
			return
		}
		if time.Now().After(deadline) || (err == nil && code != 409 && code < 500) {
			t.Fatalf("create %s: HTTP %d %s (err %v)", name, code, b, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// taskWorker returns the worker ID of the connector's task 0 when RUNNING
// (as worker via reports it), or "".
func taskWorker(via *worker, name string) string {
	code, b, err := call("GET", via.url()+"connectors/"+name+"/status", nil)
	if err != nil || code != 200 {
		return ""
	}
	var st struct {
		Tasks []struct {
			ID       int    `json:"id"`
			State    string `json:"state"`
			WorkerID string `json:"worker_id"`
		} `json:"tasks"`
	}
	if json.Unmarshal(b, &st) != nil || len(st.Tasks) == 0 || st.Tasks[0].State != "RUNNING" {
		return ""
	}
	return st.Tasks[0].WorkerID
}

// waitTaskOn waits until via reports the task RUNNING on a worker other
// than notOn and returns that worker's ID and the time it took.
func waitTaskOn(t *testing.T, via *worker, name, notOn string, d time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if id := taskWorker(via, name); id != "" && id != notOn {
			return id, time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("task of %s not RUNNING on a worker other than %q within %v", name, notOn, d)
	return "", 0
}

// lineWriter appends numbered lines to a file until stopped.
type lineWriter struct {
	path    string
	written atomic.Int64
	stop    chan struct{}
	done    chan struct{}
}

func startWriter(t *testing.T, path string, perTick int, tick time.Duration) *lineWriter {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	lw := &lineWriter{path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(lw.done)
		defer f.Close()
		tk := time.NewTicker(tick)
		defer tk.Stop()
		n := 0
		for {
			select {
			case <-lw.stop:
				return
			case <-tk.C:
			}
			var b bytes.Buffer
			for range perTick {
				n++
				fmt.Fprintf(&b, "%08d\n", n)
			}
			if _, err := f.Write(b.Bytes()); err != nil {
				return
			}
			lw.written.Store(int64(n))
		}
	}()
	return lw
}

func (lw *lineWriter) end() int {
	close(lw.stop)
	<-lw.done
	return int(lw.written.Load())
}

// readCommitted reads topic with isolation.level=read_committed until want
// lines arrived (or d passed, or more arrived than want) and returns them in
// log order.
func readCommitted(t *testing.T, bootstrap, topic string, want int, d time.Duration) []int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var got []int
	for len(got) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			n, err := strconv.Atoi(string(r.Value))
			if err != nil {
				t.Errorf("record %q at offset %d is not a line number", r.Value, r.Offset)
				return
			}
			got = append(got, n)
		})
	}
	// Anything beyond want that is already committed is a duplicate:
	// read a little longer to catch it.
	tctx, tcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer tcancel()
	for tctx.Err() == nil {
		fs := cl.PollFetches(tctx)
		fs.EachRecord(func(r *kgo.Record) {
			n, _ := strconv.Atoi(string(r.Value))
			got = append(got, n)
		})
	}
	return got
}

// checkExactlyOnce reports lines missing, duplicated or out of order.
func checkExactlyOnce(t *testing.T, got []int, want int) {
	t.Helper()
	seen := make(map[int]int, want)
	var dups, disorder []int
	prev := 0
	for _, n := range got {
		seen[n]++
		if seen[n] == 2 {
			dups = append(dups, n)
		}
		if n <= prev && seen[n] == 1 {
			disorder = append(disorder, n)
		}
		prev = max(prev, n)
	}
	var missing []int
	for n := 1; n <= want; n++ {
		if seen[n] == 0 {
			missing = append(missing, n)
		}
	}
	short := func(s []int) []int { return s[:min(len(s), 10)] }
	t.Logf("read_committed consumer: %d records for %d lines; %d duplicated, %d missing, %d out of order", len(got), want, len(dups), len(missing), len(disorder))
	if len(dups) > 0 {
		t.Errorf("%d lines seen more than once (first: %v)", len(dups), short(dups))
	}
	if len(missing) > 0 {
		t.Errorf("%d lines never seen (first: %v)", len(missing), short(missing))
	}
	if len(disorder) > 0 {
		t.Errorf("%d lines out of order (first: %v)", len(disorder), short(disorder))
	}
}

func createTopic(t testing.TB, bootstrap string, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if resp, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, topic); err != nil || resp.Error() != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Error())
	}
}

// TestExactlyOnceKillAndZombie: a FileStreamSource under a writer on two
// workers with exactly-once source support; kill -9 of the worker running
// the task, then SIGSTOP of the next owner past session.timeout.ms and
// SIGCONT; a read_committed consumer sees every line once, in order.
func TestExactlyOnceKillAndZombie(t *testing.T) {
	b := harness.Kafka(t)
	dir := t.TempDir()
	const topic, name = "eos-lines", "eos-src"
	createTopic(t, b.Bootstrap, topic)
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ws := []*worker{newWorker(t, dir, 0, b.Bootstrap, *eosSupport, ""), newWorker(t, dir, 1, b.Bootstrap, *eosSupport, "")}
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); w.start() }()
	}
	wg.Wait()
	byID := map[string]*worker{ws[0].id(): ws[0], ws[1].id(): ws[1]}
	other := func(id string) *worker {
		if id == ws[0].id() {
			return ws[1]
		}
		return ws[0]
	}

	lw := startWriter(t, in, 25, 50*time.Millisecond) // 500 lines/s
	cfg := map[string]string{
		"connector.class": "FileStreamSource", "tasks.max": "1", "file": in, "topic": topic, "batch.size": "100",
		"transaction.boundary": "poll",
	}
	if *eosSupport == "enabled" {
		cfg["exactly.once.support"] = "required"
	}
	putConnector(t, ws[0], name, cfg)
	owner, _ := waitTaskOn(t, ws[0], name, "", 60*time.Second)
	t.Logf("task RUNNING on %s", owner)
	time.Sleep(3 * time.Second)

	// kill -9 of the owner.
	victim := byID[owner]
	victim.signal(syscall.SIGKILL)
	killAt := time.Now()
	owner2, took := waitTaskOn(t, other(owner), name, owner, sessionTimeout+scheduledDelay+40*time.Second)
	t.Logf("FAILOVER kill -9: task RUNNING on %s %.1fs after the kill (written so far: %d lines)", owner2, took.Seconds(), lw.written.Load())
	_ = killAt
	victim.start()
	time.Sleep(3 * time.Second)

	// SIGSTOP of the new owner past session.timeout.ms, then SIGCONT: a
	// zombie whose producer has records of an open transaction.
	zombie := byID[owner2]
	zombie.signal(syscall.SIGSTOP)
	owner3, took := waitTaskOn(t, other(owner2), name, owner2, sessionTimeout+scheduledDelay+40*time.Second)
	t.Logf("FAILOVER SIGSTOP: task RUNNING on %s %.1fs after the stop", owner3, took.Seconds())
	time.Sleep(2 * time.Second)
	zombie.signal(syscall.SIGCONT)
	contAt := time.Now()
	time.Sleep(4 * time.Second)

	n := lw.end()
	t.Logf("writer stopped after %d lines", n)
	got := readCommitted(t, b.Bootstrap, topic, n, 60*time.Second)
	checkExactlyOnce(t, got, n)

	// What the zombie did once continued (its herder stops the task when
	// it learns it lost the group, or the task's producer is fenced).
	zlog, _ := os.ReadFile(zombie.cur().log)
	shown := 0
	for _, l := range strings.Split(string(zlog), "\n") {
		ts, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(strings.Fields(l + " x")[0], "time="))
		if err != nil || ts.Before(contAt.Add(-100*time.Millisecond)) || shown >= 25 {
			continue
		}
		if strings.Contains(l, "fenced") || strings.Contains(l, "eos-src") || strings.Contains(l, "transaction") || strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Logf("zombie: %s", l)
			shown++
		}
	}
}

// TestRequiredRefused: exactly.once.support=required is refused, with
// Connect's messages, by a worker without exactly-once support and for a
// connector that cannot support it; transaction.boundary=connector is
// refused for connectors that define no boundaries.
func TestRequiredRefused(t *testing.T) {
	b := harness.Kafka(t)
	dir := t.TempDir()
	ws := []*worker{newWorker(t, dir, 0, b.Bootstrap, "enabled", ""), newWorker(t, dir, 1, b.Bootstrap, "preparing", "group.id=eos-it-2\nconfig.storage.topic=eos2-configs\noffset.storage.topic=eos2-offsets\nstatus.storage.topic=eos2-status\n")}
	for _, w := range ws {
		w.start()
	}
	file := filepath.Join(dir, "in.txt")
	validate := func(w *worker, cfg map[string]string) map[string][]string {
		t.Helper()
		code, body, err := call("PUT", w.url()+"connector-plugins/FileStreamSource/config/validate", cfg)
		if err != nil || code != 200 {
			t.Fatalf("validate: HTTP %d %s (err %v)", code, body, err)
		}
		var res struct {
			Configs []struct {
				Value struct {
					Name   string   `json:"name"`
					Errors []string `json:"errors"`
				} `json:"value"`
			} `json:"configs"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, c := range res.Configs {
			if len(c.Value.Errors) > 0 {
				out[c.Value.Name] = c.Value.Errors
			}
		}
		return out
	}
	base := func(kv ...string) map[string]string {
		m := map[string]string{"connector.class": "FileStreamSource", "name": "v", "topic": "t", "file": file}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	const notEnabled = "This worker does not have exactly-once source support enabled."
	const unsupported = "The connector does not support exactly-once semantics with the provided configuration."
	const noBoundaries = "The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition."
	for _, tc := range []struct {
		name string
		w    *worker
		cfg  map[string]string
		want map[string]string // key → expected error ("" none)
	}{
		{"enabled, file, required", ws[0], base("exactly.once.support", "required"), nil},
		{"enabled, stdin, required", ws[0], base("exactly.once.support", "required", "file", ""), map[string]string{"exactly.once.support": unsupported}},
		{"enabled, stdin, requested", ws[0], base("exactly.once.support", "requested", "file", ""), nil},
		{"preparing, file, required", ws[1], base("exactly.once.support", "required"), map[string]string{"exactly.once.support": notEnabled}},
		{"enabled, connector boundary", ws[0], base("transaction.boundary", "connector"), map[string]string{"transaction.boundary": noBoundaries}},
		{"enabled, interval boundary", ws[0], base("transaction.boundary", "interval", "transaction.boundary.interval.ms", "500"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := validate(tc.w, tc.cfg)
			for k, want := range tc.want {
				if len(errs[k]) != 1 || errs[k][0] != want {
					t.Errorf("%s: errors %q, want [%q]", k, errs[k], want)
				}
			}
			for k, e := range errs {
				if _, ok := tc.want[k]; !ok {
					t.Errorf("unexpected error on %s: %q", k, e)
				}
			}
		})
	}
	// Creating is refused the same way.
	code, body, err := call("PUT", ws[1].url()+"connectors/v/config", base("exactly.once.support", "required"))
	if err != nil || code != 400 || !strings.Contains(string(body), notEnabled) {
		t.Errorf("create with required on a preparing worker: HTTP %d %s (err %v), want 400 naming %q", code, body, err, notEnabled)
	}
}
