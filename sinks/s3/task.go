package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// Task is one S3 sink task (connector.SinkTask and
// connector.SinkPreCommitter). Its methods are safe for concurrent use but
// the runtime calls them one at a time.
type Task struct {
	mu   sync.Mutex
	s    *settings
	tc   connector.TaskContext
	log  *slog.Logger
	st   *store
	up   *uploader
	part partitioner
	ex   extractor

	value, keys, headers format

	writers map[connector.TopicPartition]*tpWriter
	now     func() time.Time
}

var (
	_ connector.SinkTask         = (*Task)(nil)
	_ connector.SinkPreCommitter = (*Task)(nil)
)

// Start parses the config, builds the client and checks the bucket exists.
func (t *Task) Start(ctx context.Context, cfg map[string]string, tc connector.TaskContext) error {
	s, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	t.s, t.tc = s, tc
	t.log = tc.Logger
	if t.log == nil {
		t.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t.log = t.log.With("bucket", s.bucket)
	if t.now == nil {
		t.now = time.Now
	}
	if t.part, t.ex, err = newPartitioner(s); err != nil {
		return err
	}
	if t.value, err = newFormat(s.format, viewValue, s); err != nil {
		return err
	}
	if s.keysFormat != "" {
		if t.keys, err = newFormat(s.keysFormat, viewKey, s); err != nil {
			return err
		}
	}
	if s.headersFormat != "" {
		if t.headers, err = newFormat(s.headersFormat, viewHeaders, s); err != nil {
			return err
		}
	}
	if t.st, err = newStore(s); err != nil {
		return err
	}
	if err := t.st.check(ctx); err != nil {
		return err
	}
	t.up = newUploader(t.st, t.log, s.uploadConcurrency, s.uploadBuffer, s.retryBackoff)
	t.writers = map[connector.TopicPartition]*tpWriter{}
	if s.rotateInterval > 0 && t.ex == nil {
		t.log.Warn("rotate.interval.ms is ignored: the partitioner is not time-based")
	}
	return nil
}

// Put writes records to their open files; files that reach flush.size, a
// rotation interval or a schema change are handed to the uploader.
func (t *Task) Put(ctx context.Context, recs []schema.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.up.err(); err != nil {
		return err
	}
	now := t.now()
	var last *tpWriter
	for i := range recs {
		rec := &recs[i]
		// One writer per consumed partition, whatever a router renamed it
		// to: its offsets are what PreCommit hands back to the runtime.
		tp := connector.TopicPartition{Topic: rec.OrigTopic(), Partition: rec.OrigPartition()}
		w := last
		if w == nil || w.tp != tp {
			w = t.writer(tp)
		}
		last = w
		if err := w.put(ctx, rec, now); err != nil {
			return err
		}
	}
	for _, w := range t.writers {
		if err := w.rotateIfDue(ctx, now); err != nil {
			return err
		}
	}
	return nil
}

func (t *Task) writer(tp connector.TopicPartition) *tpWriter {
	w, ok := t.writers[tp]
	if !ok {
		w = newTPWriter(t, tp)
		t.writers[tp] = w
	}
	return w
}

// Flush commits every open file (used when the runtime does not know
// SinkPreCommitter; it cuts files where a replay may not, so exactly-once
// holds only through PreCommit).
func (t *Task) Flush(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.writers {
		if w.count > 0 {
			if err := w.rotate(ctx); err != nil {
				return err
			}
		}
	}
	return t.waitAll(ctx)
}

func (t *Task) waitAll(ctx context.Context) error {
	for _, w := range t.writers {
		if err := w.submitPending(ctx); err != nil {
			return err
		}
		for _, g := range w.pending {
			select {
			case <-g.done:
			case <-ctx.Done():
				return connector.Retriable(fmt.Errorf("uploads still running: %w", ctx.Err()))
			}
		}
		w.reap()
	}
	return t.up.err()
}

// PreCommit commits files whose scheduled rotation is due, waits (until ctx
// ends) for uploads, and returns per partition the offset after the last
// record whose file is uploaded; a partition with no open file commits
// everything handed to Put.
func (t *Task) PreCommit(ctx context.Context, current map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, w := range t.writers {
		if err := w.rotateIfDue(ctx, now); err != nil {
			return nil, err
		}
	}
	waitErr := t.waitAll(ctx)
	if err := t.up.err(); err != nil {
		return nil, err
	}
	if waitErr != nil {
		t.log.Warn("pre-commit: uploads still running; committing what is uploaded", "err", waitErr)
	}
	out := make(map[connector.TopicPartition]int64, len(current))
	for tp, cur := range current {
		w, ok := t.writers[tp]
		switch {
		case !ok:
			out[tp] = cur // nothing of it is buffered
		case w.count == 0 && len(w.pending) == 0:
			out[tp] = cur
		case w.committed >= 0:
			out[tp] = w.committed
		}
	}
	return out, nil
}

// ClosePartitions drops open files of partitions the task no longer owns.
func (t *Task) ClosePartitions(_ context.Context, parts []connector.TopicPartition) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tp := range parts {
		delete(t.writers, tp)
	}
	return nil
}

// Stop abandons open files and uploads still running.
func (t *Task) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.up != nil {
		t.up.close()
	}
	t.writers = nil
	return nil
}

// openFile is one encoded partition's file (value, and keys/headers files).
type openFile struct {
	encoded string
	start   int64
	base    string // object key without extension
	value   fileWriter
	keys    fileWriter
	headers fileWriter
	nvalues int
}

// tpWriter is Confluent's TopicPartitionWriter: it holds the open files of
// one Kafka partition and decides when they rotate.
type tpWriter struct {
	t  *Task
	tp connector.TopicPartition

	files     map[string]*openFile
	order     []*openFile
	schemas   map[string]*schema.Schema // value schema per encoded partition
	keySchema map[string]*schema.Schema
	count     int
	next      int64 // offset after the last record taken (dedupes a retried batch)
	current   int64 // offset of the last record written
	curTS     int64
	hasTS     bool
	baseTS    int64
	hasBase   bool
	curEnc    string
	schedule  time.Time // next scheduled rotation

	pending   []*group
	committed int64 // offset after the last uploaded group, -1 if none
}

func newTPWriter(t *Task, tp connector.TopicPartition) *tpWriter {
	w := &tpWriter{t: t, tp: tp, files: map[string]*openFile{}, schemas: map[string]*schema.Schema{},
		keySchema: map[string]*schema.Schema{}, next: -1, current: -1, committed: -1}
	w.setSchedule(t.now())
	return w
}

func (w *tpWriter) setSchedule(now time.Time) {
	if iv := w.t.s.rotateSchedule; iv > 0 {
		// DateTimeUtils.getNextTimeAdjustedByDay: the next multiple of the
		// interval counted from the start of the day in the zone.
		local := now.In(w.t.s.timezone)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, w.t.s.timezone)
		since := now.Sub(day).Milliseconds()
		w.schedule = day.Add(time.Duration((since/iv+1)*iv) * time.Millisecond)
	}
}

// put writes one record, rotating first when its schema changed or its
// time leaves the current file's window, and after it when flush.size is
// reached.
func (w *tpWriter) put(ctx context.Context, rec *schema.Record, now time.Time) error {
	if w.next >= 0 && rec.OrigOffset() < w.next {
		return nil // already taken: the runtime retried a batch
	}
	s := w.t.s
	if rec.Value == nil {
		switch s.nullBehavior {
		case NullIgnore:
			w.next = rec.OrigOffset() + 1
			return nil
		case NullFail:
			return w.report(ctx, rec, fmt.Errorf("null valued record at %s-%d@%d: behavior.on.null.values=fail", rec.Topic, rec.Partition, rec.Offset))
		}
	}
	var ts int64
	if w.t.ex != nil && rec.Value == nil {
		ts = w.curTS // a tombstone written to its own directory keeps the current time
	} else if w.t.ex != nil {
		var err error
		if ts, err = w.t.ex(rec, now); err != nil {
			return w.report(ctx, rec, err)
		}
	}
	var enc string
	if rec.Value == nil {
		enc = s.tombstonePart
	} else {
		var err error
		if enc, err = w.t.part.encode(rec, ts); err != nil {
			return w.report(ctx, rec, err)
		}
	}
	if w.t.ex != nil {
		w.curTS, w.hasTS = ts, true
		if !w.hasBase {
			w.baseTS, w.hasBase = ts, true
		}
	}
	if w.count > 0 && w.schemaChanged(enc, rec) {
		if err := w.rotate(ctx); err != nil {
			return err
		}
		w.baseTS, w.hasBase = ts, w.t.ex != nil
	} else if w.rotateOnTime(enc, ts, now) {
		if err := w.rotate(ctx); err != nil {
			return err
		}
		w.setSchedule(now)
		w.baseTS, w.hasBase = ts, w.t.ex != nil
	}
	if err := w.write(ctx, rec, enc); err != nil {
		return err
	}
	w.next = rec.OrigOffset() + 1
	if w.count >= s.flushSize {
		return w.rotate(ctx)
	}
	return nil
}

func (w *tpWriter) schemaChanged(enc string, rec *schema.Record) bool {
	if cur, ok := w.schemas[enc]; ok && rec.Value != nil && cur != rec.ValueSchema && !schema.Equal(cur, rec.ValueSchema) {
		return true
	}
	if w.t.keys != nil {
		if cur, ok := w.keySchema[enc]; ok && cur != rec.KeySchema && !schema.Equal(cur, rec.KeySchema) {
			return true
		}
	}
	return false
}

func (w *tpWriter) rotateOnTime(enc string, ts int64, now time.Time) bool {
	if w.count <= 0 {
		return false
	}
	s := w.t.s
	periodic := s.rotateInterval > 0 && w.t.ex != nil && (ts-w.baseTS >= s.rotateInterval || enc != w.curEnc)
	scheduled := s.rotateSchedule > 0 && !now.Before(w.schedule)
	return periodic || scheduled
}

// rotateIfDue commits open files when the scheduled rotation is due and no
// record triggered it (TopicPartitionWriter.commitOnTimeIfNoData).
func (w *tpWriter) rotateIfDue(ctx context.Context, now time.Time) error {
	if w.count > 0 && w.t.s.rotateSchedule > 0 && !now.Before(w.schedule) {
		w.setSchedule(now)
		return w.rotate(ctx)
	}
	return nil
}

// report hands a record that cannot be written to the errant-record
// reporter; nil means it was tolerated and is skipped.
func (w *tpWriter) report(ctx context.Context, rec *schema.Record, err error) error {
	if w.t.tc.Report == nil {
		return err
	}
	if rerr := w.t.tc.Report(ctx, *rec, err); rerr != nil {
		return rerr
	}
	w.next = rec.OrigOffset() + 1
	return nil
}

func (w *tpWriter) write(ctx context.Context, rec *schema.Record, enc string) error {
	t := w.t
	f, ok := w.files[enc]
	if !ok {
		f = &openFile{encoded: enc, start: rec.OrigOffset()}
		f.base = w.objectBase(enc, rec.OrigOffset())
		w.files[enc] = f
		w.order = append(w.order, f)
	}
	// Keys and headers are checked first so the value, key and header
	// files stay aligned (KeyValueHeaderRecordWriterProvider).
	if t.keys != nil && rec.Key == nil {
		return w.dropIfEmpty(f, w.report(ctx, rec, fmt.Errorf("key cannot be null for record %s-%d@%d (store.kafka.keys=true)", rec.Topic, rec.Partition, rec.Offset)))
	}
	if t.headers != nil && len(rec.Headers) == 0 {
		return w.dropIfEmpty(f, w.report(ctx, rec, fmt.Errorf("headers cannot be empty for record %s-%d@%d (store.kafka.headers=true)", rec.Topic, rec.Partition, rec.Offset)))
	}
	// Values go first: a failure there leaves the key/header files untouched.
	if rec.Value != nil {
		if f.value == nil {
			f.value = t.value.newWriter(f.base + t.value.extension())
		}
		if err := f.value.write(rec); err != nil {
			return w.dropIfEmpty(f, w.report(ctx, rec, fmt.Errorf("%s-%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)))
		}
		f.nvalues++
	}
	if t.keys != nil {
		if f.keys == nil {
			f.keys = t.keys.newWriter(f.base + viewKey.suffix() + t.keys.extension())
		}
		if err := f.keys.write(rec); err != nil {
			return fmt.Errorf("%s-%d@%d: key: %w (the value file already holds the record)", rec.Topic, rec.Partition, rec.Offset, err)
		}
	}
	if t.headers != nil {
		if f.headers == nil {
			f.headers = t.headers.newWriter(f.base + viewHeaders.suffix() + t.headers.extension())
		}
		if err := f.headers.write(rec); err != nil {
			return fmt.Errorf("%s-%d@%d: headers: %w (the value file already holds the record)", rec.Topic, rec.Partition, rec.Offset, err)
		}
	}
	if rec.Value != nil {
		if _, ok := w.schemas[enc]; !ok {
			w.schemas[enc] = rec.ValueSchema
		}
	}
	if t.keys != nil {
		if _, ok := w.keySchema[enc]; !ok {
			w.keySchema[enc] = rec.KeySchema
		}
	}
	w.curEnc = enc
	w.current = rec.OrigOffset()
	w.count++
	return nil
}

// dropIfEmpty forgets a file opened for a record that was then skipped.
func (w *tpWriter) dropIfEmpty(f *openFile, err error) error {
	if f.value == nil && f.keys == nil && f.headers == nil {
		delete(w.files, f.encoded)
		w.order = w.order[:len(w.order)-1]
	}
	return err
}

// objectBase is the object key of a file without its extension:
// <topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start offset>.
func (w *tpWriter) objectBase(enc string, start int64) string {
	s := w.t.s
	off := strconv.FormatInt(start, 10)
	if n := s.zeroPad - len(off); n > 0 {
		off = strings.Repeat("0", n) + off
	}
	name := w.tp.Topic + s.fileDelim + strconv.FormatInt(int64(w.tp.Partition), 10) + s.fileDelim + off
	key := w.tp.Topic + s.dirDelim + enc + s.dirDelim + name
	if strings.TrimSpace(s.topicsDir) != "" {
		key = s.topicsDir + s.dirDelim + key
	}
	return key
}

// rotate closes every open file of the partition and queues their upload as
// one group; the partition's offset moves past them once all are uploaded.
func (w *tpWriter) rotate(ctx context.Context) error {
	if w.count == 0 {
		return nil
	}
	t := w.t
	g := &group{tp: w.tp, offset: w.current + 1}
	for _, f := range w.order {
		for _, fw := range []struct {
			w   fileWriter
			ext string
		}{
			{f.value, t.extOf(t.value, viewValue)},
			{f.keys, t.extOf(t.keys, viewKey)},
			{f.headers, t.extOf(t.headers, viewHeaders)},
		} {
			if fw.w == nil {
				continue
			}
			data, err := fw.w.finish()
			if err != nil {
				return fmt.Errorf("finish %s%s: %w", f.base, fw.ext, err)
			}
			g.objs = append(g.objs, object{key: f.base + fw.ext, data: data})
		}
	}
	clear(w.files)
	w.order = w.order[:0]
	clear(w.schemas)
	clear(w.keySchema)
	w.count = 0
	w.hasBase = false
	t.up.prepare(g)
	w.pending = append(w.pending, g)
	if err := w.submitPending(ctx); err != nil {
		return err
	}
	w.reap()
	return nil
}

// submitPending hands groups not yet queued to the uploader, in order. A
// group stays pending (and its offsets uncommitted) until it is queued and
// uploaded.
func (w *tpWriter) submitPending(ctx context.Context) error {
	for _, g := range w.pending {
		if g.queued {
			continue
		}
		if err := w.t.up.submit(ctx, g); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return connector.Retriable(fmt.Errorf("waiting for upload capacity: %w", err))
			}
			return err
		}
	}
	return nil
}

func (t *Task) extOf(f format, v view) string {
	if f == nil {
		return ""
	}
	return v.suffix() + f.extension()
}

// reap moves the committed offset past groups uploaded in order.
func (w *tpWriter) reap() {
	i := 0
	for ; i < len(w.pending) && w.pending[i].uploaded(); i++ {
		w.committed = w.pending[i].offset
	}
	if i > 0 {
		clear(w.pending[:i])
		w.pending = w.pending[i:]
	}
}
