package offsets

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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := KafkaConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, Topic: "connect-offsets", Partitions: 5, ReplicationFactor: 1}
	storeContract(t, func() Store {
		s, err := OpenKafka(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rc, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, "connect-offsets")
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, e := range rc[0].Configs {
		if e.Key == "cleanup.policy" {
			policy = e.MaybeValue()
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy = %q, want compact", policy)
	}

	// A record as Kafka Connect writes it (keys in another order, spaces)
	// is read, and ours has Connect's exact bytes.
	res := cl.ProduceSync(ctx, &kgo.Record{Topic: "connect-offsets",
		Key:   []byte(`["mysql-cdc",{"server":"db1"}]`),
		Value: []byte(`{"file":"mysql-bin.000003","pos":154,"row":1}`)})
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenKafka(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(ctx, "mysql-cdc", map[string]any{"server": "db1"})
	if err != nil || got["pos"] != int64(154) || got["file"] != "mysql-bin.000003" {
		t.Fatalf("Get = %v, %v", got, err)
	}
	if err := s.Put(ctx, "fs", []Entry{{map[string]any{"filename": "/x"}, map[string]any{"position": int64(7)}}}); err != nil {
		t.Fatal(err)
	}
	// Another store instance (another worker) sees it after Sync.
	s2, err := OpenKafka(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s.Put(ctx, "fs", []Entry{{map[string]any{"filename": "/x"}, map[string]any{"position": int64(8)}}}); err != nil {
		t.Fatal(err)
	}
	if err := s2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.Get(ctx, "fs", map[string]any{"filename": "/x"}); got["position"] != int64(8) {
		t.Fatalf("second store sees %v, want position 8", got)
	}
	// The raw record: Connect's key and value bytes, partitioned by murmur2
	// of the key as Connect's producer does.
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("connect-offsets"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for found := false; !found; {
		fs := rd.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == `["fs",{"filename":"/x"}]` && string(r.Value) == `{"position":8}` {
				found = true
				if want := int32(kgo.KafkaHasher(murmur2)(r.Key, 5)); r.Partition != want {
					t.Errorf("partition %d, want %d (murmur2)", r.Partition, want)
				}
			}
		})
	}
}

// murmur2 is Kafka's Utils.murmur2, written out here so the test does not
// trust the code under test for it.
func murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for len(b) >= 4 {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		b = b[4:]
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
