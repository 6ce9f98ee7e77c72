package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	"github.com/tributary-cdc/tributary/schema"
)

// sinkRun is the state of one running sink task.
type sinkRun struct {
	t     *taskRunner
	task  connector.SinkTask
	parts taskParts
	cl    *kgo.Client
	fail  *failure

	// mu guards pending and stopped: rebalance callbacks run on kgo's
	// goroutine, between AllowRebalance and the next poll's return.
	mu      sync.Mutex
	pending map[string]map[int32]kgo.EpochOffset // next offsets to commit, all handed to Put
	stopped bool
	// raw maps a record handed to Put back to its consumed bytes, for
	// TaskContext.Report. Entries live until their offsets are committed, so
	// a task that reports a record during Flush or a later Put (a batch
	// retried row by row) still dead-letters its original bytes.
	raw map[rawKey]*kgo.Record
	// rawBytes is the key and value bytes held in raw. The loop flushes
	// and commits early when it reaches maxRawBytes, so memory stays
	// bounded whatever offset.flush.interval.ms and the throughput are.
	rawBytes int
}

// maxRawBytes bounds the consumed bytes a sink task holds between commits
// (as Kafka's producer bounds its buffer with buffer.memory).
const maxRawBytes = 32 << 20

type rawKey struct {
	topic     string
	partition int32
	offset    int64
}

func (t *taskRunner) consumerProps() map[string]string {
	props := t.w.ClientProps("consumer.")
	for k, v := range t.cfg {
		if strings.HasPrefix(k, "consumer.override.") {
			props[strings.TrimPrefix(k, "consumer.override.")] = v
		}
	}
	if props["client.id"] == "" || props["client.id"] == t.w.cfg.Raw["client.id"] {
		props["client.id"] = fmt.Sprintf("connector-consumer-%s-%d", t.conn, t.id)
	}
	return props
}

func (t *taskRunner) runSink(ctx context.Context, p connector.SinkPlugin) error {
	parts, err := t.buildParts(ctx)
	if err != nil {
		return err
	}
	defer parts.errs.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &sinkRun{t: t, parts: parts, fail: &failure{cancel: cancel}, pending: map[string]map[int32]kgo.EpochOffset{}}

	var topics []string
	for _, tp := range strings.Split(t.cfg[KeyTopics], ",") {
		if tp = strings.TrimSpace(tp); tp != "" {
			topics = append(topics, tp)
		}
	}
	group := sinkGroup(t.conn, t.cfg)
	opts, err := kafka.GroupOpts(t.consumerProps(), group, topics, strings.TrimSpace(t.cfg[KeyTopicsRegex]))
	if err != nil {
		return fmt.Errorf("consumer config: %w", err)
	}
	opts = append(opts, t.w.hookOpts()...)
	opts = append(opts,
		kgo.OnPartitionsRevoked(func(cctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
			s.onRevoked(cctx, revoked)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			s.drop(lost)
		}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	s.cl = cl

	task := p.NewTask()
	tc := t.taskContext()
	tc.Offsets = nil
	tc.Report = s.reportFromTask
	if err := task.Start(ctx, t.cfg, tc); err != nil {
		cl.Close()
		return fmt.Errorf("start task: %w", err)
	}
	s.task = task
	s.loop(runCtx)

	// Shutdown: flush and commit what was handed to Put, then leave.
	sctx, scancel := context.WithTimeout(context.Background(), t.w.cfg.OffsetFlushTimeout)
	defer scancel()
	if s.fail.get() == nil {
		if err := s.flushAndCommit(sctx); err != nil {
			t.log.Warn("final flush/commit failed; records will be replayed", "err", err)
		}
	}
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	t.leaveAndClose(cl, group)
	if err := task.Stop(); err != nil {
		t.log.Warn("task stop", "err", err)
	}
	return s.fail.get()
}

func (s *sinkRun) loop(ctx context.Context) {
	t := s.t
	lastCommit := time.Now()
	pausedTopics := false
	for ctx.Err() == nil {
		paused, _ := t.pauseState()
		if paused != pausedTopics {
			if paused {
				s.cl.PauseFetchTopics(s.cl.GetConsumeTopics()...)
			} else {
				s.cl.ResumeFetchTopics(s.cl.GetConsumeTopics()...)
			}
			pausedTopics = paused
		}
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		fetches := s.cl.PollFetches(pctx)
		pcancel()
		if fetches.IsClientClosed() {
			return
		}
		var fatal error
		fetches.EachError(func(topic string, part int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			t.log.Warn("fetch error", "topic", topic, "partition", part, "err", err)
			var de *kgo.ErrDataLoss
			if errors.As(err, &de) {
				return // the client already reset; logged above
			}
			if fatal == nil && (errors.Is(err, kerr.GroupAuthorizationFailed) || errors.Is(err, kerr.TopicAuthorizationFailed)) {
				fatal = err
			}
		})
		if fatal != nil {
			s.fail.set(fmt.Errorf("consume: %w", fatal))
			s.cl.AllowRebalance()
			return
		}
		recs := fetches.Records()
		if len(recs) > 0 {
			t.w.opts.Observer.SinkRead(t.conn, t.id, len(recs))
			if err := s.deliver(ctx, recs); err != nil {
				if ctx.Err() == nil {
					s.fail.set(err)
				}
				s.cl.AllowRebalance()
				return
			}
		}
		s.mu.Lock()
		rawFull := s.rawBytes >= maxRawBytes
		s.mu.Unlock()
		if time.Since(lastCommit) >= t.w.cfg.OffsetFlushInterval || rawFull {
			cctx, ccancel := context.WithTimeout(ctx, t.w.cfg.OffsetFlushTimeout)
			err := s.flushAndCommit(cctx)
			ccancel()
			if err != nil && ctx.Err() == nil {
				if !errors.Is(err, connector.ErrRetriable) {
					s.fail.set(err)
					s.cl.AllowRebalance()
					return
				}
				t.log.Warn("flush failed; will retry at the next commit", "err", err)
			}
			lastCommit = time.Now()
		}
		s.cl.AllowRebalance()
	}
}

// deliver converts and transforms one poll and hands it to Put, retrying
// the same batch while Put returns a retriable error.
func (s *sinkRun) deliver(ctx context.Context, recs []*kgo.Record) error {
	t := s.t
	if !t.w.leaseHeld() {
		// The worker lost its group membership: the partitions may be
		// another worker's already. Nothing of this fetch is put or
		// committed; the task is being stopped.
		t.log.Warn("lease lost: records of this fetch held back until the task stops", "records", len(recs))
		<-ctx.Done()
		return nil
	}
	batch := make([]schema.Record, 0, len(recs))
	raw := make(map[rawKey]*kgo.Record, len(recs))
	for _, kr := range recs {
		rec, keep, err := s.convert(ctx, kr)
		if err != nil {
			return err
		}
		if keep {
			batch = append(batch, rec)
			// Keyed by where it was consumed: commits release by that.
			raw[rawKey{kr.Topic, kr.Partition, kr.Offset}] = kr
		}
	}
	s.mu.Lock()
	if s.raw == nil {
		s.raw = make(map[rawKey]*kgo.Record, len(raw))
	}
	for k, kr := range raw {
		if _, dup := s.raw[k]; !dup {
			s.rawBytes += len(kr.Key) + len(kr.Value)
		}
		s.raw[k] = kr
	}
	s.mu.Unlock()
	if len(batch) > 0 {
		start := time.Now()
		// Retriable failures get the same batch again, with jittered
		// backoff capped by errors.retry.delay.max.ms (worker_dlq.go).
		err := retryPut(ctx, s.parts.errs, t.log, func(ctx context.Context) error { return s.task.Put(ctx, batch) })
		switch {
		case err == nil:
			t.w.opts.Observer.SinkPut(t.conn, t.id, len(batch), time.Since(start))
		case ctx.Err() != nil:
			return nil
		default:
			return fmt.Errorf("put: %w", err)
		}
	}
	s.mu.Lock()
	for _, kr := range recs {
		m := s.pending[kr.Topic]
		if m == nil {
			m = map[int32]kgo.EpochOffset{}
			s.pending[kr.Topic] = m
		}
		m[kr.Partition] = kgo.EpochOffset{Epoch: kr.LeaderEpoch, Offset: kr.Offset + 1}
	}
	s.mu.Unlock()
	return nil
}

// convert turns a consumed record into a Connect record; keep=false means
// it was filtered or its error tolerated.
func (s *sinkRun) convert(ctx context.Context, kr *kgo.Record) (schema.Record, bool, error) {
	t, parts := s.t, &s.parts
	var headers []schema.Header
	if len(kr.Headers) > 0 {
		headers = make([]schema.Header, len(kr.Headers))
		for i, h := range kr.Headers {
			headers[i] = schema.Header{Key: h.Key, Value: h.Value}
		}
	}
	ks, k, err := parts.key.ToConnect(kr.Topic, headers, kr.Key)
	if err != nil { // errors.retry.timeout for retriable failures (worker_dlq.go)
		ks, k, err = retryToConnect(ctx, parts.errs, parts.key, kr.Topic, headers, kr.Key, err)
	}
	if err != nil {
		return schema.Record{}, false, t.report(ctx, parts, ErrantRecord{Stage: StageKeyConverter, Class: parts.keyClass, Raw: kr,
			Err: fmt.Errorf("convert key of %s-%d@%d: %w", kr.Topic, kr.Partition, kr.Offset, err)})
	}
	vs, v, err := parts.value.ToConnect(kr.Topic, headers, kr.Value)
	if err != nil {
		vs, v, err = retryToConnect(ctx, parts.errs, parts.value, kr.Topic, headers, kr.Value, err)
	}
	if err != nil {
		return schema.Record{}, false, t.report(ctx, parts, ErrantRecord{Stage: StageValueConverter, Class: parts.valueClass, Raw: kr,
			Err: fmt.Errorf("convert value of %s-%d@%d: %w", kr.Topic, kr.Partition, kr.Offset, err)})
	}
	rec := schema.Record{
		Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
		OriginalTopic: kr.Topic, OriginalPartition: kr.Partition, OriginalOffset: kr.Offset,
		KeySchema: ks, Key: k, ValueSchema: vs, Value: v,
		Headers: headers, Timestamp: kr.Timestamp,
	}
	if parts.xf != nil {
		out, keep, err := parts.xf.Apply(rec)
		if err != nil {
			return schema.Record{}, false, t.report(ctx, parts, ErrantRecord{Stage: StageTransformation, Raw: kr, Record: &rec, Err: err})
		}
		if !keep {
			return schema.Record{}, false, nil
		}
		rec = out
	}
	return rec, true, nil
}

// reportFromTask is TaskContext.Report: a record the task could not apply.
func (s *sinkRun) reportFromTask(ctx context.Context, rec schema.Record, err error) error {
	s.mu.Lock()
	kr := s.raw[rawKey{rec.OrigTopic(), rec.OrigPartition(), rec.OrigOffset()}]
	s.mu.Unlock()
	return s.t.report(ctx, &s.parts, ErrantRecord{Stage: StageTaskPut, Class: s.t.plugin.Class(), Raw: kr, Record: &rec, Err: err})
}

// flushAndCommit flushes the task and, once Flush returned nil, commits
// the consumer offsets of everything handed to Put (DESIGN rule 2).
func (s *sinkRun) flushAndCommit(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped || len(s.pending) == 0 {
		s.mu.Unlock()
		return nil
	}
	commit := make(map[string]map[int32]kgo.EpochOffset, len(s.pending))
	for tp, m := range s.pending {
		mm := make(map[int32]kgo.EpochOffset, len(m))
		for p, o := range m {
			mm[p] = o
		}
		commit[tp] = mm
	}
	s.mu.Unlock()
	start := time.Now()
	if pc, ok := s.task.(connector.SinkPreCommitter); ok {
		var err error
		if commit, err = preCommit(ctx, pc, commit); err != nil {
			s.t.w.opts.Observer.OffsetCommit(s.t.conn, s.t.id, time.Since(start), err)
			return fmt.Errorf("pre-commit: %w", err)
		}
		if len(commit) == 0 {
			return nil
		}
	} else if err := s.task.Flush(ctx); err != nil {
		s.t.w.opts.Observer.OffsetCommit(s.t.conn, s.t.id, time.Since(start), err)
		return fmt.Errorf("flush: %w", err)
	}
	err := commitSync(ctx, s.cl, commit)
	s.t.w.opts.Observer.OffsetCommit(s.t.conn, s.t.id, time.Since(start), err)
	if err != nil {
		// Not fatal: the records stay uncommitted and are replayed if the
		// task dies before the next successful commit.
		s.t.log.Warn("commit consumer offsets", "err", err)
		return nil
	}
	s.mu.Lock()
	for tp, m := range commit {
		for p, o := range m {
			if cur, ok := s.pending[tp][p]; ok && cur.Offset == o.Offset {
				delete(s.pending[tp], p)
			}
		}
		if len(s.pending[tp]) == 0 {
			delete(s.pending, tp)
		}
	}
	s.forgetRawLocked(func(k rawKey) bool {
		o, ok := commit[k.topic][k.partition]
		return ok && k.offset < o.Offset
	})
	s.mu.Unlock()
	return nil
}

// preCommit asks a SinkPreCommitter which of the pending offsets are safe
// and keeps only those (never above what was handed to Put).
func preCommit(ctx context.Context, pc connector.SinkPreCommitter, pending map[string]map[int32]kgo.EpochOffset) (map[string]map[int32]kgo.EpochOffset, error) {
	current := make(map[connector.TopicPartition]int64)
	for tp, m := range pending {
		for p, o := range m {
			current[connector.TopicPartition{Topic: tp, Partition: p}] = o.Offset
		}
	}
	safe, err := pc.PreCommit(ctx, current)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[int32]kgo.EpochOffset)
	for tp, off := range safe {
		cur, ok := pending[tp.Topic][tp.Partition]
		if !ok || off < 0 {
			continue
		}
		eo := cur
		if off < cur.Offset {
			eo = kgo.EpochOffset{Epoch: -1, Offset: off}
		}
		if out[tp.Topic] == nil {
			out[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		out[tp.Topic][tp.Partition] = eo
	}
	return out, nil
}

func commitSync(ctx context.Context, cl *kgo.Client, offs map[string]map[int32]kgo.EpochOffset) error {
	var cerr error
	cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil && cerr == nil {
					cerr = fmt.Errorf("%s-%d: %w", t.Topic, p.Partition, e)
				}
			}
		}
	})
	return cerr
}

// forgetRawLocked drops the raw records for which gone reports true.
// s.mu must be held.
func (s *sinkRun) forgetRawLocked(gone func(rawKey) bool) {
	for k, kr := range s.raw {
		if gone(k) {
			s.rawBytes -= len(kr.Key) + len(kr.Value)
			delete(s.raw, k)
		}
	}
}

// onRevoked flushes and commits before partitions move to another member.
func (s *sinkRun) onRevoked(ctx context.Context, revoked map[string][]int32) {
	// Bounded as every commit (offset.flush.timeout.ms): a commit that
	// cannot reach the group coordinator must not hold the rebalance, and
	// with it the task's stop and the group's next generation.
	ctx, cancel := context.WithTimeout(ctx, s.t.w.cfg.OffsetFlushTimeout)
	defer cancel()
	if err := s.flushAndCommit(ctx); err != nil {
		s.t.log.Warn("flush on rebalance failed; records will be replayed", "err", err)
	}
	s.drop(revoked)
}

// drop forgets pending offsets of partitions no longer assigned and tells a
// task that implements SinkPartitionCloser (every SinkPreCommitter does) to
// drop what it buffers for them.
func (s *sinkRun) drop(parts map[string][]int32) {
	s.mu.Lock()
	var closed []connector.TopicPartition
	for tp, ps := range parts {
		for _, p := range ps {
			delete(s.pending[tp], p)
			closed = append(closed, connector.TopicPartition{Topic: tp, Partition: p})
		}
		if len(s.pending[tp]) == 0 {
			delete(s.pending, tp)
		}
	}
	s.forgetRawLocked(func(k rawKey) bool { return slices.Contains(parts[k.topic], k.partition) })
	s.mu.Unlock()
	if pc, ok := s.task.(connector.SinkPartitionCloser); ok && len(closed) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), s.t.w.cfg.OffsetFlushTimeout)
		defer cancel()
		if err := pc.ClosePartitions(ctx, closed); err != nil {
			s.t.log.Warn("close partitions", "err", err)
		}
	}
}

// leaveTimeout bounds how long a stopping sink task waits for its
// consumer's LeaveGroup before it closes the consumer and leaves the
// leaving to ensureLeft.
const leaveTimeout = 5 * time.Second

// leaveAndClose leaves the consumer group and closes the consumer. A
// consumer leaves its group when it closes, so the group rebalances at
// once; when the LeaveGroup cannot reach the group coordinator (its broker
// is down and the group is moving to another), franz-go's Close would wait
// for it, and the group would keep the member until its session expires
// (consumer session.timeout.ms, 45 s by default): the task's next consumer,
// on this worker or another, gets no partitions until then. So the leave
// gets leaveTimeout, the consumer is closed, and ensureLeft sends the
// LeaveGroup again, naming the member, until the coordinator answers.
func (t *taskRunner) leaveAndClose(cl *kgo.Client, group string) {
	memberID, _ := cl.GroupMetadata()
	cl.AllowRebalance()
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	err := cl.LeaveGroupContext(ctx)
	cancel()
	cl.Close() // immediate after a leave that gave up
	if err != nil && memberID != "" {
		t.log.Warn("consumer could not leave its group; retrying in the background", "group", group, "member", memberID, "err", err)
		go t.ensureLeft(group, memberID)
	}
}

// ensureLeft sends LeaveGroup for memberID until the coordinator answers
// (UNKNOWN_MEMBER_ID: it had left) or the member's session would have
// expired anyway. The member id is a closed consumer's own: no other
// consumer can be removed by it.
func (t *taskRunner) ensureLeft(group, memberID string) {
	adm, err := t.w.adminClient()
	if err != nil {
		return
	}
	session := 45 * time.Second
	if ms, err := strconv.Atoi(t.consumerProps()["session.timeout.ms"]); err == nil && ms > 0 {
		session = time.Duration(ms) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), session)
	defer cancel()
	for attempt := 0; ; attempt++ {
		err := kafka.LeaveGroup(ctx, adm, group, memberID)
		switch {
		case err == nil:
			t.log.Info("removed the group membership a closed consumer could not leave", "group", group, "member", memberID, "attempts", attempt+1)
			return
		case errors.Is(err, kerr.UnknownMemberID):
			return // it had left
		case ctx.Err() != nil || errors.Is(err, kgo.ErrClientClosed):
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}
