package kafka

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Overlay returns props with every key under prefix copied over the bare
// key, e.g. producer.linger.ms over linger.ms (Connect's producer./consumer./
// admin. worker prefixes and producer.override. connector keys).
func Overlay(props map[string]string, prefixes ...string) map[string]string {
	out := make(map[string]string, len(props))
	for k, v := range props {
		out[k] = v
	}
	for _, p := range prefixes {
		for k, v := range props {
			if strings.HasPrefix(k, p) && len(k) > len(p) {
				out[k[len(p):]] = v
			}
		}
	}
	return out
}

// Servers splits a bootstrap.servers value.
func Servers(bootstrap string) []string {
	var out []string
	for _, s := range strings.Split(bootstrap, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var jaasOpt = regexp.MustCompile(`(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"`)

// ClientOpts maps Kafka client properties shared by producers, consumers
// and admin clients to franz-go options: bootstrap.servers, client.id,
// security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL),
// sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with the username and
// password from sasl.jaas.config, the TLS keys of tlsConfig,
// request.timeout.ms, retry.backoff.ms and
// metadata.max.age.ms (how often metadata is refreshed, so a topics.regex
// consumer finds topics created after it started; capped to franz-go's
// 10ms–1h range).
func ClientOpts(props map[string]string) ([]kgo.Opt, error) {
	seeds := Servers(props["bootstrap.servers"])
	if len(seeds) == 0 {
		return nil, fmt.Errorf("bootstrap.servers: no broker address given")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	if id := props["client.id"]; id != "" {
		opts = append(opts, kgo.ClientID(id))
	}
	if v := props["retry.backoff.ms"]; v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("retry.backoff.ms: invalid value %q", v)
		}
		opts = append(opts, kgo.RetryBackoffFn(func(int) time.Duration { return time.Duration(ms) * time.Millisecond }))
	}
	if v := props["metadata.max.age.ms"]; v != "" {
		ms, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("metadata.max.age.ms: invalid value %q", v)
		}
		age := min(max(time.Duration(ms)*time.Millisecond, 10*time.Millisecond), time.Hour)
		opts = append(opts, kgo.MetadataMaxAge(age))
		if age < 5*time.Second { // franz-go's default minimum age
			opts = append(opts, kgo.MetadataMinAge(age))
		}
	}
	proto := strings.ToUpper(strings.TrimSpace(props["security.protocol"]))
	switch proto {
	case "", "PLAINTEXT":
	case "SSL", "SASL_SSL", "SASL_PLAINTEXT":
	default:
		return nil, fmt.Errorf("security.protocol: unsupported value %q (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)", proto)
	}
	if proto == "SSL" || proto == "SASL_SSL" {
		tc, err := tlsConfig(props)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if proto == "SASL_SSL" || proto == "SASL_PLAINTEXT" {
		m, err := saslMechanism(props)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func saslMechanism(props map[string]string) (sasl.Mechanism, error) {
	user, pass := "", ""
	for _, m := range jaasOpt.FindAllStringSubmatch(props["sasl.jaas.config"], -1) {
		val := strings.ReplaceAll(m[2], `\"`, `"`)
		switch m[1] {
		case "username":
			user = val
		case "password":
			pass = val
		}
	}
	if user == "" {
		return nil, fmt.Errorf("sasl.jaas.config: no username=\"…\" given")
	}
	mech := strings.ToUpper(strings.TrimSpace(props["sasl.mechanism"]))
	switch mech {
	case "", "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("sasl.mechanism: unsupported value %q (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", mech)
}

// ProducerOpts returns ClientOpts plus the producer settings: idempotent,
// acks=all, linger.ms (default 5), compression.type (none, gzip, snappy,
// lz4, zstd; default none), batch.size as the max batch bytes, and the
// partitioner described in the package doc. Topics are auto-created on the
// broker when it allows it.
func ProducerOpts(props map[string]string) ([]kgo.Opt, error) {
	opts, err := ClientOpts(props)
	if err != nil {
		return nil, err
	}
	linger := 5 * time.Millisecond
	if v := props["linger.ms"]; v != "" {
		ms, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("linger.ms: invalid value %q", v)
		}
		linger = time.Duration(ms) * time.Millisecond
	}
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(linger),
		kgo.RecordPartitioner(newPartitioner()),
		kgo.AllowAutoTopicCreation(),
	)
	if acks := strings.TrimSpace(props["acks"]); acks != "" && acks != "all" && acks != "-1" {
		return nil, fmt.Errorf("acks: only all is supported (the producer is idempotent), got %q", acks)
	}
	if v := strings.ToLower(strings.TrimSpace(props["compression.type"])); v != "" {
		var codec kgo.CompressionCodec
		switch v {
		case "none":
			codec = kgo.NoCompression()
		case "gzip":
			codec = kgo.GzipCompression()
		case "snappy":
			codec = kgo.SnappyCompression()
		case "lz4":
			codec = kgo.Lz4Compression()
		case "zstd":
			codec = kgo.ZstdCompression()
		default:
			return nil, fmt.Errorf("compression.type: unsupported value %q (none, gzip, snappy, lz4, zstd)", v)
		}
		opts = append(opts, kgo.ProducerBatchCompression(codec))
	}
	// buffer.memory bounds the bytes waiting to be sent, as in Kafka's
	// producer (default 32 MiB). franz-go's own default bounds only the
	// record count (50000), which with large records (Connect JSON with
	// schemas is ~3 kB per row) held hundreds of MiB.
	bufferMemory := 33554432
	if v := props["buffer.memory"]; v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("buffer.memory: invalid value %q", v)
		}
		bufferMemory = n
	}
	opts = append(opts, kgo.MaxBufferedBytes(bufferMemory))
	if v := props["max.request.size"]; v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("max.request.size: invalid value %q", v)
		}
		opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
	}
	if v := props["delivery.timeout.ms"]; v != "" {
		ms, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("delivery.timeout.ms: invalid value %q", v)
		}
		opts = append(opts, kgo.RecordDeliveryTimeout(time.Duration(ms)*time.Millisecond))
	}
	return opts, nil
}

// GroupOpts returns ClientOpts plus a consumer-group member of group reading
// topics (or, when topicsRegex is set, every topic matching it) with
// auto-commit off and BlockRebalanceOnPoll, starting from
// auto.offset.reset (earliest, the default for Connect sinks, or latest)
// when the group has no committed offset. Reads are read_committed.
func GroupOpts(props map[string]string, group string, topics []string, topicsRegex string) ([]kgo.Opt, error) {
	opts, err := ClientOpts(props)
	if err != nil {
		return nil, err
	}
	reset := kgo.NewOffset().AtStart()
	switch v := strings.ToLower(strings.TrimSpace(props["auto.offset.reset"])); v {
	case "", "earliest":
	case "latest":
		reset = kgo.NewOffset().AtEnd()
	default:
		return nil, fmt.Errorf("auto.offset.reset: unsupported value %q (earliest, latest)", v)
	}
	opts = append(opts,
		kgo.ConsumerGroup(group),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(reset),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)
	if topicsRegex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(topicsRegex))
	} else {
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	if v := props["session.timeout.ms"]; v != "" {
		ms, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("session.timeout.ms: invalid value %q", v)
		}
		opts = append(opts, kgo.SessionTimeout(time.Duration(ms)*time.Millisecond))
	}
	return opts, nil
}

// partitionKey marks a record whose Partition field was chosen by the
// caller.
type partitionKey struct{}

// WithPartition sets an explicit partition on r: the producer's
// partitioner uses it instead of hashing the key.
func WithPartition(r *kgo.Record, partition int32) {
	r.Partition = partition
	ctx := r.Context
	if ctx == nil {
		ctx = context.Background()
	}
	r.Context = context.WithValue(ctx, partitionKey{}, true)
}

func explicit(r *kgo.Record) bool {
	if r.Context == nil {
		return false
	}
	v, _ := r.Context.Value(partitionKey{}).(bool)
	return v
}

// partitioner wraps kgo's default (uniform sticky for null keys, murmur2 on
// keyed records, as the Java client) and honours WithPartition.
type partitioner struct{ inner kgo.Partitioner }

func newPartitioner() kgo.Partitioner {
	return partitioner{kgo.UniformBytesPartitioner(64<<10, true, true, nil)}
}

func (p partitioner) ForTopic(t string) kgo.TopicPartitioner {
	return &topicPartitioner{p.inner.ForTopic(t)}
}

type topicPartitioner struct{ inner kgo.TopicPartitioner }

func (p *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return explicit(r) || p.inner.RequiresConsistency(r)
}

func (p *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if explicit(r) {
		return int(r.Partition)
	}
	return p.inner.Partition(r, n)
}

func (p *topicPartitioner) PartitionByBackup(r *kgo.Record, n int, it kgo.TopicBackupIter) int {
	if explicit(r) {
		return int(r.Partition)
	}
	if bp, ok := p.inner.(kgo.TopicBackupPartitioner); ok {
		return bp.PartitionByBackup(r, n, it)
	}
	return p.inner.Partition(r, n)
}

func (p *topicPartitioner) OnNewBatch() {
	if nb, ok := p.inner.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}
