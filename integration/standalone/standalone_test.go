package standalone

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/offsets"
)

var binary string

func TestMain(m *testing.M) {
	bin, remove, err := harness.BuildReplicate("replicate-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	code := m.Run()
	remove()
	os.Exit(code)
}

func lineCount() int {
	if n, err := strconv.Atoi(os.Getenv("TRIBUTARY_LINES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// setup writes worker and connector configs for a file → topic → file
// pipeline and returns the paths.
type pipeline struct {
	dir, in, out, offsets, brokerDir string
	port, restPort                   int
	args                             []string
}

const (
	srcName  = "local-file-source"
	sinkName = "local-file-sink"
	topic    = "connect-test"
)

func newPipeline(t *testing.T) *pipeline {
	dir := t.TempDir()
	p := &pipeline{dir: dir, in: filepath.Join(dir, "in.txt"), out: filepath.Join(dir, "out.txt"),
		offsets: filepath.Join(dir, "connect.offsets"), brokerDir: filepath.Join(dir, "data", "broker"), port: freePort(t), restPort: freePort(t)}
	worker := fmt.Sprintf(`# connect-standalone.properties, as Kafka ships it, with the embedded broker
bootstrap.servers=
embedded.broker.port=%d
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename=%s
offset.flush.interval.ms=300
rest.port=%d
plugin.path=/usr/share/java
`, p.port, p.offsets, p.restPort)
	src := fmt.Sprintf("name=%s\nconnector.class=FileStreamSource\ntasks.max=1\nfile=%s\ntopic=%s\nbatch.size=500\n", srcName, p.in, topic)
	sink := fmt.Sprintf(`{"name": %q, "config": {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": 1, "file": %q, "topics": %q}}`, sinkName, p.out, topic)
	write(t, filepath.Join(dir, "worker.properties"), worker)
	write(t, filepath.Join(dir, "source.properties"), src)
	write(t, filepath.Join(dir, "sink.json"), sink)
	p.args = []string{"standalone", filepath.Join(dir, "worker.properties"), filepath.Join(dir, "source.properties"), filepath.Join(dir, "sink.json")}
	return p
}

func write(t *testing.T, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// proc is a running replicate.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process ended
	err    error         // its exit status, once exited is closed
}

// start runs replicate; the process is killed at test end if still running.
func (p *pipeline) start(t *testing.T, run int) *proc {
	cmd := exec.Command(binary, p.args...)
	logf, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("replicate-%d.log", run)))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { pr.err = cmd.Wait(); close(pr.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-pr.exited
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("replicate log (run %d):\n%s", run, tail(b, 4000))
		}
	})
	return pr
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stop sends SIGTERM and expects a clean exit.
func stop(t *testing.T, pr *proc) {
	t.Helper()
	pr.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-pr.exited:
		if pr.err != nil {
			t.Fatalf("replicate exited with %v after SIGTERM", pr.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("replicate did not stop within 30s of SIGTERM")
	}
}

func inputLines(n, from int) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%07d the quick brown fox jumps over the lazy dog ✓\n", i)
	}
	return b.Bytes()
}

func appendFile(t *testing.T, path string, b []byte) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Error(err)
	}
}

// completeLines returns the file's complete lines (a partial last line is
// dropped).
func completeLines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	return splitLines(b)
}

func splitLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func waitLines(t *testing.T, pr *proc, path string, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		select {
		case <-pr.exited:
			t.Fatalf("replicate exited early (%v) with %d of %d lines in %s", pr.err, len(completeLines(t, path)), n, path)
		default:
		}
		if got := len(completeLines(t, path)); got >= n {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("%s has %d lines after %v, want %d", path, got, d, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStandaloneCopyAndKcat copies a file through a topic into another file
// with the real binary, checks the copy is identical, and checks with kcat
// (an independent librdkafka client) that the topic holds exactly the lines.
func TestStandaloneCopyAndKcat(t *testing.T) {
	p := newPipeline(t)
	n := lineCount()
	input := inputLines(n, 0)
	appendFile(t, p.in, input)
	start := time.Now()
	pr := p.start(t, 1)
	waitLines(t, pr, p.out, n, 120*time.Second)
	elapsed := time.Since(start)
	t.Logf("copied %d lines in %v (%.0f lines/s, including startup)", n, elapsed, float64(n)/elapsed.Seconds())

	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (make test installs it: apt-get install -y kcat)")
	}
	out, err := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", p.port), "-C", "-t", topic, "-e", "-q",
		"-f", "%s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	if !bytes.Equal(out, input) {
		t.Fatalf("kcat read %d bytes (%d lines), want %d bytes (%d lines)", len(out), bytes.Count(out, []byte("\n")), len(input), n)
	}
	// Keys are null: kcat prints the key with -K.
	keys, err := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", p.port), "-C", "-t", topic, "-e", "-q", "-c", "3",
		"-f", "%k|%S|%s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	if want := "|55|0000000 the quick brown fox jumps over the lazy dog ✓\n"; !strings.HasPrefix(string(keys), want) {
		t.Fatalf("kcat key/value = %q, want prefix %q", keys, want)
	}
	checkStatus(t, p.restPort, srcName)
	checkStatus(t, p.restPort, sinkName)
	stop(t, pr)

	got, err := os.ReadFile(p.out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, input) {
		t.Fatalf("output (%d bytes) differs from input (%d bytes)", len(got), len(input))
	}
	// After a clean stop the source's committed offset is the whole file.
	if pos := sourcePosition(t, p); pos != int64(len(input)) {
		t.Fatalf("committed source position %d, want %d", pos, len(input))
	}
}

// checkStatus reads the connector's status through the REST API, as an
// operator would.
func checkStatus(t *testing.T, port int, name string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/connectors/%s/status", port, name))
	if err != nil {
		t.Fatalf("REST status: %v", err)
	}
	defer resp.Body.Close()
	var st struct {
		Name      string `json:"name"`
		Connector struct {
			State string `json:"state"`
		} `json:"connector"`
		Tasks []struct {
			ID    int    `json:"id"`
			State string `json:"state"`
		} `json:"tasks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("REST status of %s: HTTP %d, %v", name, resp.StatusCode, err)
	}
	if st.Name != name || st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Fatalf("REST status of %s = %+v, want RUNNING with one RUNNING task", name, st)
	}
}

func sourcePosition(t *testing.T, p *pipeline) int64 {
	t.Helper()
	st, err := offsets.OpenFile(p.offsets)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	off, err := st.Get(context.Background(), srcName, map[string]any{"filename": p.in})
	if err != nil {
		t.Fatal(err)
	}
	if off == nil {
		return 0
	}
	return off["position"].(int64)
}

// brokerState opens the embedded broker's data directory in-process (as
// the restarted worker will) and returns the topic's records and the sink
// group's committed offset.
func brokerState(t *testing.T, p *pipeline) (records []string, committed int64) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0), kfake.DataDir(p.brokerDir))
	if err != nil {
		t.Fatalf("reopen broker data: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil {
		t.Fatalf("end offset: %+v", end)
	}
	var last int64 = -1
	for last+1 < end.Offset {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("read topic: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			records = append(records, string(r.Value))
			last = r.Offset
		})
	}
	offs, err := adm.FetchOffsets(ctx, "connect-"+sinkName)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, 0); ok && o.Err == nil {
		committed = o.At
	}
	if committed < 0 {
		committed = 0
	}
	return records, committed
}

// TestStandaloneKill9 kills the worker with SIGKILL in the middle of a copy
// and restarts it. Both stages are at least once: the source replays the
// file after its committed position S into the topic, the sink replays the
// topic after its group's committed offset C into the file. So the final
// output must be exactly
//
//	out₀ ++ topic₀[C:] ++ input[S:]
//
// where out₀ and topic₀ are what the file and the topic held at the kill:
// every line, in order, each repeat being one contiguous replay from a
// committed position — and nothing the worker had not written durably was
// ever committed (C ≤ len(out₀), S ≤ len(topic₀)).
func TestStandaloneKill9(t *testing.T) {
	p := newPipeline(t)
	n := lineCount()
	input := inputLines(n, 0)
	lines := splitLines(input)

	// The file grows while it is copied, so the kill finds the source in
	// the middle too.
	half := len(input) / 2
	half = bytes.LastIndexByte(input[:half], '\n') + 1
	appendFile(t, p.in, input[:half])
	pr := p.start(t, 1)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		rest := input[half:]
		for len(rest) > 0 {
			k := min(len(rest), 64<<10)
			k = bytes.LastIndexByte(rest[:k], '\n') + 1
			appendFile(t, p.in, rest[:k])
			rest = rest[k:]
			time.Sleep(20 * time.Millisecond)
		}
	}()
	waitLines(t, pr, p.out, n*2/5, 120*time.Second)
	if err := pr.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-pr.exited
	<-writerDone

	out0 := completeLines(t, p.out)
	pos := sourcePosition(t, p)
	topic0, committed := brokerState(t, p)
	sLines := bytes.Count(input[:pos], []byte("\n"))
	if pos > 0 && input[pos-1] != '\n' {
		t.Fatalf("committed source position %d is not at a line end", pos)
	}
	t.Logf("at kill: output %d lines, topic %d records, sink committed %d, source committed %d lines (byte %d)",
		len(out0), len(topic0), committed, sLines, pos)
	for i, l := range topic0 {
		if i >= len(lines) || l != lines[i] {
			t.Fatalf("topic record %d = %q, want %q (topic must be a prefix of the input)", i, l, lines[min(i, len(lines)-1)])
		}
	}
	for i, l := range out0 {
		if l != topic0[i] {
			t.Fatalf("output line %d = %q, topic has %q", i, l, topic0[i])
		}
	}
	if int(committed) > len(out0) {
		t.Fatalf("sink committed offset %d beyond the %d lines on disk (rule 2 broken)", committed, len(out0))
	}
	if sLines > len(topic0) {
		t.Fatalf("source committed %d lines but the topic holds %d (rule 1 broken)", sLines, len(topic0))
	}

	want := append(append(append([]string{}, out0...), topic0[committed:]...), lines[sLines:]...)
	pr = p.start(t, 2)
	waitLines(t, pr, p.out, len(want), 120*time.Second)
	time.Sleep(time.Second) // anything beyond the expected replay would show up now
	stop(t, pr)
	got := completeLines(t, p.out)
	if len(got) != len(want) {
		t.Fatalf("final output has %d lines, want %d (= %d at kill + %d sink replay/rest of topic + %d source replay/rest of file)",
			len(got), len(want), len(out0), len(topic0)-int(committed), n-sLines)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("final output line %d = %q, want %q", i, got[i], want[i])
		}
	}
	// Every input line is there, in order (a subsequence check).
	j := 0
	for _, l := range got {
		if j < len(lines) && l == lines[j] {
			j++
		}
	}
	if j != len(lines) {
		t.Fatalf("output misses input line %d (%q)", j, lines[j])
	}
	t.Logf("final output %d lines for %d input lines: %d repeated", len(got), n, len(got)-n)
}
