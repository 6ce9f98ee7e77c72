package topics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector/config"
)

func TestParseGroups(t *testing.T) {
	s, err := Parse(map[string]string{
		"topic.creation.groups":                     "compacted, big",
		"topic.creation.default.replication.factor": "1",
		"topic.creation.default.partitions":         "3",
		"topic.creation.compacted.include":          "cdc\\..*, orders",
		"topic.creation.compacted.exclude":          "cdc\\.tmp.*",
		"topic.creation.compacted.cleanup.policy":   "compact",
		"topic.creation.big.include":                ".*big.*",
		"topic.creation.big.partitions":             "12",
		"topic.creation.default.retention.ms":       "1000",
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"cdc.shop.orders": "compacted", "orders": "compacted", "cdc.tmp1": "default",
		"cdc.big": "compacted", "a.big.b": "big", "other": "default", "orders2": "default",
	}
	for topic, want := range cases {
		g, ok := s.Match(topic)
		if !ok || g.Name != want {
			t.Errorf("%s matched %v, want %s", topic, g, want)
		}
	}
	big, _ := s.Match("big")
	if big.Partitions != 12 || big.ReplicationFactor != 1 {
		t.Errorf("big inherits defaults wrongly: %+v", big)
	}
	c, _ := s.Match("orders")
	if c.Configs["cleanup.policy"] != "compact" || c.Partitions != 3 {
		t.Errorf("compacted group %+v", c)
	}
	d, _ := s.Match("zzz")
	if d.Configs["retention.ms"] != "1000" {
		t.Errorf("default configs %+v", d.Configs)
	}
	if s, _ := Parse(map[string]string{"topic": "x"}, true); s.Enabled {
		t.Error("enabled without topic.creation keys")
	}
	if s, _ := Parse(map[string]string{KeyDefaultPartitions: "1", KeyDefaultReplication: "1"}, false); s.Enabled {
		t.Error("enabled although the worker disabled it")
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse(map[string]string{
		"topic.creation.groups":               "g",
		"topic.creation.default.partitions":   "0",
		"topic.creation.g.replication.factor": "x",
	}, true)
	var es config.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	keys := map[string]bool{}
	for _, e := range es {
		keys[e.Key] = true
	}
	for _, k := range []string{KeyDefaultReplication, KeyDefaultPartitions, "topic.creation.g.include", "topic.creation.g.replication.factor"} {
		if !keys[k] {
			t.Errorf("no error for %s in %v", k, es)
		}
	}
}

func TestCreatorCreatesMissingTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "existing"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A client that auto-creates topics on metadata requests: Ensure must
	// not let it create them with the broker's defaults.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	s, err := Parse(map[string]string{
		"topic.creation.groups":                     "compacted",
		"topic.creation.default.replication.factor": "3", // lowered to 1 broker
		"topic.creation.default.partitions":         "2",
		"topic.creation.compacted.include":          "cdc\\..*",
		"topic.creation.compacted.partitions":       "5",
		"topic.creation.compacted.cleanup.policy":   "compact",
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	cr := NewCreator(cl, s, nil)
	for _, topic := range []string{"cdc.orders", "plain", "existing", "cdc.orders"} {
		if err := cr.Ensure(ctx, topic); err != nil {
			t.Fatalf("ensure %s: %v", topic, err)
		}
	}
	// A fresh client: kadm answers from kgo's metadata cache, which still
	// remembers the topics as missing.
	cl2, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	adm := kadm.NewClient(cl2)
	details, err := adm.ListTopics(ctx, "cdc.orders", "plain", "existing")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"cdc.orders": 5, "plain": 2, "existing": 1}
	for topic, n := range want {
		if got := len(details[topic].Partitions); got != n {
			t.Errorf("%s has %d partitions, want %d", topic, got, n)
		}
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "cdc.orders")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("cdc.orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cfg := range rc.Configs {
		if cfg.Key == "cleanup.policy" && cfg.MaybeValue() == "compact" {
			found = true
		}
	}
	if !found {
		t.Errorf("cdc.orders is not compacted: %+v", rc.Configs)
	}
}
