package runtime

// Exactly-once source support (Kafka Connect's KIP-618).
//
// With exactly.once.source.support=enabled on a distributed worker, a
// source task's records are produced by a transactional producer whose
// transactional ID is the task's (<group.id>-<connector>-<task>), and the
// task's source offsets are written to the offsets topic by the same
// producer in the same transaction: a poll batch (transaction.boundary=poll)
// or the records of transaction.boundary.interval.ms (interval) become
// visible to read_committed consumers together with the offsets that say
// they were sent, or not at all. The task's producer is initialized before
// the task starts, which fences every older producer of the ID (a zombie on
// a paused or partitioned worker): the zombie's open transaction is aborted
// and its next produce or commit fails, so it cannot add a record after the
// new owner's first. A fenced task stops with ErrFenced.
//
// preparing and disabled keep at-least-once records; in distributed mode
// the offsets are still written in per-task transactions (the fence of
// TaskOffsetStore), so preparing is the step of Connect's upgrade path
// (every worker on preparing, then every worker on enabled) and behaves as
// disabled here.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/offsets"
)

// Exactly-once keys: the worker's (DistributedConfig) and the source
// connector's (SourceConnectorConfig).
const (
	KeyExactlyOnceSourceSupport    = "exactly.once.source.support"
	KeyExactlyOnceSupport          = "exactly.once.support"
	KeyTransactionBoundary         = "transaction.boundary"
	KeyTransactionBoundaryInterval = "transaction.boundary.interval.ms"
)

// Values of exactly.once.source.support.
const (
	EOSDisabled  = "disabled"
	EOSPreparing = "preparing"
	EOSEnabled   = "enabled"
)

// Transaction boundaries (transaction.boundary).
const (
	BoundaryPoll      = "poll"
	BoundaryInterval  = "interval"
	BoundaryConnector = "connector"
)

// defaultTxnTimeout is the transaction timeout of a task's producer
// (transaction.timeout.ms, Kafka's producer default).
const defaultTxnTimeout = 60 * time.Second

// ErrFenced is returned when a newer owner of a source task initialized the
// task's transactional ID: this worker's producer of it can write nothing
// more, and the task stops.
var ErrFenced = errors.New("fenced: another worker now owns this task")

// ExactlyOnceStore is a TaskOffsetStore that can give a source task one
// transactional producer for its records and its offsets (distributed mode).
type ExactlyOnceStore interface {
	TaskOffsetStore
	// Transactional builds the task's producer from opts plus the task's
	// transactional ID, initializes it (fencing every older producer of the
	// ID, on any worker, and aborting its open transaction), and reads the
	// offsets topic up to its last stable offsets, so that the task then
	// reads its predecessor's last committed offsets. The store owns the
	// producer: it is closed when the task is released or the store closes.
	Transactional(ctx context.Context, connector string, task int, opts []kgo.Opt) (TaskProducer, error)
}

// TaskProducer is a source task's transactional producer.
type TaskProducer interface {
	// Client is the producer; the task begins and ends its transactions.
	Client() *kgo.Client
	// OffsetsTopic is where the task's offset records go.
	OffsetsTopic() string
	// OffsetRecords returns the offset records (Connect's key and value
	// format) of a connector's entries.
	OffsetRecords(connector string, entries []offsets.Entry) ([]*kgo.Record, error)
	// Committed tells the store the entries were committed in a transaction.
	Committed(connector string, entries []offsets.Entry)
	// Fenced marks the producer fenced when err says so and returns err
	// wrapped with ErrFenced then.
	Fenced(err error) error
}

// IsFencedError reports whether a producer error means a newer producer of
// the same transactional ID exists (or the ID may not be used): the producer
// can never write again.
func IsFencedError(err error) bool {
	return errors.Is(err, ErrFenced) || errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed) || errors.Is(err, kerr.InvalidProducerIDMapping)
}

// eosMode returns the worker's exactly.once.source.support.
func (w *Worker) eosMode() string {
	v := strings.ToLower(strings.TrimSpace(w.cfg.Raw[KeyExactlyOnceSourceSupport]))
	if v == "" {
		return EOSDisabled
	}
	return v
}

// exactlyOnceStore returns the store that gives tasks transactional
// producers when the worker runs exactly-once source support, else nil.
func (w *Worker) exactlyOnceStore() ExactlyOnceStore {
	if w.eosMode() != EOSEnabled {
		return nil
	}
	s, _ := w.store.(ExactlyOnceStore)
	return s
}

// checkExactlyOnceWorker refuses exactly.once.source.support values the
// worker cannot honour: any but disabled without a store of per-task
// transactions (standalone mode; Connect: "Kafka Connect in standalone mode
// does not support exactly-once source connectors").
func (w *Worker) checkExactlyOnceWorker() error {
	switch m := w.eosMode(); m {
	case EOSDisabled:
		return nil
	case EOSPreparing, EOSEnabled:
		if _, ok := w.store.(ExactlyOnceStore); !ok {
			return fmt.Errorf("%s=%s: this worker does not support exactly-once source connectors (it needs distributed mode)", KeyExactlyOnceSourceSupport, m)
		}
		return nil
	default:
		return fmt.Errorf("%s: Invalid value %s for configuration %s: String must be one of: disabled, preparing, enabled", KeyExactlyOnceSourceSupport, m, KeyExactlyOnceSourceSupport)
	}
}

// validateExactlyOnce is Connect's DistributedHerder preflight check of a
// source connector: exactly.once.support=required needs the worker's
// exactly-once support and a connector that supports it with cfg, and
// transaction.boundary=connector a connector that defines boundaries
// (none here does).
func (w *Worker) validateExactlyOnce(p connector.Plugin, cfg map[string]string) config.Errors {
	if p.Type() != connector.Source {
		return nil
	}
	var errs config.Errors
	if strings.EqualFold(strings.TrimSpace(cfg[KeyExactlyOnceSupport]), "required") {
		if w.exactlyOnceStore() == nil {
			errs = append(errs, config.KeyError{Key: KeyExactlyOnceSupport, Message: "This worker does not have exactly-once source support enabled."})
		}
		if es, ok := p.(connector.ExactlyOnceSupporter); !ok {
			errs = append(errs, config.KeyError{Key: KeyExactlyOnceSupport, Message: "The connector does not implement the API required for preflight validation of exactly-once " +
				"source support. Please consult the documentation for the connector to determine whether it supports exactly-once " +
				"semantics, and then consider reconfiguring the connector to use the value \"requested\" " +
				"for this property (which will disable this preflight check and allow the connector to be created)."})
		} else if es.ExactlyOnceSupport(cfg) != connector.ExactlyOnceSupported {
			errs = append(errs, config.KeyError{Key: KeyExactlyOnceSupport, Message: "The connector does not support exactly-once semantics with the provided configuration."})
		}
	}
	if strings.EqualFold(strings.TrimSpace(cfg[KeyTransactionBoundary]), BoundaryConnector) {
		errs = append(errs, config.KeyError{Key: KeyTransactionBoundary, Message: "The connector does not support connector-defined transaction boundaries with the given configuration. " +
			"Please reconfigure it to use a different transaction boundary definition."})
	}
	return errs
}

func nonNegativeLong(v any) error {
	if n, ok := v.(int64); ok && n < 0 {
		return errors.New("Value must be at least 0")
	}
	return nil
}

// txnRun is the exactly-once state of a running source task: its
// transactional producer and the open transaction. All methods run on the
// task's poll loop goroutine, except that produce callbacks call sendFailed.
type txnRun struct {
	s        *sourceRun
	tp       TaskProducer
	boundary string
	interval time.Duration
	timeout  time.Duration // transaction.timeout.ms: bounds one commit

	open       bool      // a transaction is open
	lastCommit time.Time // interval boundary: when the last one ended
	sendErr    chan error
	// pending holds, per source partition ID, the offset of the last
	// record sent (or skipped) since the last commit.
	pending map[string]connector.Offset
}

// openTxnRun gives the task its transactional producer (nil, nil when the
// worker does not run exactly-once support).
func (t *taskRunner) openTxnRun(ctx context.Context, opts []kgo.Opt) (*txnRun, error) {
	es := t.w.exactlyOnceStore()
	if es == nil {
		return nil, nil
	}
	props := t.producerProps()
	timeout := defaultTxnTimeout
	if v := strings.TrimSpace(props["transaction.timeout.ms"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("transaction.timeout.ms: invalid value %q", v)
		}
		timeout = time.Duration(n) * time.Millisecond
	}
	if id := strings.TrimSpace(props["transactional.id"]); id != "" {
		t.log.Warn("transactional.id is set by the worker for exactly-once source tasks; the configured value is ignored", "transactional.id", id)
	}
	r := &txnRun{boundary: strings.ToLower(strings.TrimSpace(t.cfg[KeyTransactionBoundary])), interval: t.w.cfg.OffsetFlushInterval,
		timeout: timeout, sendErr: make(chan error, 1), pending: map[string]connector.Offset{}}
	if r.boundary == "" {
		r.boundary = BoundaryPoll
	}
	if v := strings.TrimSpace(t.cfg[KeyTransactionBoundaryInterval]); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: invalid value %q", KeyTransactionBoundaryInterval, v)
		}
		r.interval = time.Duration(n) * time.Millisecond
	}
	if r.boundary != BoundaryPoll && r.boundary != BoundaryInterval {
		return nil, fmt.Errorf("%s=%s: not supported by this connector (use poll or interval)", KeyTransactionBoundary, r.boundary)
	}
	tp, err := es.Transactional(ctx, t.conn, t.id, append(opts, kgo.TransactionTimeout(timeout)))
	if err != nil {
		return nil, fmt.Errorf("exactly-once producer: %w", err)
	}
	r.tp = tp
	r.lastCommit = time.Now()
	t.log.Info("exactly-once source task: records and offsets in one transaction", "transaction.boundary", r.boundary, "interval", r.interval)
	return r, nil
}

// begin opens a transaction for the records about to be sent.
func (r *txnRun) begin() error {
	if r.open {
		return nil
	}
	if err := r.tp.Client().BeginTransaction(); err != nil {
		return r.tp.Fenced(fmt.Errorf("begin transaction: %w", err))
	}
	r.open = true
	return nil
}

// sendFailed records the first failed produce of the open transaction:
// the transaction can no longer commit (Connect fails the task).
func (r *txnRun) sendFailed(err error) {
	select {
	case r.sendErr <- err:
	default:
	}
}

// afterBatch ends the transaction where the boundary says: after every
// poll batch, or once interval has passed since the last commit (also after
// a poll that returned nothing, idle, so a quiet source does not hold an
// open transaction back from read_committed consumers).
func (r *txnRun) afterBatch(idle bool) error {
	switch {
	case r.boundary == BoundaryPoll && !idle:
	case r.boundary == BoundaryInterval && time.Since(r.lastCommit) >= r.interval:
	default:
		return nil
	}
	return r.commitFinal()
}

// commitFinal commits the open transaction whatever the boundary (at stop,
// before a pause). It is bounded by the transaction timeout, not by the
// task's context: a commit under way at a stop completes.
func (r *txnRun) commitFinal() error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	return r.commit(ctx)
}

// commit adds the offsets of the records sent since the last commit to the
// open transaction, waits until Kafka acknowledged all of it, and commits
// it; then tells the task. Any failure fails the task: its transaction is
// aborted (by the broker when the producer was fenced), so nothing of it
// becomes visible.
func (r *txnRun) commit(ctx context.Context) error {
	s := r.s
	r.lastCommit = time.Now()
	if !r.open && len(r.pending) == 0 {
		return nil
	}
	start := time.Now()
	entries, offs := r.pendingEntries()
	err := r.commitTxn(ctx, entries)
	s.t.w.opts.Observer.OffsetCommit(s.t.conn, s.t.id, time.Since(start), err)
	if err != nil {
		return err
	}
	clear(r.pending)
	if err := s.task.Commit(ctx, offs); err != nil {
		s.t.log.Warn("task commit", "err", err)
	}
	return nil
}

func (r *txnRun) pendingEntries() ([]offsets.Entry, []connector.Offset) {
	entries := make([]offsets.Entry, 0, len(r.pending))
	offs := make([]connector.Offset, 0, len(r.pending))
	for _, o := range r.pending {
		entries = append(entries, offsets.Entry{Partition: o.Partition, Offset: o.Offset})
		offs = append(offs, o)
	}
	return entries, offs
}

func (r *txnRun) commitTxn(ctx context.Context, entries []offsets.Entry) error {
	cl := r.tp.Client()
	if len(entries) > 0 {
		if err := r.begin(); err != nil {
			return err
		}
		recs, err := r.tp.OffsetRecords(r.s.t.conn, entries)
		if err != nil {
			return r.abort(err)
		}
		for _, rec := range recs {
			cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
				if err != nil {
					r.sendFailed(fmt.Errorf("write offsets to %s: %w", r.tp.OffsetsTopic(), err))
				}
			})
		}
	}
	// Records and offsets are acknowledged, or the transaction aborts:
	// franz-go would commit whatever succeeded.
	if err := cl.Flush(ctx); err != nil {
		return r.abort(fmt.Errorf("flush transaction: %w", err))
	}
	select {
	case err := <-r.sendErr:
		return r.abort(err)
	default:
	}
	r.open = false
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		// An unconfirmed commit may have happened: the offsets stay
		// uncommitted here, and the task fails rather than guess.
		return r.abort(fmt.Errorf("commit transaction: %w", err))
	}
	if len(entries) > 0 {
		r.tp.Committed(r.s.t.conn, entries)
	}
	return nil
}

// abort ends the open transaction without committing it and returns err
// (marked fenced when it is). A fenced producer is not asked to abort: the
// broker already aborted its transaction, and the new owner's epoch must
// not be touched.
func (r *txnRun) abort(err error) error {
	err = r.tp.Fenced(err)
	r.open = false
	if !errors.Is(err, ErrFenced) {
		cl := r.tp.Client()
		actx, cancel := context.WithTimeout(context.Background(), r.s.t.w.cfg.OffsetFlushTimeout)
		_ = cl.AbortBufferedRecords(actx)
		_ = cl.EndTransaction(actx, kgo.TryAbort)
		cancel()
	}
	return err
}

// checkTopic refuses records for the offsets topic, which an open
// transaction of the task's own would block reads of (Connect's rule).
func (r *txnRun) checkTopic(topic string) error {
	if topic == r.tp.OffsetsTopic() {
		return errors.New("Source tasks may not produce to their own offsets topics when exactly-once support is enabled")
	}
	return nil
}
