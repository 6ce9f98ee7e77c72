package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// Status topic keys (Connect's KafkaStatusBackingStore).
const (
	statusConnectorPrefix = "status-connector-"
	statusTaskPrefix      = "status-task-"
)

func connectorStatusKey(name string) string { return statusConnectorPrefix + name }

func taskStatusKey(name string, task int) string {
	return statusTaskPrefix + name + "-" + strconv.Itoa(task)
}

// statusValue is a status record's value, in Connect's field order:
// {"state":"RUNNING","trace":null,"worker_id":"host:8083","generation":7}.
type statusValue struct {
	State      string  `json:"state"`
	Trace      *string `json:"trace"`
	WorkerID   string  `json:"worker_id"`
	Generation int32   `json:"generation"`
}

func (v statusValue) trace() string {
	if v.Trace == nil {
		return ""
	}
	return *v.Trace
}

// statusStore writes this worker's statuses to the status topic and follows
// the topic, so every worker answers status requests from the same records.
type statusStore struct {
	topic    string
	workerID string
	log      *slog.Logger
	prod     *kgo.Client
	cons     *kgo.Client

	mu      sync.Mutex
	cache   map[string]statusValue
	read    map[int32]int64
	changed chan struct{}
	closed  bool

	cancel context.CancelFunc
	done   chan struct{}
}

func openStatusStore(ctx context.Context, nc newClient, topic string, partitions int32, rf int16, workerID string, log *slog.Logger) (*statusStore, error) {
	prod, err := nc(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		return nil, err
	}
	if err := kafka.EnsureTopics(ctx, prod, kafka.Compacted(topic, partitions, rf)); err != nil {
		prod.Close()
		return nil, fmt.Errorf("status topic: %w", err)
	}
	n, err := waitPartitions(ctx, prod, topic)
	if err != nil {
		prod.Close()
		return nil, fmt.Errorf("status topic: %w", err)
	}
	start := map[int32]kgo.Offset{}
	for p := range int32(n) {
		start[p] = kgo.NewOffset().AtStart()
	}
	cons, err := nc(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
	if err != nil {
		prod.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &statusStore{topic: topic, workerID: workerID, log: log, prod: prod, cons: cons,
		cache: map[string]statusValue{}, read: map[int32]int64{}, changed: make(chan struct{}),
		cancel: cancel, done: make(chan struct{})}
	go s.follow(rctx)
	if err := s.sync(ctx); err != nil {
		s.close(ctx)
		return nil, err
	}
	return s, nil
}

func (s *statusStore) follow(ctx context.Context) {
	defer close(s.done)
	for {
		fs := s.cons.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				s.log.Warn("status topic read error", "topic", s.topic, "err", err)
			}
		})
		s.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			key := string(r.Key)
			if r.Value == nil {
				delete(s.cache, key)
			} else {
				var v statusValue
				if err := json.Unmarshal(r.Value, &v); err == nil && !stale(s.cache, key, v) {
					s.cache[key] = v
				}
			}
			s.read[r.Partition] = r.Offset + 1
		})
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// stale reports whether a status record comes from a worker that lost the
// work: another worker reported it for a newer generation, and the record
// is not a new start. Every worker reads the same records in the same order,
// so all skip the same ones and answer alike.
func stale(cache map[string]statusValue, key string, v statusValue) bool {
	cur, ok := cache[key]
	return ok && cur.WorkerID != v.WorkerID && cur.Generation > v.Generation && v.State != stateRunning
}

// sync waits until every status written so far is applied.
func (s *statusStore) sync(ctx context.Context) error {
	target, err := kafka.EndOffsets(ctx, s.prod, s.topic, endOffsetPatience)
	if err != nil {
		return fmt.Errorf("status topic: %w", err)
	}
	for {
		s.mu.Lock()
		done := true
		for p, off := range target {
			if s.read[p] < off {
				done = false
			}
		}
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if done {
			return nil
		}
		if closed {
			return errors.New("status store closed")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("read status topic %s: %w", s.topic, ctx.Err())
		}
	}
}

// get returns the latest status under key.
func (s *statusStore) get(key string) (statusValue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.cache[key]
	return v, ok
}

// put writes a status of this worker, unless another worker wrote one for
// a newer generation (Connect's putSafe: a worker that lost the work must
// not overwrite its new owner's status). It does not block.
func (s *statusStore) put(key, state, trace string, generation int32) {
	s.mu.Lock()
	cur, ok := s.cache[key]
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	if ok && cur.WorkerID != s.workerID && cur.Generation > generation {
		s.log.Debug("status not written: a newer generation owns it", "key", key, "state", state, "owner", cur.WorkerID, "generation", cur.Generation)
		return
	}
	v := statusValue{State: state, WorkerID: s.workerID, Generation: generation}
	if trace != "" {
		v.Trace = &trace
	}
	b, _ := json.Marshal(v)
	s.prod.Produce(context.Background(), &kgo.Record{Topic: s.topic, Key: []byte(key), Value: b}, func(_ *kgo.Record, err error) {
		if err != nil && !errors.Is(err, kgo.ErrClientClosed) {
			s.log.Warn("status write failed", "key", key, "state", state, "err", err)
		}
	})
}

// putTombstone removes a status (Connect's DESTROYED). It does not block.
func (s *statusStore) putTombstone(key string) {
	s.prod.Produce(context.Background(), &kgo.Record{Topic: s.topic, Key: []byte(key)}, func(_ *kgo.Record, err error) {
		if err != nil && !errors.Is(err, kgo.ErrClientClosed) {
			s.log.Warn("status tombstone failed", "key", key, "err", err)
		}
	})
}

// remove writes tombstones for keys.
func (s *statusStore) remove(ctx context.Context, keys ...string) error {
	recs := make([]*kgo.Record, len(keys))
	for i, k := range keys {
		recs[i] = &kgo.Record{Topic: s.topic, Key: []byte(k)}
	}
	return s.prod.ProduceSync(ctx, recs...).FirstErr()
}

// flush waits for this worker's status writes.
func (s *statusStore) flush(ctx context.Context) error { return s.prod.Flush(ctx) }

func (s *statusStore) close(ctx context.Context) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_ = s.prod.Flush(fctx)
	cancel()
	s.cancel()
	s.cons.Close()
	<-s.done
	s.prod.Close()
}
