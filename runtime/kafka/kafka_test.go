package kafka

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// javaMurmur2 holds values of Kafka's Utils.murmur2 from Kafka's own
// UtilsTest, so partitioning is checked against the Java client.
var javaMurmur2 = map[string]int32{
	"21":                         -973932308,
	"foobar":                     -790332482,
	"a-little-bit-long-string":   -985981536,
	"a-little-bit-longer-string": -1486304829,
	"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
	"abc": 479470107,
}

func javaPartition(key string, n int32) int32 {
	return (javaMurmur2[key] & 0x7fffffff) % n
}

func TestEmbeddedProducerPartitioningAndRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "broker")
	e, err := StartEmbedded(EmbeddedConfig{Port: 0, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	props := map[string]string{"bootstrap.servers": e.Addrs()[0], "compression.type": "zstd", "linger.ms": "1"}
	opts, err := ProducerOpts(props)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: "keyed", Partitions: 7, ReplicationFactor: -1}, Compacted("compacted", 3, -1)); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: "keyed", Partitions: 7, ReplicationFactor: -1}); err != nil {
		t.Fatalf("EnsureTopics on an existing topic: %v", err)
	}
	if v, err := TopicConfig(ctx, cl, "compacted", "cleanup.policy"); err != nil || v != "compact" {
		t.Fatalf("cleanup.policy = %q, %v", v, err)
	}
	var recs []*kgo.Record
	for k := range javaMurmur2 {
		recs = append(recs, &kgo.Record{Topic: "keyed", Key: []byte(k), Value: []byte("v")})
	}
	explicit := &kgo.Record{Topic: "keyed", Key: []byte("abc"), Value: []byte("pinned")}
	WithPartition(explicit, 6)
	recs = append(recs, explicit)
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[:len(recs)-1] {
		if want := javaPartition(string(r.Key), 7); r.Partition != want {
			t.Errorf("key %q went to partition %d, Java's client picks %d", r.Key, r.Partition, want)
		}
	}
	if explicit.Partition != 6 {
		t.Errorf("explicit partition record went to %d", explicit.Partition)
	}
	cl.Close()
	e.Close()

	// A restart on the same directory keeps the records.
	e, err = StartEmbedded(EmbeddedConfig{Port: 0, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rd, err := kgo.NewClient(kgo.SeedBrokers(e.Addrs()...), kgo.ConsumeTopics("keyed"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for n < len(recs) {
		fs := rd.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		n += len(fs.Records())
	}
	if _, err := os.Stat(filepath.Join(dir, "topics.json")); err != nil {
		t.Fatalf("no persisted topics: %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		props map[string]string
		key   string
	}{
		{map[string]string{}, "bootstrap.servers"},
		{map[string]string{"bootstrap.servers": "b:9092", "compression.type": "brotli"}, "compression.type"},
		{map[string]string{"bootstrap.servers": "b:9092", "linger.ms": "-1"}, "linger.ms"},
		{map[string]string{"bootstrap.servers": "b:9092", "acks": "1"}, "acks"},
		{map[string]string{"bootstrap.servers": "b:9092", "buffer.memory": "lots"}, "buffer.memory"},
		{map[string]string{"bootstrap.servers": "b:9092", "metadata.max.age.ms": "soon"}, "metadata.max.age.ms"},
		{map[string]string{"bootstrap.servers": "b:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI",
			"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`}, "sasl.mechanism"},
		{map[string]string{"bootstrap.servers": "b:9092", "security.protocol": "SASL_PLAINTEXT"}, "sasl.jaas.config"},
	} {
		_, err := ProducerOpts(tc.props)
		if err == nil || !contains(err.Error(), tc.key) {
			t.Errorf("ProducerOpts(%v) = %v, want an error naming %s", tc.props, err, tc.key)
		}
	}
	if _, err := ProducerOpts(map[string]string{"bootstrap.servers": "b:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
		"sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p\"q";`}); err != nil {
		t.Errorf("SCRAM config: %v", err)
	}
	for _, v := range []string{"0", "1000", "300000", "86400000"} {
		opts, err := ClientOpts(map[string]string{"bootstrap.servers": "127.0.0.1:1", "metadata.max.age.ms": v})
		if err == nil {
			var cl *kgo.Client
			if cl, err = kgo.NewClient(opts...); err == nil {
				cl.Close()
			}
		}
		if err != nil {
			t.Errorf("metadata.max.age.ms=%s: %v", v, err)
		}
	}
	if got := Overlay(map[string]string{"linger.ms": "5", "producer.linger.ms": "50"}, "producer."); got["linger.ms"] != "50" {
		t.Errorf("Overlay = %v", got)
	}
	if !IsEmbedded("") || !IsEmbedded(" embedded ") || IsEmbedded("localhost:9092") {
		t.Error("IsEmbedded")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
