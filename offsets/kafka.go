package offsets

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaConfig configures a KafkaStore.
type KafkaConfig struct {
	// ClientOpts reach the cluster (seed brokers, SASL, TLS).
	ClientOpts []kgo.Opt
	// Topic is offset.storage.topic (Connect's default: connect-offsets).
	Topic string
	// Partitions and ReplicationFactor are used when the topic is created
	// (offset.storage.partitions, default 25; offset.storage.replication.factor,
	// default 3; -1 for the broker's default).
	Partitions        int32
	ReplicationFactor int16
}

// KafkaStore keeps offsets in a compacted topic in Kafka Connect's format
// (see the package doc), so offsets written by Kafka Connect are read and
// ours can be read by Connect and by standard tools. A background reader
// follows the topic; Put produces with acks=all and returns once the reader
// has seen its own writes, so a Get after Put sees them.
type KafkaStore struct {
	topic string
	cl    *kgo.Client

	mu      sync.Mutex
	t       table
	read    map[int32]int64 // next offset to read, per partition
	changed chan struct{}   // closed and replaced on every applied batch
	readErr error
	closed  bool

	cancel context.CancelFunc
	done   chan struct{}
}

// OpenKafka creates the topic when missing (compacted), reads it to its
// end and starts following it.
func OpenKafka(ctx context.Context, cfg KafkaConfig) (*KafkaStore, error) {
	if cfg.Topic == "" {
		return nil, errors.New("offset.storage.topic: no topic given")
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 25
	}
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = 3
	}
	admCl, err := kgo.NewClient(cfg.ClientOpts...)
	if err != nil {
		return nil, fmt.Errorf("offset store client: %w", err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, cfg.Partitions, cfg.ReplicationFactor, map[string]*string{"cleanup.policy": &compact}, cfg.Topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return nil, fmt.Errorf("create offset topic %s: %w", cfg.Topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("offset topic %s end offsets: %w", cfg.Topic, err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("offset topic %s end offsets: %w", cfg.Topic, err)
	}
	start := map[int32]kgo.Offset{}
	target := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		start[o.Partition] = kgo.NewOffset().AtStart()
		target[o.Partition] = o.Offset
	})
	if len(start) == 0 {
		return nil, fmt.Errorf("offset topic %s has no partitions", cfg.Topic)
	}
	opts := append([]kgo.Opt{}, cfg.ClientOpts...)
	opts = append(opts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: start}),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("offset store client: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &KafkaStore{topic: cfg.Topic, cl: cl, t: table{}, read: map[int32]int64{},
		changed: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go s.follow(rctx)
	if err := s.waitRead(ctx, target); err != nil {
		s.Close()
		return nil, fmt.Errorf("read offset topic %s: %w", cfg.Topic, err)
	}
	return s, nil
}

// follow applies the topic's records to the table until ctx ends.
func (s *KafkaStore) follow(ctx context.Context) {
	defer close(s.done)
	for {
		fs := s.cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if ferr == nil && !errors.Is(err, context.Canceled) {
				ferr = err
			}
		})
		s.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			if name, part, err := ParseKey(r.Key); err == nil {
				if off, err := DecodeOffset(r.Value); err == nil {
					s.t.put(name, Entry{Partition: part, Offset: off})
				}
			}
			s.read[r.Partition] = r.Offset + 1
		})
		if ferr != nil {
			s.readErr = ferr
		}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// waitRead blocks until the reader is past target offsets (exclusive).
func (s *KafkaStore) waitRead(ctx context.Context, target map[int32]int64) error {
	for {
		s.mu.Lock()
		done := true
		for p, off := range target {
			if s.read[p] < off {
				done = false
				break
			}
		}
		ch, rerr, closed := s.changed, s.readErr, s.closed
		s.mu.Unlock()
		if done {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
			if rerr != nil && !kerr.IsRetriable(rerr) {
				return rerr
			}
		case <-ctx.Done():
			if rerr != nil {
				return fmt.Errorf("%w (last read error: %v)", ctx.Err(), rerr)
			}
			return ctx.Err()
		}
	}
}

// Sync waits until every write made to the topic so far (by any worker) is
// applied, as Connect's readToEnd.
func (s *KafkaStore) Sync(ctx context.Context) error {
	ends, err := kadm.NewClient(s.cl).ListEndOffsets(ctx, s.topic)
	if err != nil {
		return err
	}
	target := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { target[o.Partition] = o.Offset })
	return s.waitRead(ctx, target)
}

// Get implements Store.
func (s *KafkaStore) Get(_ context.Context, connector string, partition map[string]any) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return clone(s.t.get(connector, partition)), nil
}

// List implements Store.
func (s *KafkaStore) List(_ context.Context, connector string) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.t.listCopies(connector), nil
}

// Put implements Store: the records are acknowledged by all in-sync
// replicas and read back before it returns.
func (s *KafkaStore) Put(ctx context.Context, connector string, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, 0, len(entries))
	for _, e := range entries {
		k, err := Key(connector, e.Partition)
		if err != nil {
			return fmt.Errorf("offset key for %s: %w", connector, err)
		}
		v, err := EncodeOffset(e.Offset)
		if err != nil {
			return fmt.Errorf("offset value for %s: %w", connector, err)
		}
		recs = append(recs, &kgo.Record{Topic: s.topic, Key: k, Value: v})
	}
	return s.produce(ctx, recs)
}

func (s *KafkaStore) produce(ctx context.Context, recs []*kgo.Record) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	res := s.cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("write offsets to %s: %w", s.topic, err)
	}
	target := map[int32]int64{}
	for _, r := range res {
		if r.Record.Offset+1 > target[r.Record.Partition] {
			target[r.Record.Partition] = r.Record.Offset + 1
		}
	}
	return s.waitRead(ctx, target)
}

// Delete implements Store: a tombstone for every partition of connector.
func (s *KafkaStore) Delete(ctx context.Context, connector string) error {
	s.mu.Lock()
	es := s.t.list(connector)
	s.mu.Unlock()
	if len(es) == 0 {
		return nil
	}
	for i := range es {
		es[i].Offset = nil
	}
	return s.Put(ctx, connector, es)
}

// Close stops the reader and closes the client.
func (s *KafkaStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.cancel()
	s.cl.Close()
	<-s.done
	return nil
}
