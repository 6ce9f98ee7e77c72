package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// crashImage copies a running broker's data directory, which is what a
// kill -9 leaves on disk: everything written so far, nothing flushed at
// shutdown. The broker must be idle while it is copied.
func crashImage(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "crash")
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func startEmbedded(t *testing.T, dir string) *Embedded {
	t.Helper()
	e, err := StartEmbedded(EmbeddedConfig{Port: 0, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// produceAuto produces values to topic as an outside producer does: acks=all
// and topic auto-creation through Metadata, as kcat and the Java client do.
func produceAuto(ctx context.Context, t *testing.T, e *Embedded, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...), kgo.AllowAutoTopicCreation(), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// readAll reads topic from the start to its end offsets.
func readAll(ctx context.Context, t *testing.T, e *Embedded, topic string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s: %v", topic, o.Err)
		}
		want += o.Offset
	})
	var got []string
	for int64(len(got)) < want {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func topicNames(ctx context.Context, t *testing.T, e *Embedded) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return td.Names()
}

// The tutorial flow: a producer writes into orders, which does not exist
// yet, so the broker auto-creates it. The topic and its records must survive
// a crash (the on-disk image of a running broker) and a graceful restart.
func TestEmbeddedAutoCreatedTopicSurvivesCrashAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "broker")
	e := startEmbedded(t, dir)
	want := []string{`{"id":1}`, `{"id":2}`, `{"id":3}`}
	produceAuto(ctx, t, e, "orders", want...)

	crashed := startEmbedded(t, crashImage(t, dir))
	if got := readAll(ctx, t, crashed, "orders"); !equal(got, want) {
		t.Errorf("after a crash: orders holds %q, want %q (topics: %v)", got, want, topicNames(ctx, t, crashed))
	}
	crashed.Close()

	e.Close()
	e = startEmbedded(t, dir)
	if got := readAll(ctx, t, e, "orders"); !equal(got, want) {
		t.Errorf("after a restart: orders holds %q, want %q", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Kafka's Topic.validate: [a-zA-Z0-9._-], 1..249 characters, not "." or "..".
func TestEmbeddedRejectsInvalidTopicNames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := startEmbedded(t, filepath.Join(t.TempDir(), "broker"))
	invalid := []string{"", ".", "..", "a/b", "../escape", "with space", "tab\t", "ümlaut", "colon:x", "star*", strings.Repeat("x", 250)}
	valid := []string{strings.Repeat("y", 249), "a.b_c-D9", "...", "-_-"}
	for _, n := range invalid {
		if ValidateTopicName(n) == nil {
			t.Errorf("ValidateTopicName(%q) = nil", n)
		}
	}
	for _, n := range valid {
		if err := ValidateTopicName(n); err != nil {
			t.Errorf("ValidateTopicName(%q) = %v", n, err)
		}
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	// CreateTopics: each invalid name alone, then all together with a valid one.
	for _, n := range invalid {
		resp, err := adm.CreateTopics(ctx, 1, -1, nil, n)
		if err != nil {
			t.Fatalf("CreateTopics(%q): %v", n, err)
		}
		if r := resp[n]; !errors.Is(r.Err, kerr.InvalidTopicException) {
			t.Errorf("CreateTopics(%q) = %v, want INVALID_TOPIC_EXCEPTION", n, r.Err)
		}
	}
	resp, err := adm.CreateTopics(ctx, 1, -1, nil, append([]string{valid[0]}, invalid[1:4]...)...)
	if err != nil {
		t.Fatal(err)
	}
	for n, r := range resp {
		if n == valid[0] {
			if r.Err != nil {
				t.Errorf("CreateTopics(%q) beside invalid names: %v", n, r.Err)
			}
		} else if !errors.Is(r.Err, kerr.InvalidTopicException) {
			t.Errorf("CreateTopics(%q) beside a valid name = %v, want INVALID_TOPIC_EXCEPTION", n, r.Err)
		}
	}

	// Produce with auto-creation.
	for _, n := range invalid[1:] { // franz-go refuses an empty topic itself
		err := cl.ProduceSync(ctx, &kgo.Record{Topic: n, Value: []byte("v")}).FirstErr()
		if !errors.Is(err, kerr.InvalidTopicException) {
			t.Errorf("produce to %q: %v, want INVALID_TOPIC_EXCEPTION", n, err)
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: valid[1], Value: []byte("v")}).FirstErr(); err != nil {
		t.Errorf("produce to %q: %v", valid[1], err)
	}
	names := topicNames(ctx, t, e)
	for _, n := range names {
		if ValidateTopicName(n) != nil {
			t.Errorf("invalid topic %q exists", n)
		}
	}
	for _, n := range valid[:2] {
		if !contains(strings.Join(names, "\n")+"\n", n+"\n") {
			t.Errorf("topic %q missing from %v", n, names)
		}
	}
}

// A data directory written before auto-created topics were persisted: the
// topic's segments are on disk, topics.json does not list it. The broker
// puts it back instead of starting without it (and later appending a new
// topic's batches to its old segment files).
func TestEmbeddedRecoversTopicsMissingFromTopicsJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "broker")
	e := startEmbedded(t, dir)
	produceAuto(ctx, t, e, "orders", "a", "b")
	produceAuto(ctx, t, e, "kept", "k")
	img := crashImage(t, dir)
	e.Close()

	// Drop orders from topics.json, as the old version left it.
	path := filepath.Join(img, "topics.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, tp := range doc["topics"].([]any) {
		if tp.(map[string]any)["name"] != "orders" {
			kept = append(kept, tp)
		}
	}
	doc["topics"] = kept
	raw, _ = json.Marshal(doc)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	e = startEmbedded(t, img)
	if got := readAll(ctx, t, e, "orders"); !equal(got, []string{"a", "b"}) {
		t.Errorf("recovered orders holds %q", got)
	}
	if got := readAll(ctx, t, e, "kept"); !equal(got, []string{"k"}) {
		t.Errorf("kept holds %q", got)
	}
	produceAuto(ctx, t, e, "orders", "c")
	e.Close()
	e = startEmbedded(t, img)
	if got := readAll(ctx, t, e, "orders"); !equal(got, []string{"a", "b", "c"}) {
		t.Errorf("orders after another restart holds %q", got)
	}
}

// kfake only logs a failed topics.json write, leaving a topic that exists in
// memory only. The broker must then refuse to acknowledge records (and say
// so) rather than take records a restart loses.
func TestEmbeddedFailsLoudlyWhenTopicsCannotBePersisted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "broker")
	var logs bytes.Buffer
	e, err := StartEmbedded(EmbeddedConfig{DataDir: dir, Logger: newTestLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	produceAuto(ctx, t, e, "before", "x")
	// A directory where kfake writes topics.json.tmp fails the write, even as root.
	if err := os.Mkdir(filepath.Join(dir, "topics.json.tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: "during", Value: []byte("y")}).FirstErr()
	if err == nil {
		t.Fatal("a record to a topic that could not be persisted was acknowledged")
	}
	if !errors.Is(e.Err(), ErrEmbeddedStorage) {
		t.Errorf("Err() = %v", e.Err())
	}
	// KAFKA_STORAGE_ERROR is retriable: the client retries until its
	// delivery timeout.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "before", Value: []byte("z")}).FirstErr(); err == nil {
		t.Error("a record to an existing topic was acknowledged after the failure")
	}
	if !strings.Contains(logs.String(), "could not persist the topic list") {
		t.Errorf("no error logged:\n%s", logs.String())
	}
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// BenchmarkEmbeddedProduce measures acks=all produce throughput into the
// persisted (fsync per batch) embedded broker, to a topic the producer
// auto-creates.
func BenchmarkEmbeddedProduce(b *testing.B) {
	e, err := StartEmbedded(EmbeddedConfig{Port: 0, DataDir: filepath.Join(b.TempDir(), "broker")})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	val := bytes.Repeat([]byte("v"), 200)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "bench", Value: val}).FirstErr(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: "bench", Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// kfake compacts by deleting a partition's segment files and writing the kept
// batches anew: a crash in between loses acknowledged records, so the
// embedded broker does not compact. A compacted topic keeps every record and
// its segment file is never replaced (the same inode after kfake's former
// one-second compaction interval passed twice).
func TestEmbeddedNeverRewritesSegments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "broker")
	e := startEmbedded(t, dir)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := EnsureTopics(ctx, cl, Compacted("state", 1, -1)); err != nil {
		t.Fatal(err)
	}
	want := []string{"v1", "v2", "v3"}
	for _, v := range want { // one batch each, same key
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "state", Key: []byte("k"), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	seg := filepath.Join(dir, "partitions", "state-0", "0.dat")
	before, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	after, err := os.Stat(seg)
	if err != nil {
		t.Fatalf("segment gone: %v", err)
	}
	if !os.SameFile(before, after) {
		t.Error("the segment file was replaced (compacted in place)")
	}
	if got := readAll(ctx, t, e, "state"); !equal(got, want) {
		t.Errorf("state holds %q, want %q", got, want)
	}
}
