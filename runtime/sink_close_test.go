package runtime_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// closeSink is a sink task that implements connector.SinkPartitionCloser
// only (not SinkPreCommitter), as the JDBC sink does, and records the
// partitions it is told to close.
type closeSink struct {
	mu     *sync.Mutex
	closed *[]connector.TopicPartition
}

func (p closeSink) Class() string                         { return "test.CloseSink" }
func (p closeSink) Aliases() []string                     { return nil }
func (p closeSink) Type() connector.Type                  { return connector.Sink }
func (p closeSink) Version() string                       { return "1" }
func (p closeSink) Config() *config.Def                   { return config.NewDef() }
func (p closeSink) Validate(*config.Values) config.Errors { return nil }
func (p closeSink) NewTask() connector.SinkTask           { return p }
func (p closeSink) TaskConfigs(_ context.Context, cfg map[string]string, _ int) ([]map[string]string, error) {
	return []map[string]string{cfg}, nil
}
func (p closeSink) Start(context.Context, map[string]string, connector.TaskContext) error { return nil }
func (p closeSink) Put(context.Context, []schema.Record) error                            { return nil }
func (p closeSink) Flush(context.Context) error                                           { return nil }
func (p closeSink) Stop() error                                                           { return nil }

func (p closeSink) ClosePartitions(_ context.Context, parts []connector.TopicPartition) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	*p.closed = append(*p.closed, parts...)
	return nil
}

// TestSinkClosesRevokedPartitions: when another member of the sink's
// consumer group takes a partition, the runtime tells the task
// (Connect's SinkTask.close) even when it implements only
// connector.SinkPartitionCloser, so it can drop what it buffers for it.
func TestSinkClosesRevokedPartitions(t *testing.T) {
	var (
		mu     sync.Mutex
		closed []connector.TopicPartition
	)
	w := newWorker(t, t.TempDir(), nil, closeSink{&mu, &closed})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "closing"); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateConnector(ctx, "closer", map[string]string{"connector.class": "test.CloseSink", "topics": "closing"}); err != nil {
		t.Fatal(err)
	}
	// Wait until the task's consumer owns both partitions.
	adm := kadm.NewClient(cl)
	waitFor(t, "the sink's consumer group to be stable", time.Minute, func() bool {
		gs, err := adm.DescribeGroups(ctx, "connect-closer")
		if err != nil {
			return false
		}
		g := gs["connect-closer"]
		return g.State == "Stable" && len(g.Members) == 1
	})
	// A second member joins the group: the cooperative balancer moves one
	// partition to it, revoking it from the task.
	other, err := w.KafkaClient(kgo.ConsumerGroup("connect-closer"), kgo.ConsumeTopics("closing"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() {
		for ctx.Err() == nil {
			if other.PollFetches(ctx).IsClientClosed() {
				return
			}
		}
	}()
	waitFor(t, "ClosePartitions for the revoked partition", time.Minute, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(closed) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	for _, p := range closed {
		if p.Topic != "closing" || p.Partition < 0 || p.Partition > 1 {
			t.Errorf("closed %v, not a partition of topic closing", p)
		}
	}
}
