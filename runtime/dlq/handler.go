package dlq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime/metrics"
	"github.com/tributary-cdc/tributary/runtime/topics"
	"github.com/tributary-cdc/tributary/schema"
)

// Stage is where in a record's life an error happened (Connect's Stage).
type Stage string

// Connect's stages.
const (
	StageKeyConverter    Stage = "KEY_CONVERTER"
	StageValueConverter  Stage = "VALUE_CONVERTER"
	StageHeaderConverter Stage = "HEADER_CONVERTER"
	StageTransformation  Stage = "TRANSFORMATION"
	StageTaskPut         Stage = "TASK_PUT"
	StageTaskPoll        Stage = "TASK_POLL"
	StageKafkaProduce    Stage = "KAFKA_PRODUCE"
	StageKafkaConsume    Stage = "KAFKA_CONSUME"
)

// Connect's DLQ context header names.
const (
	HeaderPrefix                    = "__connect.errors."
	HeaderTopic                     = HeaderPrefix + "topic"
	HeaderPartition                 = HeaderPrefix + "partition"
	HeaderOffset                    = HeaderPrefix + "offset"
	HeaderConnectorName             = HeaderPrefix + "connector.name"
	HeaderTaskID                    = HeaderPrefix + "task.id"
	HeaderStage                     = HeaderPrefix + "stage"
	HeaderExecutingClass            = HeaderPrefix + "class.name"
	HeaderExceptionClass            = HeaderPrefix + "exception.class.name"
	HeaderExceptionMessage          = HeaderPrefix + "exception.message"
	HeaderExceptionStacktrace       = HeaderPrefix + "exception.stacktrace"
	dataExceptionClass              = "org.apache.kafka.connect.errors.DataException"
	connectExceptionClass           = "org.apache.kafka.connect.errors.ConnectException"
	retriableExceptionClass         = "org.apache.kafka.connect.errors.RetriableException"
	toleranceExceededMessage        = "Tolerance exceeded in error handler"
	retryDelayMin                   = 300 * time.Millisecond
	defaultDLQPartitions      int32 = 1
)

// Producer writes records to Kafka; *kgo.Client implements it.
type Producer interface {
	ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults
}

// Options configure a Handler.
type Options struct {
	Connector string
	Task      int
	// Producer writes dead letter queue records (required when a DLQ topic
	// is configured).
	Producer Producer
	// Admin, when set, creates a missing DLQ topic (1 partition, the
	// configured replication factor) on the first dead-lettered record.
	Admin   *kgo.Client
	Logger  *slog.Logger
	Metrics *metrics.Task // may be nil
	// FailuresCounted says the caller already counts failures per stage
	// (the runtime's Observer), so Report does not count them again.
	FailuresCounted bool
}

// Handler applies one task's error handling settings.
type Handler struct {
	cfg  Config
	opts Options
	log  *slog.Logger

	topicOnce sync.Mutex
	topicOK   bool
}

// New returns a Handler for one task.
func New(cfg Config, opts Options) *Handler {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, opts: opts, log: log}
}

// Config returns the handler's settings.
func (h *Handler) Config() Config { return h.cfg }

// Failure is one failed operation on one record.
type Failure struct {
	Stage Stage
	// Class is the executing class: the converter, transformation or
	// connector class (Connect's __connect.errors.class.name).
	Class string
	// Consumed is the raw record as consumed from Kafka (sink side); its
	// key, value and headers go to the dead letter queue unchanged.
	Consumed *kgo.Record
	// Source is the record a source task produced (source side), for logs.
	Source *schema.Record
	Err    error
}

// ToleranceExceededError is returned when a failure is not tolerated
// (errors.tolerance=none): the task must fail.
type ToleranceExceededError struct {
	Stage Stage
	Class string
	Err   error
}

func (e *ToleranceExceededError) Error() string {
	return fmt.Sprintf("%s: stage %s, class %s: %v", toleranceExceededMessage, e.Stage, e.Class, e.Err)
}

func (e *ToleranceExceededError) Unwrap() error { return e.Err }

// ExceptionClass implements Classifier.
func (e *ToleranceExceededError) ExceptionClass() string { return connectExceptionClass }

// TraceMessage is the first line of the trace: Connect's exception message
// plus the stage and class.
func (e *ToleranceExceededError) TraceMessage() string {
	return fmt.Sprintf("%s (stage %s, class %s)", toleranceExceededMessage, e.Stage, e.Class)
}

// Classifier lets an error name the Java exception class Connect would have
// thrown (shown in __connect.errors.exception.class.name and traces).
type Classifier interface {
	ExceptionClass() string
}

// Execute runs op for one record at stage. Retriable errors are retried per
// errors.retry.timeout. If op still fails, the failure is reported (logged,
// dead-lettered) and Execute returns (false, nil) when it is tolerated — skip
// the record — or (false, *ToleranceExceededError) when the task must fail.
// It returns (true, nil) when op succeeded.
func (h *Handler) Execute(ctx context.Context, stage Stage, class string, consumed *kgo.Record, op func(context.Context) error) (bool, error) {
	err := h.Retry(ctx, op)
	if err == nil {
		return true, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return false, h.Report(ctx, Failure{Stage: stage, Class: class, Consumed: consumed, Err: err})
}

// Retry runs op, retrying while it fails with a retriable error and
// errors.retry.timeout has not passed (0: no retry; negative: forever). It
// returns op's last error.
func (h *Handler) Retry(ctx context.Context, op func(context.Context) error) error {
	var deadline time.Time
	if h.cfg.RetryTimeout > 0 {
		deadline = time.Now().Add(h.cfg.RetryTimeout)
	}
	b := Backoff{Min: retryDelayMin, Max: h.cfg.RetryDelayMax}
	for {
		err := op(ctx)
		if err == nil || !errors.Is(err, connector.ErrRetriable) || h.cfg.RetryTimeout == 0 {
			return err
		}
		d := b.Next()
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return err
			}
			d = min(d, left)
		}
		h.opts.Metrics.Retried()
		h.log.Warn("retriable error, retrying", "connector", h.opts.Connector, "task", h.opts.Task, "delay", d, "error", err)
		if !sleep(ctx, d) {
			return err
		}
	}
}

// RetryPut runs a sink task's Put or Flush, retrying the same batch while it
// fails with a retriable error (a lost database connection, a deadlock), with
// jittered exponential backoff capped at errors.retry.delay.max.ms, until it
// succeeds, fails with another error, or ctx ends. Retriable write failures
// are never dead-lettered (Connect's RetriableException from put).
func (h *Handler) RetryPut(ctx context.Context, op func(context.Context) error) error {
	b := Backoff{Min: retryDelayMin, Max: h.cfg.RetryDelayMax}
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || !errors.Is(err, connector.ErrRetriable) {
			return err
		}
		d := b.Next()
		h.opts.Metrics.Retried()
		h.log.Warn("sink write failed with a retriable error; retrying the same records",
			"connector", h.opts.Connector, "task", h.opts.Task, "attempt", attempt, "delay", d, "error", err)
		if !sleep(ctx, d) {
			return fmt.Errorf("retrying after %d attempts: %w (last error: %w)", attempt, ctx.Err(), err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Report handles one failure: it counts it, logs it (errors.log.enable),
// writes the consumed record to the dead letter queue (sink connectors with a
// DLQ topic) and returns nil when errors.tolerance=all, or a
// *ToleranceExceededError when the task must fail. A DLQ write that fails is
// an error too: the record's offset must not be committed.
func (h *Handler) Report(ctx context.Context, f Failure) error {
	m := h.opts.Metrics
	if !h.opts.FailuresCounted {
		m.Failed(string(f.Stage))
	}
	if h.cfg.LogEnable {
		h.logFailure(f)
		m.Logged()
	}
	var dlqErr error
	if h.cfg.Topic != "" && f.Consumed != nil {
		if dlqErr = h.deadLetter(ctx, f); dlqErr != nil {
			m.DeadLetterFailed()
			h.log.Error("could not write record to the dead letter queue", "connector", h.opts.Connector, "task", h.opts.Task,
				"dlq", h.cfg.Topic, "topic", f.Consumed.Topic, "partition", f.Consumed.Partition, "offset", f.Consumed.Offset, "error", dlqErr)
		} else {
			m.DeadLettered()
		}
	}
	if h.cfg.Tolerance != ToleranceAll {
		return &ToleranceExceededError{Stage: f.Stage, Class: f.Class, Err: f.Err}
	}
	if dlqErr != nil {
		return fmt.Errorf("write to dead letter queue %s: %w", h.cfg.Topic, dlqErr)
	}
	m.Skipped()
	return nil
}

// TaskReporter returns the TaskContext.Report function of a sink task
// (Connect's ErrantRecordReporter, stage TASK_PUT). consumed maps a record the
// task was given back to the raw record consumed from Kafka, whose bytes go to
// the dead letter queue; it may return nil, in which case the record is only
// logged and counted.
func (h *Handler) TaskReporter(class string, consumed func(schema.Record) *kgo.Record) func(context.Context, schema.Record, error) error {
	return func(ctx context.Context, rec schema.Record, err error) error {
		var raw *kgo.Record
		if consumed != nil {
			raw = consumed(rec)
		}
		f := Failure{Stage: StageTaskPut, Class: class, Consumed: raw, Err: err}
		if raw == nil {
			f.Source = &rec
		}
		return h.Report(ctx, f)
	}
}

func (h *Handler) logFailure(f Failure) {
	attrs := []any{"connector", h.opts.Connector, "task", h.opts.Task, "stage", string(f.Stage), "class", f.Class, "error", f.Err}
	if r := f.Consumed; r != nil {
		attrs = append(attrs, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "timestamp", r.Timestamp.UnixMilli())
		if h.cfg.LogIncludeMessages {
			attrs = append(attrs, "key", string(r.Key), "value", string(r.Value), "headers", headerString(r.Headers))
		}
	}
	if r := f.Source; r != nil && h.cfg.LogIncludeMessages {
		attrs = append(attrs, "record.topic", r.Topic, "record.partition", r.Partition, "source.partition", r.SourcePartition,
			"source.offset", r.SourceOffset, "key", fmt.Sprint(r.Key), "value", fmt.Sprint(r.Value))
	}
	h.log.Error(fmt.Sprintf("Error encountered in task %s-%d. Executing stage '%s' with class '%s'.", h.opts.Connector, h.opts.Task, f.Stage, f.Class), attrs...)
}

func headerString(hs []kgo.RecordHeader) string {
	parts := make([]string, len(hs))
	for i, hd := range hs {
		parts[i] = hd.Key + "=" + string(hd.Value)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (h *Handler) deadLetter(ctx context.Context, f Failure) error {
	if h.opts.Producer == nil {
		return errors.New("no producer for the dead letter queue")
	}
	if err := h.ensureTopic(ctx); err != nil {
		return err
	}
	orig := f.Consumed
	rec := &kgo.Record{
		Topic:     h.cfg.Topic,
		Key:       orig.Key,
		Value:     orig.Value,
		Timestamp: orig.Timestamp,
		Headers:   append([]kgo.RecordHeader(nil), orig.Headers...),
	}
	if h.cfg.ContextHeaders {
		rec.Headers = append(rec.Headers, h.ContextHeaders(f)...)
	}
	return h.opts.Producer.ProduceSync(ctx, rec).FirstErr()
}

func (h *Handler) ensureTopic(ctx context.Context) error {
	if h.opts.Admin == nil {
		return nil
	}
	h.topicOnce.Lock()
	defer h.topicOnce.Unlock()
	if h.topicOK {
		return nil
	}
	created, err := topics.Create(ctx, h.opts.Admin, h.cfg.Topic, defaultDLQPartitions, h.cfg.ReplicationFactor, nil, h.log)
	if err != nil {
		return fmt.Errorf("create dead letter queue topic %s: %w", h.cfg.Topic, err)
	}
	if created {
		h.log.Info("created dead letter queue topic", "connector", h.opts.Connector, "topic", h.cfg.Topic)
	}
	h.topicOK = true
	return nil
}

// ContextHeaders returns Connect's __connect.errors.* headers for f.
func (h *Handler) ContextHeaders(f Failure) []kgo.RecordHeader {
	var hs []kgo.RecordHeader
	add := func(k, v string) { hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
	if r := f.Consumed; r != nil {
		add(HeaderTopic, r.Topic)
		add(HeaderPartition, strconv.Itoa(int(r.Partition)))
		add(HeaderOffset, strconv.FormatInt(r.Offset, 10))
	}
	add(HeaderConnectorName, h.opts.Connector)
	add(HeaderTaskID, strconv.Itoa(h.opts.Task))
	add(HeaderStage, string(f.Stage))
	add(HeaderExecutingClass, f.Class)
	if f.Err != nil {
		add(HeaderExceptionClass, ExceptionClass(f.Stage, f.Err))
		if msg := f.Err.Error(); msg != "" {
			add(HeaderExceptionMessage, msg)
		} else {
			hs = append(hs, kgo.RecordHeader{Key: HeaderExceptionMessage})
		}
		add(HeaderExceptionStacktrace, trace(f.Err, f.Stage))
	}
	return hs
}

// ExceptionClass names the Java exception class Connect would report for an
// error at stage: the error's own (Classifier) if it has one,
// RetriableException for retriable errors, DataException for conversion and
// transformation failures, ConnectException otherwise.
func ExceptionClass(stage Stage, err error) string {
	var c Classifier
	if errors.As(err, &c) {
		return c.ExceptionClass()
	}
	if errors.Is(err, connector.ErrRetriable) {
		return retriableExceptionClass
	}
	switch stage {
	case StageKeyConverter, StageValueConverter, StageHeaderConverter, StageTransformation:
		return dataExceptionClass
	}
	return connectExceptionClass
}

// Trace renders err as the trace text of a FAILED connector or task status
// (and the DLQ's exception.stacktrace header), Java-style: the outermost
// error first ("<exception class>: <message>"), then a "Caused by:" line for
// each wrapped error whose message is not already contained in the line
// before. Exception classes come from Classifier, the failure's stage
// (DataException for conversion failures), or the Go type of library errors
// (e.g. *pgconn.PgError).
func Trace(err error) string { return trace(err, "") }

// trace is Trace for an error that happened at stage ("" when unknown).
func trace(err error, stage Stage) string {
	if err == nil {
		return ""
	}
	var b strings.Builder
	prev := ""
	for e, depth := err, 0; e != nil; depth++ {
		msg := e.Error()
		if tm, ok := e.(interface{ TraceMessage() string }); ok {
			msg = tm.TraceMessage()
		}
		if depth == 0 || !strings.HasSuffix(prev, msg) {
			if depth > 0 {
				b.WriteString("\nCaused by: ")
			}
			b.WriteString(traceClass(e, stage, depth))
			b.WriteString(": ")
			b.WriteString(msg)
			prev = msg
		}
		if te, ok := e.(*ToleranceExceededError); ok {
			stage = te.Stage
		}
		e = unwrapFirst(e)
	}
	return b.String()
}

func traceClass(e error, stage Stage, depth int) string {
	if c, ok := e.(Classifier); ok {
		return c.ExceptionClass()
	}
	if errors.Is(e, connector.ErrRetriable) {
		return retriableExceptionClass
	}
	t := fmt.Sprintf("%T", e)
	if depth > 0 && stage == "" && !strings.HasPrefix(t, "*fmt.") && !strings.HasPrefix(t, "*errors.") && !strings.HasPrefix(t, "connector.") {
		return t
	}
	if stage != "" {
		return ExceptionClass(stage, e)
	}
	return connectExceptionClass
}

func unwrapFirst(e error) error {
	switch u := e.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap()
	case interface{ Unwrap() []error }:
		if es := u.Unwrap(); len(es) > 0 {
			return es[0]
		}
	}
	return nil
}

// Backoff yields exponentially growing delays from Min, doubling up to Max,
// each with up to 20% random jitter (so many tasks do not retry in step).
type Backoff struct {
	Min, Max time.Duration
	attempt  int
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = retryDelayMin
	}
	if hi <= 0 {
		hi = time.Minute
	}
	d := lo
	for i := 0; i < b.attempt && d < hi; i++ {
		d *= 2
	}
	b.attempt++
	d = min(d, hi)
	jitter := time.Duration(rand.Int64N(int64(d)/5 + 1))
	if d+jitter > hi {
		return d - jitter
	}
	return d + jitter
}

// Reset starts the sequence again.
func (b *Backoff) Reset() { b.attempt = 0 }
