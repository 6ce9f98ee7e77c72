package distributed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/offsets"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// ErrFenced is returned by a source task's offset commit (or, with
// exactly-once support, its produce) after a newer owner of the task
// claimed its transactional ID: the task must stop. It is runtime.ErrFenced.
var ErrFenced = runtime.ErrFenced

// txnTimeout bounds how long the transaction of a worker that died in the
// middle of an offset commit holds back read_committed readers.
const txnTimeout = 10 * time.Second

// offsetStore keeps source offsets in offset.storage.topic in Connect's
// format (offsets.Key / offsets.EncodeOffset), with
// one difference that makes it the fence between an old and a new owner of
// a task: every source task writes its offsets through a transactional
// producer whose transactional ID is the task's
// (<group.id>-<connector>-<task>, Connect's exactly-once naming). claim
// initializes that producer before the task starts, which bumps the ID's
// epoch and so fences any older producer of the same ID on another worker:
// its next commit fails with ErrFenced and never reaches readers, which
// read with isolation read_committed.
type offsetStore struct {
	topic   string
	groupID string
	nc      newClient
	log     *slog.Logger
	prod    *kgo.Client // non-transactional writes (offsets REST API)
	cons    *kgo.Client

	mu      sync.Mutex
	table   map[string]map[string]offsets.Entry // connector → partition ID → entry
	read    map[int32]int64
	changed chan struct{}
	readErr error
	closed  bool
	writers map[runtime.TaskKey]*txnWriter

	cancel context.CancelFunc
	done   chan struct{}
}

var _ runtime.ExactlyOnceStore = (*offsetStore)(nil)

// txnWriter is one task's transactional producer: the claim's (offsets
// only), or with exactly-once support the task's own (records and offsets,
// runtime/eos.go), which replaced it.
type txnWriter struct {
	mu     sync.Mutex
	cl     *kgo.Client
	fenced error
}

func openOffsetStore(ctx context.Context, nc newClient, topic, groupID string, partitions int32, rf int16, log *slog.Logger) (*offsetStore, error) {
	prod, err := nc(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		return nil, err
	}
	if err := kafka.EnsureTopics(ctx, prod, kafka.Compacted(topic, partitions, rf)); err != nil {
		prod.Close()
		return nil, fmt.Errorf("offset topic: %w", err)
	}
	n, err := waitPartitions(ctx, prod, topic)
	if err != nil {
		prod.Close()
		return nil, fmt.Errorf("offset topic: %w", err)
	}
	start := map[int32]kgo.Offset{}
	for p := range int32(n) {
		start[p] = kgo.NewOffset().AtStart()
	}
	cons, err := nc(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		prod.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &offsetStore{topic: topic, groupID: groupID, nc: nc, log: log, prod: prod, cons: cons,
		table: map[string]map[string]offsets.Entry{}, read: map[int32]int64{}, changed: make(chan struct{}),
		writers: map[runtime.TaskKey]*txnWriter{}, cancel: cancel, done: make(chan struct{})}
	go s.follow(rctx)
	if err := s.sync(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *offsetStore) follow(ctx context.Context) {
	defer close(s.done)
	for {
		fs := s.cons.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				ferr = err
			}
		})
		s.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			s.read[r.Partition] = r.Offset + 1
			if r.Attrs.IsControl() {
				return // transaction marker: only moves the position
			}
			name, part, err := offsets.ParseKey(r.Key)
			if err != nil {
				return
			}
			off, err := offsets.DecodeOffset(r.Value)
			if err != nil {
				return
			}
			s.apply(name, offsets.Entry{Partition: part, Offset: off})
		})
		s.readErr = ferr
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// apply records one entry (s.mu held); a nil offset deletes.
func (s *offsetStore) apply(conn string, e offsets.Entry) {
	id := offsets.PartitionID(e.Partition)
	if e.Offset == nil {
		delete(s.table[conn], id)
		return
	}
	if s.table[conn] == nil {
		s.table[conn] = map[string]offsets.Entry{}
	}
	s.table[conn][id] = e
}

// sync waits until every committed offset record is applied (up to each
// partition's last stable offset: open transactions are not waited for).
func (s *offsetStore) sync(ctx context.Context) error {
	target, err := kafka.StableOffsets(ctx, s.prod, s.topic, endOffsetPatience)
	if err != nil {
		return fmt.Errorf("offset topic: %w", err)
	}
	for {
		s.mu.Lock()
		done := true
		for p, off := range target {
			if s.read[p] < off {
				done = false
			}
		}
		ch, closed, rerr := s.changed, s.closed, s.readErr
		s.mu.Unlock()
		if done {
			return nil
		}
		if closed {
			return offsets.ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if rerr != nil {
				return fmt.Errorf("read offset topic %s: %w (last read error: %v)", s.topic, ctx.Err(), rerr)
			}
			return fmt.Errorf("read offset topic %s: %w", s.topic, ctx.Err())
		}
	}
}

// Get implements offsets.Store.
func (s *offsetStore) Get(_ context.Context, conn string, partition map[string]any) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, offsets.ErrClosed
	}
	e, ok := s.table[conn][offsets.PartitionID(partition)]
	if !ok {
		return nil, nil
	}
	return maps.Clone(e.Offset), nil
}

// List implements offsets.Store.
func (s *offsetStore) List(_ context.Context, conn string) ([]offsets.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, offsets.ErrClosed
	}
	ids := slices.Sorted(maps.Keys(s.table[conn]))
	out := make([]offsets.Entry, 0, len(ids))
	for _, id := range ids {
		e := s.table[conn][id]
		out = append(out, offsets.Entry{Partition: maps.Clone(e.Partition), Offset: maps.Clone(e.Offset)})
	}
	return out, nil
}

func records(topic, conn string, entries []offsets.Entry) ([]*kgo.Record, error) {
	recs := make([]*kgo.Record, 0, len(entries))
	for _, e := range entries {
		k, err := offsets.Key(conn, e.Partition)
		if err != nil {
			return nil, fmt.Errorf("offset key for %s: %w", conn, err)
		}
		v, err := offsets.EncodeOffset(e.Offset)
		if err != nil {
			return nil, fmt.Errorf("offset value for %s: %w", conn, err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: k, Value: v})
	}
	return recs, nil
}

// Put implements offsets.Store without a transaction (the offsets REST API
// of a STOPPED connector).
func (s *offsetStore) Put(ctx context.Context, conn string, entries []offsets.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	recs, err := records(s.topic, conn, entries)
	if err != nil {
		return err
	}
	if err := s.prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("write offsets to %s: %w", s.topic, err)
	}
	s.applyAll(conn, entries)
	return nil
}

func (s *offsetStore) applyAll(conn string, entries []offsets.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.apply(conn, offsets.Entry{Partition: maps.Clone(e.Partition), Offset: maps.Clone(e.Offset)})
	}
}

// Delete implements offsets.Store: tombstones for every partition.
func (s *offsetStore) Delete(ctx context.Context, conn string) error {
	es, err := s.List(ctx, conn)
	if err != nil || len(es) == 0 {
		return err
	}
	for i := range es {
		es[i].Offset = nil
	}
	return s.Put(ctx, conn, es)
}

// ForTask implements runtime.TaskOffsetStore.
func (s *offsetStore) ForTask(conn string, task int) offsets.Store {
	return taskOffsets{s: s, key: runtime.TaskKey{Connector: conn, Task: task}}
}

// transactionalID is the task's transactional ID (Connect's
// <group.id>-<connector>-<task>).
func (s *offsetStore) transactionalID(k runtime.TaskKey) string {
	return fmt.Sprintf("%s-%s-%d", s.groupID, k.Connector, k.Task)
}

// claim makes this worker the only one able to commit the task's offsets:
// it initializes a producer with the task's transactional ID, which fences
// every older producer of it (on any worker), then reads the offset topic
// to its last stable offsets so the task starts from its predecessor's
// last commit.
func (s *offsetStore) claim(ctx context.Context, k runtime.TaskKey) error {
	s.release(k)
	cl, err := s.nc(kgo.TransactionalID(s.transactionalID(k)), kgo.TransactionTimeout(txnTimeout),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		return err
	}
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		return fmt.Errorf("claim transactional id %s: %w", s.transactionalID(k), err)
	}
	s.mu.Lock()
	s.writers[k] = &txnWriter{cl: cl}
	s.mu.Unlock()
	return s.sync(ctx)
}

// release closes the task's producer (after the task stopped).
func (s *offsetStore) release(k runtime.TaskKey) {
	s.mu.Lock()
	w := s.writers[k]
	delete(s.writers, k)
	s.mu.Unlock()
	if w != nil {
		w.mu.Lock()
		w.cl.Close()
		w.fenced = ErrFenced
		w.mu.Unlock()
	}
}

// Close implements offsets.Store.
func (s *offsetStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ws := s.writers
	s.writers = map[runtime.TaskKey]*txnWriter{}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	for _, w := range ws {
		w.cl.Close()
	}
	s.cancel()
	s.cons.Close()
	<-s.done
	s.prod.Close()
	return nil
}

// taskOffsets is the store a source task commits through.
type taskOffsets struct {
	s   *offsetStore
	key runtime.TaskKey
}

func (t taskOffsets) Get(ctx context.Context, conn string, p map[string]any) (map[string]any, error) {
	return t.s.Get(ctx, conn, p)
}

func (t taskOffsets) List(ctx context.Context, conn string) ([]offsets.Entry, error) {
	return t.s.List(ctx, conn)
}

func (t taskOffsets) Delete(ctx context.Context, conn string) error { return t.s.Delete(ctx, conn) }

func (t taskOffsets) Close() error { return nil }

// Put writes the task's offsets in one transaction of its claimed producer.
// Without a claim (the task was released) or after a newer owner claimed
// the task, it fails with ErrFenced and writes nothing readers see.
func (t taskOffsets) Put(ctx context.Context, conn string, entries []offsets.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	t.s.mu.Lock()
	w := t.s.writers[t.key]
	t.s.mu.Unlock()
	if w == nil {
		return fmt.Errorf("task %s: %w (not claimed on this worker)", t.key, ErrFenced)
	}
	recs, err := records(t.s.topic, conn, entries)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fenced != nil {
		return fmt.Errorf("task %s: %w", t.key, w.fenced)
	}
	// A transaction, once begun, is ended, whatever ctx (bounded by
	// offset.flush.timeout.ms) does: a producer left inside a transaction
	// refuses the next one, and a commit that only took long (a loaded
	// cluster of three brokers) is still a commit. The fence does not
	// depend on timing: a newer owner's claim makes this fail.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(time.Until(deadlineOr(ctx, time.Now())), txnEndTimeout))
	defer cancel()
	ctx = tctx
	if err := w.cl.BeginTransaction(); err != nil {
		return t.fail(w, fmt.Errorf("begin offset transaction: %w", err))
	}
	perr := w.cl.ProduceSync(ctx, recs...).FirstErr()
	how := kgo.TryCommit
	if perr != nil {
		how = kgo.TryAbort
	}
	eerr := w.cl.EndTransaction(ctx, how)
	if perr != nil {
		return t.fail(w, fmt.Errorf("write offsets to %s: %w", t.s.topic, perr))
	}
	if eerr != nil {
		return t.fail(w, fmt.Errorf("commit offset transaction: %w", eerr))
	}
	t.s.applyAll(conn, entries)
	return nil
}

// txnEndTimeout is the least time an offset transaction gets to end.
const txnEndTimeout = 30 * time.Second

// deadlineOr returns ctx's deadline, or def without one.
func deadlineOr(ctx context.Context, def time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return def
}

// fail marks the writer fenced when the broker says so (w.mu held).
func (t taskOffsets) fail(w *txnWriter, err error) error {
	if runtime.IsFencedError(err) {
		w.fenced = ErrFenced
		if errors.Is(err, ErrFenced) {
			return fmt.Errorf("task %s: %w", t.key, err)
		}
		return fmt.Errorf("task %s: %w: %w", t.key, ErrFenced, err)
	}
	return fmt.Errorf("task %s: %w", t.key, err)
}

// Transactional implements runtime.ExactlyOnceStore: the task's producer,
// built from the task's options, replaces the claim's. Initializing it bumps
// the transactional ID's epoch once more (the claim's producer, on this
// worker, is the one fenced, and is closed); then the offsets topic is read
// to its last stable offsets. A task that lost its claim (released, or
// fenced by a newer owner) gets ErrFenced: the herder claims again before
// it starts the task anew.
func (s *offsetStore) Transactional(ctx context.Context, conn string, task int, opts []kgo.Opt) (runtime.TaskProducer, error) {
	k := runtime.TaskKey{Connector: conn, Task: task}
	s.mu.Lock()
	w := s.writers[k]
	s.mu.Unlock()
	if w == nil {
		return nil, fmt.Errorf("task %s: %w (not claimed on this worker)", k, ErrFenced)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fenced != nil {
		return nil, fmt.Errorf("task %s: %w", k, w.fenced)
	}
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.TransactionalID(s.transactionalID(k)))...)
	if err != nil {
		return nil, fmt.Errorf("task %s: producer: %w", k, err)
	}
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		return nil, taskOffsets{s: s, key: k}.fail(w, fmt.Errorf("initialize transactional id %s: %w", s.transactionalID(k), err))
	}
	w.cl.Close()
	w.cl = cl
	if err := s.sync(ctx); err != nil {
		return nil, err
	}
	return &taskProducer{s: s, w: w, key: k, cl: cl}, nil
}

// taskProducer is a task's exactly-once producer (runtime.TaskProducer).
type taskProducer struct {
	s   *offsetStore
	w   *txnWriter
	key runtime.TaskKey
	cl  *kgo.Client
}

func (p *taskProducer) Client() *kgo.Client  { return p.cl }
func (p *taskProducer) OffsetsTopic() string { return p.s.topic }
func (p *taskProducer) Committed(conn string, entries []offsets.Entry) {
	p.s.applyAll(conn, entries)
}

func (p *taskProducer) OffsetRecords(conn string, entries []offsets.Entry) ([]*kgo.Record, error) {
	return records(p.s.topic, conn, entries)
}

func (p *taskProducer) Fenced(err error) error {
	if err == nil || !runtime.IsFencedError(err) {
		return err
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return taskOffsets{s: p.s, key: p.key}.fail(p.w, err)
}
