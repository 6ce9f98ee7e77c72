package runtime_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/filestream"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/dlq"
	"github.com/tributary-cdc/tributary/schema"
)

// lateReportSink buffers every Put and, at Flush, reports the records whose
// value is "bad" — as a JDBC sink does when a batch that spans several Puts
// fails and is retried row by row at commit time.
type lateReportSink struct {
	mu      *sync.Mutex
	buf     *[]schema.Record
	applied *[]string
	tc      *connector.TaskContext
}

func (p lateReportSink) Class() string                         { return "test.LateReportSink" }
func (p lateReportSink) Aliases() []string                     { return nil }
func (p lateReportSink) Type() connector.Type                  { return connector.Sink }
func (p lateReportSink) Version() string                       { return "1" }
func (p lateReportSink) Config() *config.Def                   { return config.NewDef() }
func (p lateReportSink) Validate(*config.Values) config.Errors { return nil }
func (p lateReportSink) NewTask() connector.SinkTask           { return p }
func (p lateReportSink) Stop() error                           { return nil }
func (p lateReportSink) TaskConfigs(_ context.Context, cfg map[string]string, _ int) ([]map[string]string, error) {
	return []map[string]string{cfg}, nil
}

func (p lateReportSink) Start(_ context.Context, _ map[string]string, tc connector.TaskContext) error {
	p.mu.Lock()
	*p.tc = tc
	p.mu.Unlock()
	return nil
}

func (p lateReportSink) Put(_ context.Context, recs []schema.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	*p.buf = append(*p.buf, recs...)
	return nil
}

func (p lateReportSink) Flush(ctx context.Context) error {
	p.mu.Lock()
	buf := *p.buf
	*p.buf = nil
	tc := *p.tc
	p.mu.Unlock()
	for _, r := range buf {
		if r.Value == "bad" {
			if err := tc.Report(ctx, r, errors.New("constraint violated")); err != nil {
				return err
			}
			continue
		}
		p.mu.Lock()
		*p.applied = append(*p.applied, r.Value.(string))
		p.mu.Unlock()
	}
	return nil
}

// TestReportAfterPutKeepsRawBytes: a record reported at Flush, after the Put
// that delivered it returned, still reaches the DLQ with its original bytes
// and context headers, and offsets pass it.
func TestReportAfterPutKeepsRawBytes(t *testing.T) {
	var (
		mu      sync.Mutex
		buf     []schema.Record
		applied []string
		tc      connector.TaskContext
	)
	sink := lateReportSink{&mu, &buf, &applied, &tc}
	e := startRESTWorker(t, t.TempDir(), nil, func(o *runtime.Options) {
		o.Registry = connector.NewRegistry(filestream.Source{}, filestream.Sink{}, sink)
	})
	cl, err := e.w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	values := []string{"g0", "bad", "g2", "bad", "g4"}
	for i, v := range values {
		rec := &kgo.Record{Topic: "orders", Key: []byte{byte('0' + i)}, Value: []byte(v)}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	e.call(t, "PUT", "/connectors/late/config", map[string]string{
		"connector.class": "test.LateReportSink", "topics": "orders",
		"key.converter":    "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":  "org.apache.kafka.connect.storage.StringConverter",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "late-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable":   "true",
	}, 201, nil)
	waitFor(t, "offsets past every record", 30*time.Second, func() bool {
		n, ok := sinkOffset(t, e, "late")
		return ok && n == int64(len(values))
	})
	dc, err := e.w.KafkaClient(kgo.ConsumeTopics("late-dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var dead []*kgo.Record
	for len(dead) < 2 && pctx.Err() == nil {
		dc.PollFetches(pctx).EachRecord(func(r *kgo.Record) { dead = append(dead, r) })
	}
	if len(dead) != 2 {
		t.Fatalf("%d records on the DLQ, want 2", len(dead))
	}
	for i, want := range []string{"1", "3"} {
		r := dead[i]
		h := map[string]string{}
		for _, hd := range r.Headers {
			h[hd.Key] = string(hd.Value)
		}
		if string(r.Value) != "bad" || string(r.Key) != want {
			t.Errorf("DLQ record %d: key %q value %q, want the original bytes (key %q, value \"bad\")", i, r.Key, r.Value, want)
		}
		if h[dlq.HeaderOffset] != want || h[dlq.HeaderStage] != "TASK_PUT" || h[dlq.HeaderTopic] != "orders" {
			t.Errorf("DLQ record %d headers %v", i, h)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(applied) != 3 {
		t.Errorf("applied %v, want the three good records", applied)
	}
}
