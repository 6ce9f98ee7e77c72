package kafka

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The kill -9 test runs two child processes, both this test binary re-executed
// into TestHelperProcess: the embedded broker (StartEmbedded on a data
// directory, as `replicate standalone` runs it) and an independent producer
// (franz-go, acks=all, idempotent, auto-creating topics like kcat or the Java
// client) that prints every acknowledged record.
const (
	helperEnv     = "TRIBUTARY_KAFKA_HELPER" // "broker" or "producer"
	helperPort    = "TRIBUTARY_KAFKA_HELPER_PORT"
	helperDir     = "TRIBUTARY_KAFKA_HELPER_DIR"
	existingName  = "existing"  // created by Tributary's path (EnsureTopics) before the producer starts
	compactedName = "compacted" // the same, cleanup.policy=compact
	// newTopicEvery: the producer moves its odd records to a new,
	// auto-created topic every this many records, so kills land while topics
	// are being created too.
	newTopicEvery = 1000
)

// TestHelperProcess is the child process of TestEmbeddedKill9KeepsAcknowledgedRecords;
// without its environment variable it does nothing.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "broker":
		helperBroker()
	case "producer":
		helperProducer()
	default:
		return
	}
	os.Exit(0)
}

func helperBroker() {
	port, _ := strconv.Atoi(os.Getenv(helperPort))
	e, err := StartEmbedded(EmbeddedConfig{Port: port, DataDir: os.Getenv(helperDir)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		os.Exit(2)
	}
	fmt.Printf("listening %s\n", e.Addrs()[0])
	select {} // until killed
}

// recordFor is the record the producer sends as number seq: a key, a header
// and a value with arbitrary bytes (0x00, 0xff, invalid UTF-8), all derived
// from seq so the parent can check them byte for byte.
func recordFor(seq int64) *kgo.Record {
	topic, key := existingName, "k"+strconv.FormatInt(seq%37, 10)
	switch {
	case seq%2 == 1:
		topic = fmt.Sprintf("auto-%04d", seq/newTopicEvery)
	case seq%4 == 2: // unique keys: compaction must keep every record
		topic, key = compactedName, "c"+strconv.FormatInt(seq, 10)
	}
	rng := rand.New(rand.NewPCG(uint64(seq), 0x9e3779b97f4a7c15))
	val := make([]byte, rng.IntN(400))
	for i := range val {
		val[i] = byte(rng.Uint32())
	}
	val = append([]byte(fmt.Sprintf("%s|%d|", topic, seq)), val...)
	return &kgo.Record{
		Topic:   topic,
		Key:     []byte(key),
		Value:   val,
		Headers: []kgo.RecordHeader{{Key: "seq", Value: []byte(strconv.FormatInt(seq, 10))}},
	}
}

func helperProducer() {
	addr := "127.0.0.1:" + os.Getenv(helperPort)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowAutoTopicCreation(),
		kgo.ProducerLinger(2*time.Millisecond),
		kgo.MaxBufferedRecords(2000),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	flush := time.NewTicker(5 * time.Millisecond)
	go func() {
		for range flush.C {
			mu.Lock()
			out.Flush()
			mu.Unlock()
		}
	}()
	stop := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stop) }() // the parent closes stdin to stop us
	ctx := context.Background()
	for seq := int64(0); ; seq++ {
		select {
		case <-stop:
			fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			err := cl.Flush(fctx)
			cancel()
			cl.Close()
			mu.Lock()
			fmt.Fprintf(out, "DONE %d %v\n", seq, err)
			out.Flush()
			mu.Unlock()
			return
		default:
		}
		cl.Produce(ctx, recordFor(seq), func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fmt.Fprintf(out, "ERR %s %q\n", r.Headers[0].Value, err.Error())
				return
			}
			fmt.Fprintf(out, "ACK %s %d %d %s\n", r.Topic, r.Partition, r.Offset, r.Headers[0].Value)
		})
	}
}

// child is a running helper process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	exited chan struct{}
}

func startChild(t *testing.T, role, port, dir string, logName string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	if bin := os.Getenv(replicateEnv); bin != "" && role == "broker" {
		cmd = exec.Command(bin, "standalone", workerProperties(t, port, dir))
	}
	cmd.Env = append(os.Environ(), helperEnv+"="+role, helperPort+"="+port, helperDir+"="+dir)
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(dir), logName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 1<<16), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-c.exited })
	return c
}

// waitReady waits until the broker at addr answers a metadata request.
func (c *child) waitReady(t *testing.T, addr string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	go func() {
		for range c.lines { // the broker's stdout: not needed
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-c.exited:
			t.Fatal("broker exited before it was ready")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := cl.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker not ready within 60s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replicateEnv names a replicate binary: when set, the broker process killed
// is `replicate standalone` with bootstrap.servers=embedded (the worker),
// rather than this test binary running StartEmbedded alone.
const replicateEnv = "TRIBUTARY_KILL9_REPLICATE"

// workerProperties writes a standalone worker config whose embedded broker
// listens on port with its data in dir.
func workerProperties(t *testing.T, port, dir string) string {
	t.Helper()
	base := filepath.Dir(dir)
	path := filepath.Join(base, "worker.properties")
	rest := freeTCPPort(t)
	props := fmt.Sprintf("bootstrap.servers=embedded\nembedded.broker.port=%s\nembedded.broker.data.dir=%s\n"+
		"key.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\n"+
		"offset.storage.file.filename=%s\nlisteners=http://127.0.0.1:%d\n",
		port, dir, filepath.Join(base, "connect.offsets"), rest)
	if err := os.WriteFile(path, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type ackedRec struct {
	topic     string
	partition int32
	offset    int64
	seq       int64
}

// TestEmbeddedKill9KeepsAcknowledgedRecords kills the broker process with
// SIGKILL at random moments while an independent producer process writes with
// acks=all to an existing topic and to topics it auto-creates. After every
// restart, each record acknowledged before the kill must be in the log at its
// acknowledged offset, byte-identical (key, value, headers), in the order it
// was produced. TRIBUTARY_KILL9_KILLS sets the number of kills (default 12);
// TRIBUTARY_KILL9_REPLICATE=<path to a replicate binary> kills the worker
// (`replicate standalone`, bootstrap.servers=embedded) instead of a process
// running only the embedded broker.
func TestEmbeddedKill9KeepsAcknowledgedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test")
	}
	kills := 12
	if v, err := strconv.Atoi(os.Getenv("TRIBUTARY_KILL9_KILLS")); err == nil && v > 0 {
		kills = v
	}
	base := t.TempDir()
	dir := filepath.Join(base, "broker")
	port := strconv.Itoa(freeTCPPort(t))
	addr := "127.0.0.1:" + port
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	broker := startChild(t, "broker", port, dir, "broker.log")
	broker.waitReady(t, addr)
	admin, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, admin, TopicSpec{Name: existingName, Partitions: 3, ReplicationFactor: -1}, Compacted(compactedName, 1, -1)); err != nil {
		t.Fatal(err)
	}
	admin.Close()

	producer := startChild(t, "producer", port, dir, "producer.log")
	var (
		mu      sync.Mutex
		acked   []ackedRec
		errs    []string
		done    = make(chan string, 1)
		readerD = make(chan struct{})
	)
	go func() {
		defer close(readerD)
		for l := range producer.lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 5 && f[0] == "ACK":
				p, _ := strconv.Atoi(f[2])
				off, _ := strconv.ParseInt(f[3], 10, 64)
				seq, _ := strconv.ParseInt(f[4], 10, 64)
				mu.Lock()
				acked = append(acked, ackedRec{f[1], int32(p), off, seq})
				mu.Unlock()
			case len(f) > 0 && f[0] == "ERR":
				mu.Lock()
				errs = append(errs, l)
				mu.Unlock()
			case len(f) > 0 && f[0] == "DONE":
				done <- l
			}
		}
	}()
	snapshot := func() []ackedRec {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(acked)
	}

	start := time.Now()
	checked := 0
	var down time.Duration
	for k := 1; k <= kills; k++ {
		before := len(snapshot())
		// Let the producer get going again after the last restart, then
		// kill at a random moment.
		for deadline := time.Now().Add(30 * time.Second); len(snapshot()) < before+200; {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: the producer acknowledged nothing for 30s after the restart (%d acked)", k, before)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond)
		if err := broker.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-broker.exited
		killedAt := time.Now()
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		broker = startChild(t, "broker", port, dir, "broker.log")
		broker.waitReady(t, addr)
		down += time.Since(killedAt)
		// Every record acknowledged before the kill (and any since).
		recs := snapshot()
		checked += verifyAcked(ctx, t, addr, recs, fmt.Sprintf("after kill %d", k))
		if t.Failed() {
			t.FailNow()
		}
	}
	producer.stdin.Close()
	select {
	case l := <-done:
		t.Logf("producer: %s", l)
	case <-time.After(90 * time.Second):
		t.Fatal("producer did not finish")
	}
	<-readerD
	elapsed := time.Since(start)
	recs := snapshot()
	checked += verifyAcked(ctx, t, addr, recs, "at the end")
	topics, auto := map[string]bool{}, 0
	for _, r := range recs {
		if !topics[r.topic] && strings.HasPrefix(r.topic, "auto-") {
			auto++
		}
		topics[r.topic] = true
	}
	mu.Lock()
	nerrs := len(errs)
	if nerrs > 0 {
		t.Logf("%d produce errors (not acknowledged, so not checked), first: %s", nerrs, errs[0])
	}
	mu.Unlock()
	t.Logf("%d kills; %d records acknowledged in %d topics (%d auto-created); %d record checks; %.0f acked records/s over %s (broker down %s in total)",
		kills, len(recs), len(topics), auto, checked, float64(len(recs))/elapsed.Seconds(), elapsed.Round(time.Millisecond), down.Round(time.Millisecond))
	if auto < 2 {
		t.Errorf("only %d auto-created topics saw records; the test did not exercise auto-creation", auto)
	}
}

// verifyAcked reads every topic of recs from the start and checks that each
// acknowledged record is at its offset, byte-identical to what was produced,
// and that per partition the acknowledged records are in production order.
// It returns the number of records checked.
func verifyAcked(ctx context.Context, t *testing.T, addr string, recs []ackedRec, when string) int {
	t.Helper()
	byTopic := map[string][]ackedRec{}
	for _, r := range recs {
		byTopic[r.topic] = append(byTopic[r.topic], r)
	}
	topics := make([]string, 0, len(byTopic))
	for tp := range byTopic {
		topics = append(topics, tp)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatalf("%s: list end offsets: %v", when, err)
	}
	type tp struct {
		topic string
		p     int32
	}
	want := map[tp]int64{}
	var total int64
	for _, topic := range topics {
		if _, ok := ends[topic]; !ok {
			t.Errorf("%s: topic %s with %d acknowledged records is gone", when, topic, len(byTopic[topic]))
		}
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Errorf("%s: end offset of %s/%d: %v", when, o.Topic, o.Partition, o.Err)
			return
		}
		want[tp{o.Topic, o.Partition}] = o.Offset
		total += o.Offset
	})
	if t.Failed() {
		return 0
	}
	got := map[tp]map[int64]*kgo.Record{}
	var n int64
	// Read until every partition's position reached its end offset; a
	// partition whose log has holes (records lost) may never get there, so
	// stop after 3s without progress and let the checks below name them.
	pending := 0
	for _, end := range want {
		if end > 0 {
			pending++
		}
	}
	next := map[tp]int64{}
	idle := time.Now()
	for pending > 0 && time.Since(idle) < 3*time.Second {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: read: %v (%d of %d records)", when, err, n, total)
		}
		fs.EachRecord(func(r *kgo.Record) {
			idle = time.Now()
			k := tp{r.Topic, r.Partition}
			if r.Offset >= want[k] {
				return
			}
			if got[k] == nil {
				got[k] = map[int64]*kgo.Record{}
			}
			if _, dup := got[k][r.Offset]; !dup {
				got[k][r.Offset] = r
				n++
			}
			if r.Offset+1 > next[k] {
				if next[k] < want[k] && r.Offset+1 >= want[k] {
					pending--
				}
				next[k] = r.Offset + 1
			}
		})
	}
	checked := 0
	for topic, rs := range byTopic {
		slices.SortFunc(rs, func(a, b ackedRec) int { return int(a.seq - b.seq) })
		last := map[int32]int64{}
		for _, a := range rs {
			if prev, ok := last[a.partition]; ok && a.offset <= prev {
				t.Errorf("%s: %s/%d: record %d acknowledged at offset %d, not after the earlier record at %d", when, topic, a.partition, a.seq, a.offset, prev)
			}
			last[a.partition] = a.offset
			r := got[tp{topic, a.partition}][a.offset]
			if r == nil {
				t.Errorf("%s: %s/%d offset %d (record %d) acknowledged but missing (end offset %d)", when, topic, a.partition, a.offset, a.seq, want[tp{topic, a.partition}])
				continue
			}
			exp := recordFor(a.seq)
			if !bytes.Equal(r.Key, exp.Key) || !bytes.Equal(r.Value, exp.Value) || len(r.Headers) != 1 ||
				r.Headers[0].Key != exp.Headers[0].Key || !bytes.Equal(r.Headers[0].Value, exp.Headers[0].Value) {
				t.Errorf("%s: %s/%d offset %d is not record %d as produced: key %q value %.40q headers %v", when, topic, a.partition, a.offset, a.seq, r.Key, r.Value, r.Headers)
				continue
			}
			checked++
		}
	}
	return checked
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
