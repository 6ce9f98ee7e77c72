package configstore

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaStore(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	newClient := func(opts ...kgo.Opt) (*kgo.Client, error) {
		return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k, err := OpenKafka(ctx, newClient, "connect-configs", 3)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(k.PutConfig(ctx, "a", map[string]string{"connector.class": "FileStreamSource", "topic": "t"}))
	must(k.PutConfig(ctx, "b", map[string]string{"connector.class": "FileStreamSink", "topics": "t"}))
	must(k.PutTarget(ctx, "a", TargetPaused))
	must(k.PutConfig(ctx, "a", map[string]string{"connector.class": "FileStreamSource", "topic": "t2"}))
	must(k.Delete(ctx, "b"))
	must(k.Close())

	// Another store (a restarted or second worker) reads the same state.
	k2, err := OpenKafka(ctx, newClient, "connect-configs", 3)
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	cs, err := k2.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Name != "a" || cs[0].Config["topic"] != "t2" || cs[0].Target != TargetPaused {
		t.Fatalf("loaded %+v", cs)
	}
	// Writes by another instance show after Refresh.
	k3, err := OpenKafka(ctx, newClient, "connect-configs", 3)
	if err != nil {
		t.Fatal(err)
	}
	must(k3.PutConfig(ctx, "c", map[string]string{"connector.class": "X"}))
	must(k3.Close())
	must(k2.Refresh(ctx))
	if cs, _ := k2.Load(ctx); len(cs) != 2 || cs[1].Name != "c" {
		t.Fatalf("after refresh %+v", cs)
	}

	// The topic holds Connect's records and is compacted with one partition.
	cl, _ := newClient(kgo.ConsumeTopics("connect-configs"))
	defer cl.Close()
	var recs []*kgo.Record
	for len(recs) < 7 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	if string(recs[0].Key) != "connector-a" || string(recs[0].Value) != `{"properties":{"connector.class":"FileStreamSource","topic":"t"}}` {
		t.Errorf("first record %s = %s", recs[0].Key, recs[0].Value)
	}
	if string(recs[2].Key) != "target-state-a" || string(recs[2].Value) != `{"state":"PAUSED","state.v2":"PAUSED"}` {
		t.Errorf("target record %s = %s", recs[2].Key, recs[2].Value)
	}
	if string(recs[4].Key) != "connector-b" || recs[4].Value != nil {
		t.Errorf("tombstone %s = %v", recs[4].Key, recs[4].Value)
	}
	adm := kadm.NewClient(cl)
	rcs, err := adm.DescribeTopicConfigs(ctx, "connect-configs")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On("connect-configs", nil)
	policy := ""
	for _, cfg := range rc.Configs {
		if cfg.Key == "cleanup.policy" {
			policy = cfg.MaybeValue()
		}
	}
	if policy != "compact" {
		t.Errorf("cleanup.policy %q", policy)
	}
}
