package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/offsets"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	"github.com/tributary-cdc/tributary/runtime/topics"
	"github.com/tributary-cdc/tributary/schema"
)

// sourceRun is the state of one running source task.
type sourceRun struct {
	t       *taskRunner
	task    connector.SourceTask
	parts   taskParts
	prod    *kgo.Client
	tracker *offsets.Tracker[string, connector.Offset]
	fail    *failure

	// prodCtx outlives the poll loop so records in flight at a stop are
	// still delivered; it ends after the shutdown's flush timeout.
	prodCtx    context.Context
	stopping   chan struct{}
	commitMu   sync.Mutex
	uncommited map[string]connector.Offset
	// lastPartPtr/lastPartID cache the last source partition's ID.
	lastPartPtr unsafe.Pointer
	lastPartID  string
	// created holds topics this task made sure exist (embedded broker).
	created map[string]bool
	// topics creates missing topics per topic.creation.* (nil: not used).
	topics *topics.Creator
	// txn is the exactly-once state (nil: at-least-once, eos.go).
	txn *txnRun
}

// producerProps returns the producer properties of a connector: the
// worker's (producer. overlaid) with the connector's producer.override.*.
func (t *taskRunner) producerProps() map[string]string {
	props := t.w.ClientProps("producer.")
	for k, v := range t.cfg {
		if strings.HasPrefix(k, "producer.override.") {
			props[strings.TrimPrefix(k, "producer.override.")] = v
		}
	}
	if props["client.id"] == "" || props["client.id"] == t.w.cfg.Raw["client.id"] {
		props["client.id"] = fmt.Sprintf("connector-producer-%s-%d", t.conn, t.id)
	}
	return props
}

func (t *taskRunner) runSource(ctx context.Context, p connector.SourcePlugin) error {
	parts, err := t.buildParts(ctx)
	if err != nil {
		return err
	}
	defer parts.errs.Close()
	opts, err := kafka.ProducerOpts(t.producerProps())
	if err != nil {
		return fmt.Errorf("producer config: %w", err)
	}
	opts = append(opts, t.w.hookOpts()...)
	// With exactly-once support the store's transactional producer sends
	// the records; it is initialized (fencing older owners) before the
	// task reads its offsets, as in Connect.
	txn, err := t.openTxnRun(ctx, opts)
	if err != nil {
		return err
	}
	var prod *kgo.Client
	if txn != nil {
		prod = txn.tp.Client() // owned by the store
	} else {
		if prod, err = kgo.NewClient(opts...); err != nil {
			return fmt.Errorf("producer: %w", err)
		}
		defer prod.Close()
	}

	task := p.NewTask()
	if err := task.Start(ctx, t.cfg, t.taskContext()); err != nil {
		return fmt.Errorf("start task: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	prodCtx, prodCancel := context.WithCancel(context.Background())
	defer prodCancel()
	s := &sourceRun{
		t: t, task: task, parts: parts, prod: prod,
		tracker:    offsets.NewTracker[string, connector.Offset](0),
		fail:       &failure{cancel: cancel},
		prodCtx:    prodCtx,
		stopping:   make(chan struct{}),
		uncommited: map[string]connector.Offset{},
		created:    map[string]bool{},
		txn:        txn,
	}
	if txn != nil {
		txn.s = s
	}
	if s.topics, err = t.topicCreator(); err != nil { // KIP-158 (worker_providers.go)
		return err
	}

	var wg sync.WaitGroup
	if txn == nil { // exactly-once tasks commit on their poll loop
		wg.Add(1)
		go func() { defer wg.Done(); s.committer(runCtx) }()
	}
	s.loop(runCtx)
	cancel()
	wg.Wait()

	// Shutdown: deliver what is in flight, store the offsets, stop the task.
	close(s.stopping)
	sctx, scancel := context.WithTimeout(context.Background(), t.w.cfg.OffsetFlushTimeout)
	defer scancel()
	if txn != nil {
		// Connect: the final transaction commits unless the task failed.
		if s.fail.get() == nil {
			if err := txn.commitFinal(); err != nil {
				s.fail.set(err)
			}
		} else {
			_ = txn.abort(s.fail.get())
		}
		prodCancel()
		if err := task.Stop(); err != nil {
			t.log.Warn("task stop", "err", err)
		}
		return s.fail.get()
	}
	if err := prod.Flush(sctx); err != nil {
		t.log.Warn("records still in flight at stop; their offsets are not committed", "err", err, "pending", s.tracker.Pending())
	}
	prodCancel()
	if _, err := s.commit(sctx); err != nil {
		s.fail.set(err)
	}
	if err := task.Stop(); err != nil {
		t.log.Warn("task stop", "err", err)
	}
	return s.fail.get()
}

func (s *sourceRun) loop(ctx context.Context) {
	t := s.t
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if paused, ch := t.pauseState(); paused {
			if s.txn != nil && s.txn.open { // no transaction stays open while paused
				if err := s.txn.commitFinal(); err != nil {
					s.fail.set(err)
					return
				}
			}
			select {
			case <-ch:
			case <-ctx.Done():
			}
			continue
		}
		recs, err := s.task.Poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, connector.ErrRetriable) {
				t.log.Warn("poll failed; retrying", "err", err, "backoff", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				backoff = min(backoff*2, 10*time.Second)
				continue
			}
			s.fail.set(fmt.Errorf("poll: %w", err))
			return
		}
		backoff = 100 * time.Millisecond
		if len(recs) == 0 {
			if s.txn != nil {
				if err := s.txn.afterBatch(true); err != nil {
					s.fail.set(err)
					return
				}
			}
			continue
		}
		if !t.w.leaseHeld() {
			// The worker lost its group membership: its work may run
			// elsewhere already. Nothing of this poll is sent or committed;
			// the task is being stopped.
			t.log.Warn("lease lost: records of this poll held back until the task stops", "records", len(recs))
			<-ctx.Done()
			return
		}
		t.w.opts.Observer.SourcePolled(t.conn, t.id, len(recs))
		for i := range recs {
			if err := s.send(ctx, recs[i]); err != nil {
				if ctx.Err() == nil || s.fail.get() == nil {
					s.fail.set(err)
				}
				return
			}
		}
		if s.txn != nil {
			if err := s.txn.afterBatch(false); err != nil {
				s.fail.set(err)
				return
			}
		}
	}
}

// firstCommitInterval is how often the committer looks for the task's first
// committable offsets. Until a task has stored one offset, a crash makes it
// start from nothing — a CDC source then snapshots again, and a new snapshot
// cannot retract rows deleted since the first one — so the first offset is
// stored as soon as Kafka acknowledged its record, not one
// offset.flush.interval.ms later.
const firstCommitInterval = 50 * time.Millisecond

// committer stores committable offsets every offset.flush.interval.ms, and
// the first ones as soon as they exist.
func (s *sourceRun) committer(ctx context.Context) {
	interval := s.t.w.cfg.OffsetFlushInterval
	first := interval > firstCommitInterval
	if first {
		interval = firstCommitInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			cctx, cancel := context.WithTimeout(ctx, s.t.w.cfg.OffsetFlushTimeout)
			stored, err := s.commit(cctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.fail.set(err)
				return
			}
			if first && stored {
				first = false
				tick.Reset(s.t.w.cfg.OffsetFlushInterval)
			}
		}
	}
}

// commit writes the offsets that became committable, then tells the task.
// stored reports whether any offset was written.
func (s *sourceRun) commit(ctx context.Context) (stored bool, err error) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	for k, o := range s.tracker.Committable() {
		s.uncommited[k] = o
	}
	if len(s.uncommited) == 0 {
		return false, nil
	}
	entries := make([]offsets.Entry, 0, len(s.uncommited))
	offs := make([]connector.Offset, 0, len(s.uncommited))
	for _, o := range s.uncommited {
		entries = append(entries, offsets.Entry{Partition: o.Partition, Offset: o.Offset})
		offs = append(offs, o)
	}
	start := time.Now()
	err = s.t.offsetStore().Put(ctx, s.t.conn, entries) // per-task writer in distributed mode (distributed_tasks.go)
	s.t.w.opts.Observer.OffsetCommit(s.t.conn, s.t.id, time.Since(start), err)
	if err != nil {
		return false, fmt.Errorf("commit offsets: %w", err)
	}
	clear(s.uncommited)
	if err := s.task.Commit(ctx, offs); err != nil {
		s.t.log.Warn("task commit", "err", err)
	}
	return true, nil
}

// track registers a record's source offset in poll order; records without
// a source partition or offset are not tracked.
func (s *sourceRun) track(ctx context.Context, rec *schema.Record) (*offsets.Ticket[connector.Offset], error) {
	if rec.SourcePartition == nil || rec.SourceOffset == nil {
		return nil, nil
	}
	// Connectors usually share one partition map across records; its ID
	// (canonical JSON) is cached by map identity.
	ptr := reflect.ValueOf(rec.SourcePartition).UnsafePointer()
	if ptr != s.lastPartPtr {
		s.lastPartPtr, s.lastPartID = ptr, offsets.PartitionID(rec.SourcePartition)
	}
	if s.txn != nil {
		// Exactly-once: the offset goes in the open transaction with the
		// record (Connect's recordDispatched); both commit or neither.
		s.txn.pending[s.lastPartID] = connector.Offset{Partition: rec.SourcePartition, Offset: rec.SourceOffset}
		return nil, nil
	}
	return s.tracker.Track(ctx, s.lastPartID,
		connector.Offset{Partition: rec.SourcePartition, Offset: rec.SourceOffset})
}

// skip marks a record done without writing it (filtered, or tolerated
// error): its offset still advances.
func (s *sourceRun) skip(ctx context.Context, rec *schema.Record) error {
	tk, err := s.track(ctx, rec)
	if err != nil {
		return err
	}
	if tk != nil {
		tk.Ack()
	}
	s.t.w.opts.Observer.SourceWritten(s.t.conn, s.t.id, 1)
	return nil
}

// send transforms, converts and produces one record.
func (s *sourceRun) send(ctx context.Context, orig schema.Record) error {
	t, parts := s.t, &s.parts
	if orig.OffsetOnly {
		return s.skip(ctx, &orig)
	}
	rec := orig
	if parts.xf != nil {
		out, keep, err := parts.xf.Apply(rec)
		if err != nil {
			if rerr := t.report(ctx, parts, ErrantRecord{Stage: StageTransformation, Record: &orig, Err: err}); rerr != nil {
				return rerr
			}
			return s.skip(ctx, &orig)
		}
		if !keep {
			return s.skip(ctx, &orig)
		}
		rec = out
	}
	if rec.Topic == "" {
		return fmt.Errorf("source record has no topic (partition %v offset %v)", orig.SourcePartition, orig.SourceOffset)
	}
	key, err := parts.key.FromConnect(rec.Topic, rec.Headers, rec.KeySchema, rec.Key)
	if err != nil { // errors.retry.timeout for retriable failures (worker_dlq.go)
		key, err = retryFromConnect(ctx, parts.errs, parts.key, rec.Topic, rec.Headers, rec.KeySchema, rec.Key, err)
	}
	if err != nil {
		if rerr := t.report(ctx, parts, ErrantRecord{Stage: StageKeyConverter, Class: parts.keyClass, Record: &orig,
			Err: fmt.Errorf("convert key for topic %s: %w", rec.Topic, err)}); rerr != nil {
			return rerr
		}
		return s.skip(ctx, &orig)
	}
	val, err := parts.value.FromConnect(rec.Topic, rec.Headers, rec.ValueSchema, rec.Value)
	if err != nil {
		val, err = retryFromConnect(ctx, parts.errs, parts.value, rec.Topic, rec.Headers, rec.ValueSchema, rec.Value, err)
	}
	if err != nil {
		if rerr := t.report(ctx, parts, ErrantRecord{Stage: StageValueConverter, Class: parts.valueClass, Record: &orig,
			Err: fmt.Errorf("convert value for topic %s: %w", rec.Topic, err)}); rerr != nil {
			return rerr
		}
		return s.skip(ctx, &orig)
	}
	if err := s.ensureTopic(ctx, rec.Topic); err != nil {
		return err
	}
	kr := &kgo.Record{Topic: rec.Topic, Key: key, Value: val, Timestamp: rec.Timestamp}
	if len(rec.Headers) > 0 {
		kr.Headers = make([]kgo.RecordHeader, len(rec.Headers))
		for i, h := range rec.Headers {
			kr.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
	}
	if rec.Partition >= 0 {
		kafka.WithPartition(kr, rec.Partition)
	}
	if s.txn != nil {
		if err := s.txn.checkTopic(rec.Topic); err != nil {
			return err
		}
		if err := s.txn.begin(); err != nil {
			return err
		}
	}
	tk, err := s.track(ctx, &orig)
	if err != nil {
		return err
	}
	s.prod.Produce(s.prodCtx, kr, func(r *kgo.Record, err error) {
		if err == nil {
			if tk != nil {
				tk.Ack()
			}
			t.w.opts.Observer.SourceWritten(t.conn, t.id, 1)
			return
		}
		select {
		case <-s.stopping:
			if errors.Is(err, context.Canceled) {
				return // abandoned at shutdown; its offset stays uncommitted
			}
		default:
		}
		if s.txn != nil {
			// The transaction cannot commit: the task fails (Connect), and
			// no DLQ takes the record outside the transaction.
			err = fmt.Errorf("produce to topic %s: %w", r.Topic, err)
			s.txn.sendFailed(err)
			s.fail.set(s.txn.tp.Fenced(err))
			return
		}
		rerr := t.report(context.Background(), parts, ErrantRecord{Stage: StageKafkaProduce, Record: &orig,
			Err: fmt.Errorf("produce to topic %s: %w", r.Topic, err)})
		if rerr != nil {
			s.fail.set(rerr)
			return
		}
		if tk != nil {
			tk.Ack()
		}
	})
	return nil
}

// ensureTopic creates a topic before its first record when the worker runs
// the embedded broker. kfake persists topics created with CreateTopics but
// not those auto-created by a metadata request, which a kill -9 would lose
// (with their records); creating them explicitly keeps restarts lossless.
// Against a real cluster topics are left to the broker's auto-creation or
// to topic.creation settings.
func (s *sourceRun) ensureTopic(ctx context.Context, topic string) error {
	if s.topics != nil && !s.created[topic] {
		if err := s.topics.Ensure(ctx, topic); err != nil {
			return err
		}
	}
	if s.t.w.embedded == nil || s.created[topic] {
		return nil
	}
	if err := kafka.EnsureTopics(ctx, s.prod, kafka.TopicSpec{Name: topic, Partitions: -1, ReplicationFactor: -1}); err != nil {
		return err
	}
	s.created[topic] = true
	return nil
}
