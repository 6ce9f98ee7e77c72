package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Embedded broker worker keys and defaults.
const (
	KeyEmbeddedPort     = "embedded.broker.port"
	KeyEmbeddedDataDir  = "embedded.broker.data.dir"
	DefaultEmbeddedPort = 9092
	// EmbeddedServers is the bootstrap.servers value that asks for the
	// embedded broker (an empty value does too).
	EmbeddedServers = "embedded"
)

// IsEmbedded reports whether a bootstrap.servers value selects the embedded
// broker.
func IsEmbedded(bootstrap string) bool {
	b := strings.TrimSpace(bootstrap)
	return b == "" || strings.EqualFold(b, EmbeddedServers)
}

// EmbeddedConfig configures the embedded broker.
type EmbeddedConfig struct {
	// Port on 127.0.0.1; 0 picks a free port.
	Port int
	// DataDir holds the broker's topics, records and group offsets. Empty
	// keeps everything in memory (tests only).
	DataDir string
	Logger  *slog.Logger
}

// ErrEmbeddedStorage is the error Embedded.Err returns once the broker
// failed to persist its topic list: from then on it refuses every produce
// (KAFKA_STORAGE_ERROR) rather than acknowledge records a restart would lose.
var ErrEmbeddedStorage = errors.New("embedded broker: persisting topics failed; produce refused until restart")

// Embedded is a running in-process broker.
type Embedded struct {
	c   *kfake.Cluster
	log *slog.Logger

	mu     sync.Mutex
	failed error // set once a topics.json write failed

	stop      chan struct{} // closed by Close: ends the retention goroutine
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// compactionOffMs is log.cleaner.backoff.ms for the embedded broker: 100
// years, so kfake's compaction ticker never fires (a longer interval would
// overflow time.Duration).
const compactionOffMs = "3153600000000"

// RetentionCheckInterval is how often the embedded broker applies
// retention.ms and retention.bytes (Kafka's log.retention.check.interval.ms
// default).
const RetentionCheckInterval = 5 * time.Minute

// StartEmbedded starts the embedded broker.
//
// Topics an outside client creates by producing (Kafka's
// auto.create.topics.enable) are created through the same persisted path as
// CreateTopics: kfake's own auto-creation is off, and a Metadata control
// creates a missing topic with Cluster.CreateTopic, which writes topics.json
// (fsync + rename) before the Metadata response, and so before any record of
// it can be produced. Topic names are validated as Kafka does
// (ValidateTopicName) in Metadata and CreateTopics requests; an invalid name
// is answered with INVALID_TOPIC_EXCEPTION.
//
// Compaction is off (cleanup.policy=compact topics keep every record): kfake
// compacts by deleting a partition's segment files and rewriting them in
// place, which a crash in the middle turns into lost records. Retention
// (retention.ms, retention.bytes), which only drops whole segments, runs
// every RetentionCheckInterval.
//
// On a data directory left by an older version, partition directories of
// topics missing from topics.json (auto-created topics, which that version
// never persisted) are added back to it before the broker loads, so their
// records reappear rather than being shadowed by a new, empty topic.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Embedded{log: log, stop: make(chan struct{})}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(cfg.Port),
		kfake.DefaultNumPartitions(1),
		// No compaction: kfake compacts a partition by deleting its segment
		// files and writing the kept batches anew in place, so a crash in
		// between loses acknowledged records. Retention runs on our own
		// ticker (Cluster.ApplyRetention), which drops whole segments only.
		kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": compactionOffMs}),
		kfake.ClusterID("tributary-embedded"),
		kfake.WithLogger(kfakeLogger{e}),
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("embedded broker data dir: %w", err)
		}
		recovered, err := recoverOrphanTopics(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("embedded broker data dir %s: %w", cfg.DataDir, err)
		}
		for _, t := range recovered {
			log.Warn("embedded broker: recovered a topic missing from topics.json (auto-created by an older version)",
				"topic", t.Name, "partitions", t.Partitions, "data_dir", cfg.DataDir)
		}
		// SyncWrites: every produced batch is written and fsynced to its
		// segment before the produce response (the ack) is sent.
		opts = append(opts, kfake.DataDir(cfg.DataDir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on port %d (data dir %q): %w", cfg.Port, cfg.DataDir, err)
	}
	e.c = c
	if err := e.Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("start embedded broker (data dir %q): %w", cfg.DataDir, err)
	}
	c.ControlKey(int16(kmsg.Metadata), e.onMetadata)
	c.ControlKey(int16(kmsg.CreateTopics), e.onCreateTopics)
	e.wg.Add(1)
	go e.retention()
	log.Info("embedded broker started", "addrs", c.ListenAddrs(), "data_dir", cfg.DataDir)
	return e, nil
}

// Addrs returns the broker's host:port addresses (bootstrap.servers).
func (e *Embedded) Addrs() []string { return e.c.ListenAddrs() }

// Cluster exposes the kfake cluster (tests: GroupInfo…). Its Compact is not
// crash-safe (see StartEmbedded).
func (e *Embedded) Cluster() *kfake.Cluster { return e.c }

// retention applies retention.ms and retention.bytes every
// RetentionCheckInterval until Close.
func (e *Embedded) retention() {
	defer e.wg.Done()
	tick := time.NewTicker(RetentionCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			e.c.ApplyRetention()
		}
	}
}

// Err returns ErrEmbeddedStorage (wrapping the cause) once the broker failed
// to persist its topics, nil before.
func (e *Embedded) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed
}

// Close stops the broker, flushing its data to disk. It may be called more
// than once.
func (e *Embedded) Close() {
	e.closeOnce.Do(func() {
		close(e.stop)
		e.wg.Wait()
	})
	e.c.Close()
}

// onMetadata creates the requested topics that do not exist yet, when the
// request allows auto-creation (always below v4, as in Kafka), through
// CreateTopic, which persists the topic list before returning; it answers
// invalid names with INVALID_TOPIC_EXCEPTION. It runs before kfake's own
// Metadata handler, which then answers the request (the control never
// answers it itself).
func (e *Embedded) onMetadata(kreq kmsg.Request) (kmsg.Response, error, bool) {
	e.c.KeepControl()
	req, ok := kreq.(*kmsg.MetadataRequest)
	if !ok {
		return nil, nil, false
	}
	auto := req.AllowAutoTopicCreation || req.Version < 4
	seen := make(map[string]bool, len(req.Topics))
	for _, rt := range req.Topics {
		if rt.Topic == nil || rt.TopicID != [16]byte{} || seen[*rt.Topic] {
			continue // by ID: only existing topics
		}
		name := *rt.Topic
		seen[name] = true
		if err := ValidateTopicName(name); err != nil {
			e.answer(kmsg.Metadata, name, kerr.InvalidTopicException)
			continue
		}
		if !auto || e.c.TopicInfo(name) != nil {
			continue
		}
		if e.Err() != nil {
			e.answer(kmsg.Metadata, name, kerr.KafkaStorageError)
			continue
		}
		err := e.c.CreateTopic(name, -1, nil)
		switch {
		case err == nil:
			if e.Err() != nil { // created in memory only: never let it be used
				_ = e.c.DeleteTopic(name)
				e.answer(kmsg.Metadata, name, kerr.KafkaStorageError)
				continue
			}
			e.log.Info("embedded broker: topic auto-created", "topic", name)
		case errors.Is(err, kerr.TopicAlreadyExists):
		default:
			// e.g. INVALID_TOPIC_EXCEPTION for a name colliding with an
			// existing one in '.' vs '_'.
			var ke *kerr.Error
			if errors.As(err, &ke) {
				e.answer(kmsg.Metadata, name, ke)
			}
		}
	}
	return nil, nil, false
}

// onCreateTopics answers invalid names with INVALID_TOPIC_EXCEPTION; kfake's
// handler creates (and persists) the valid ones.
func (e *Embedded) onCreateTopics(kreq kmsg.Request) (kmsg.Response, error, bool) {
	e.c.KeepControl()
	req, ok := kreq.(*kmsg.CreateTopicsRequest)
	if !ok {
		return nil, nil, false
	}
	for _, rt := range req.Topics {
		if err := ValidateTopicName(rt.Topic); err != nil {
			e.answer(kmsg.CreateTopics, rt.Topic, kerr.InvalidTopicException)
		} else if e.Err() != nil {
			e.answer(kmsg.CreateTopics, rt.Topic, kerr.KafkaStorageError)
		}
	}
	return nil, nil, false
}

// answer makes the handler of the request being controlled answer topic
// with code: a one-request fault, installed before the handler runs (the
// control runs just before it on the cluster's loop).
func (e *Embedded) answer(key kmsg.Key, topic string, code *kerr.Error) {
	e.c.Fault(kfake.Fault{Keys: []kmsg.Key{key}, Topic: topic, Err: code, Count: 1})
}

// storageFailed records a failed topics.json write and from then on refuses
// every produce: a topic that exists only in memory would take records a
// restart loses.
func (e *Embedded) storageFailed(cause string) {
	e.mu.Lock()
	first := e.failed == nil
	if first {
		e.failed = fmt.Errorf("%w: %s", ErrEmbeddedStorage, cause)
	}
	e.mu.Unlock()
	if !first {
		return
	}
	e.log.Error("embedded broker: could not persist the topic list; refusing all produce requests (KAFKA_STORAGE_ERROR) until restarted",
		"err", cause)
	if e.c == nil { // during NewCluster, which then fails itself
		return
	}
	e.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.KafkaStorageError, Count: -1})
}

// kfakeLogger passes kfake's warnings and errors to slog and catches the one
// failure kfake only logs although it would lose acknowledged data: a failed
// topics.json write ("persist topics: …").
type kfakeLogger struct{ e *Embedded }

func (l kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	if level > kfake.LogLevelWarn || level == kfake.LogLevelNone {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if strings.HasPrefix(msg, "persist topics: ") {
		l.e.storageFailed(strings.TrimPrefix(msg, "persist topics: "))
		return
	}
	if level == kfake.LogLevelError {
		l.e.log.Error("embedded broker: " + msg)
	} else {
		l.e.log.Warn("embedded broker: " + msg)
	}
}

// MaxTopicNameLength is Kafka's limit on topic names (Topic.MAX_NAME_LENGTH).
const MaxTopicNameLength = 249

// ValidateTopicName checks a topic name as Kafka's Topic.validate does: not
// empty, not "." or "..", at most 249 characters, only ASCII letters, digits,
// '.', '_' and '-'. The messages are Kafka's.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("Topic name is illegal, it can't be empty")
	case name == "." || name == "..":
		return errors.New(`Topic name cannot be "." or ".."`)
	case len(name) > MaxTopicNameLength:
		return fmt.Errorf("Topic name is illegal, it can't be longer than %d characters, topic name: %s", MaxTopicNameLength, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("Topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}
