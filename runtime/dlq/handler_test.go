package dlq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime/metrics"
	"github.com/tributary-cdc/tributary/schema"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig(map[string]string{
		KeyTolerance: "ALL", KeyRetryTimeout: "-1", KeyRetryDelayMax: "1000", KeyTopic: "dlq",
		KeyReplication: "1", KeyContextHeaders: "true", KeyLogEnable: "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Tolerance != ToleranceAll || c.RetryTimeout >= 0 || c.RetryDelayMax != time.Second || c.Topic != "dlq" || c.ReplicationFactor != 1 || !c.ContextHeaders || !c.LogEnable {
		t.Fatalf("parsed %+v", c)
	}
	d, err := ParseConfig(map[string]string{})
	if err != nil || d.Tolerance != ToleranceNone || d.RetryTimeout != 0 || d.RetryDelayMax != time.Minute || d.ReplicationFactor != 3 {
		t.Fatalf("defaults %+v %v", d, err)
	}
	_, err = ParseConfig(map[string]string{KeyTolerance: "some", KeyRetryTimeout: "soon", KeyReplication: "0"})
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want three key errors, got %v", err)
	}
	if !strings.Contains(es.Error(), "String must be one of: none, all") {
		t.Errorf("enum message: %v", es)
	}
}

type broker struct {
	cl  *kgo.Client
	adm *kadm.Client
	c   *kfake.Cluster
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &broker{cl: cl, adm: kadm.NewClient(cl), c: c}
}

func (b *broker) readAll(t *testing.T, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.c.ListenAddrs()...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s", len(out), n, topic)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func header(r *kgo.Record, k string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value), true
		}
	}
	return "", false
}

func TestExecuteToleranceAllDeadLetters(t *testing.T) {
	b := newBroker(t)
	reg := metrics.New()
	cfg, _ := ParseConfig(map[string]string{KeyTolerance: "all", KeyTopic: "my-dlq", KeyReplication: "3", KeyContextHeaders: "true", KeyLogEnable: "true"})
	h := New(cfg, Options{Connector: "sink-a", Task: 2, Producer: b.cl, Admin: b.cl, Metrics: reg.Task("sink-a", 2)})
	ctx := context.Background()
	raw := &kgo.Record{Topic: "orders", Partition: 4, Offset: 17, Key: []byte("k1"), Value: []byte("{not json"),
		Headers: []kgo.RecordHeader{{Key: "trace-id", Value: []byte("abc")}}, Timestamp: time.UnixMilli(1700000000000)}
	ok, err := h.Execute(ctx, StageValueConverter, "org.apache.kafka.connect.json.JsonConverter", raw, func(context.Context) error {
		return fmt.Errorf("Converting byte[] to Kafka Connect data failed due to serialization error: %w", errors.New("unexpected end of JSON input"))
	})
	if ok || err != nil {
		t.Fatalf("Execute = %v, %v; want tolerated skip", ok, err)
	}
	ok, err = h.Execute(ctx, StageValueConverter, "x", raw, func(context.Context) error { return nil })
	if !ok || err != nil {
		t.Fatalf("good record: %v %v", ok, err)
	}

	recs := b.readAll(t, "my-dlq", 1)
	r := recs[0]
	if string(r.Key) != "k1" || string(r.Value) != "{not json" || r.Timestamp.UnixMilli() != 1700000000000 {
		t.Errorf("DLQ record is not the original: %q %q %v", r.Key, r.Value, r.Timestamp)
	}
	want := map[string]string{
		"trace-id":             "abc",
		HeaderTopic:            "orders",
		HeaderPartition:        "4",
		HeaderOffset:           "17",
		HeaderConnectorName:    "sink-a",
		HeaderTaskID:           "2",
		HeaderStage:            "VALUE_CONVERTER",
		HeaderExecutingClass:   "org.apache.kafka.connect.json.JsonConverter",
		HeaderExceptionClass:   "org.apache.kafka.connect.errors.DataException",
		HeaderExceptionMessage: "Converting byte[] to Kafka Connect data failed due to serialization error: unexpected end of JSON input",
	}
	for k, v := range want {
		if got, ok := header(r, k); !ok || got != v {
			t.Errorf("header %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if st, _ := header(r, HeaderExceptionStacktrace); !strings.HasPrefix(st, "org.apache.kafka.connect.errors.DataException: Converting byte[]") || !strings.Contains(st, "unexpected end of JSON input") {
		t.Errorf("stacktrace header %q", st)
	}
}

func TestToleranceNoneFails(t *testing.T) {
	cfg, _ := ParseConfig(map[string]string{})
	h := New(cfg, Options{Connector: "c", Task: 0})
	raw := &kgo.Record{Topic: "t", Offset: 3}
	ok, err := h.Execute(context.Background(), StageKeyConverter, "conv", raw, func(context.Context) error { return errors.New("bad key") })
	var te *ToleranceExceededError
	if ok || !errors.As(err, &te) || te.Stage != StageKeyConverter {
		t.Fatalf("got %v %v", ok, err)
	}
	tr := Trace(err)
	if tr != "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler (stage KEY_CONVERTER, class conv)\n"+
		"Caused by: org.apache.kafka.connect.errors.DataException: bad key" {
		t.Errorf("trace %q", tr)
	}
}

func TestTaskReporter(t *testing.T) {
	b := newBroker(t)
	cfg, _ := ParseConfig(map[string]string{KeyTolerance: "all", KeyTopic: "dlq2", KeyReplication: "1", KeyContextHeaders: "true"})
	h := New(cfg, Options{Connector: "jdbc-sink", Task: 0, Producer: b.cl, Admin: b.cl})
	raw := &kgo.Record{Topic: "orders", Partition: 0, Offset: 5, Value: []byte("v")}
	report := h.TaskReporter("io.confluent.connect.jdbc.JdbcSinkConnector", func(r schema.Record) *kgo.Record {
		if r.Topic == "orders" && r.Offset == 5 {
			return raw
		}
		return nil
	})
	if err := report(context.Background(), schema.Record{Topic: "orders", Offset: 5}, errors.New("value too long for column")); err != nil {
		t.Fatal(err)
	}
	r := b.readAll(t, "dlq2", 1)[0]
	if st, _ := header(r, HeaderStage); st != "TASK_PUT" || string(r.Value) != "v" {
		t.Errorf("stage %q value %q", st, r.Value)
	}
	if c, _ := header(r, HeaderExceptionClass); c != "org.apache.kafka.connect.errors.ConnectException" {
		t.Errorf("exception class %q", c)
	}
}

func TestRetry(t *testing.T) {
	cfg, _ := ParseConfig(map[string]string{KeyRetryTimeout: "5000", KeyRetryDelayMax: "1"})
	h := New(cfg, Options{})
	n := 0
	err := h.Retry(context.Background(), func(context.Context) error {
		if n++; n < 3 {
			return connector.Retriable(errors.New("connection refused"))
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("err %v after %d calls", err, n)
	}
	n = 0
	err = h.Retry(context.Background(), func(context.Context) error { n++; return errors.New("permanent") })
	if err == nil || n != 1 {
		t.Fatalf("non-retriable retried: %d", n)
	}
	// errors.retry.timeout=0: no retries.
	h0 := New(Config{RetryDelayMax: time.Millisecond}, Options{})
	n = 0
	_ = h0.Retry(context.Background(), func(context.Context) error { n++; return connector.Retriable(errors.New("x")) })
	if n != 1 {
		t.Fatalf("retried with timeout 0: %d calls", n)
	}
	// Timeout ends retries.
	ht := New(Config{RetryTimeout: 30 * time.Millisecond, RetryDelayMax: 5 * time.Millisecond}, Options{})
	start := time.Now()
	err = ht.Retry(context.Background(), func(context.Context) error { return connector.Retriable(errors.New("down")) })
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("retry timeout not honoured: %v after %v", err, time.Since(start))
	}
}

func TestRetryPutRetriesUntilSuccess(t *testing.T) {
	h := New(Config{RetryDelayMax: time.Millisecond}, Options{Connector: "s"})
	n := 0
	err := h.RetryPut(context.Background(), func(context.Context) error {
		if n++; n < 5 {
			return connector.Retriable(errors.New("database is down"))
		}
		return nil
	})
	if err != nil || n != 5 {
		t.Fatalf("err %v after %d", err, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = h.RetryPut(ctx, func(context.Context) error { return connector.Retriable(errors.New("still down")) })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still down") {
		t.Fatalf("err %v", err)
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	prev := time.Duration(0)
	for i := 0; i < 10; i++ {
		d := b.Next()
		if d > time.Second || d < 100*time.Millisecond {
			t.Fatalf("delay %v out of range", d)
		}
		if i < 3 && d < prev {
			t.Fatalf("not growing: %v after %v", d, prev)
		}
		prev = d
	}
}

func TestTrace(t *testing.T) {
	if Trace(nil) != "" {
		t.Error("nil trace")
	}
	root := errors.New("connection refused")
	err := fmt.Errorf("start task: %w", fmt.Errorf("open db: %w", root))
	if got := Trace(err); got != "org.apache.kafka.connect.errors.ConnectException: start task: open db: connection refused" {
		t.Errorf("trace %q", got)
	}
	type libErr struct{ error }
	err = fmt.Errorf("put: %w", &libErr{errors.New("duplicate key")})
	if got := Trace(fmt.Errorf("task failed: %w", errors.Join(err))); !strings.Contains(got, "task failed: put: duplicate key") {
		t.Errorf("trace %q", got)
	}
}
