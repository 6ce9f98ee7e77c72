package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// Task is the connector's only task: snapshot, then binlog streaming.
type Task struct {
	s       *settings
	log     *slog.Logger
	metrics connector.Metrics
	hdrs    cdc.ContextHeaders // nil with extended.headers.enabled=false

	db     *sql.DB
	server *serverInfo
	cat    *catalog
	source *sourceBlock
	sc     *schemaChangeSchemas
	naming tableNaming

	partition         map[string]any
	start             position // where streaming starts (after a snapshot: the snapshot position)
	snapshot          bool     // run a data snapshot first
	schemaOnly        bool     // emit the tables' schema changes but no rows (no_data on first start)
	stopAfterSnapshot bool
	// resumeFrom is the position of an interrupted earlier snapshot: the new
	// snapshot's records keep pointing at it and streaming starts there, so
	// rows deleted between the two snapshots are deleted downstream too.
	resumeFrom *position
	// committed is closed by the first Commit: offsets of this task were
	// stored.
	committed     chan struct{}
	committedOnce sync.Once

	// inc runs incremental snapshots (nil without signals configured);
	// lastOffset is the offset of the last record emitted (for log signals).
	inc        *incremental
	lastOffset atomic.Pointer[map[string]any]

	queue chan schema.Record
	errMu sync.Mutex
	err   error
	done  chan struct{} // closed when the worker goroutine ends

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ connector.SourceTask = (*Task)(nil)

// Start parses the config, checks the server, decides between snapshot and
// streaming from the committed offset, and starts the reader goroutine.
func (t *Task) Start(ctx context.Context, cfg map[string]string, tc connector.TaskContext) error {
	s, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	t.s = s
	t.log = cdc.TaskLogger(tc, s.prefix)
	t.metrics = cdc.TaskMetrics(tc)
	t.partition = map[string]any{"server": s.prefix}
	if s.extendedHeaders {
		t.hdrs = cdc.NewContextHeaders(s.prefix, tc.TaskID, s.connectorName)
	}
	if s.signals.DataCollection != "" || s.signals.Channels[cdc.ChannelKafka] || s.signals.Channels[cdc.ChannelFile] {
		t.inc = newIncremental(t, s.signals)
	}
	t.db, err = openDB(s)
	if err != nil {
		return err
	}
	if err := t.init(ctx, tc.Offsets); err != nil {
		t.db.Close()
		return err
	}
	t.queue = make(chan schema.Record, s.maxQueue)
	t.done = make(chan struct{})
	rctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer close(t.done)
		err := t.run(rctx)
		if err != nil && rctx.Err() == nil {
			t.log.Error("mysql source failed", "err", err)
			t.setErr(err)
		}
	}()
	return nil
}

func (t *Task) init(ctx context.Context, offsets connector.OffsetReader) error {
	s := t.s
	cctx, cancel := context.WithTimeout(ctx, s.connectTimeout+5*time.Second)
	defer cancel()
	var err error
	t.server, err = checkServer(cctx, t.db)
	if err != nil {
		return err
	}
	if err := t.checkTLS(cctx, t.db); err != nil {
		return err
	}
	t.cat = newCatalog(t.db, t.server.flavor)
	if t.inc != nil && t.inc.sigTable != "" {
		ti, err := loadTableInfo(cctx, t.db, t.server.flavor, t.inc.sigDB, t.inc.sigTable)
		switch {
		case err != nil:
			return err
		case ti == nil:
			t.log.Warn("the signal table does not exist: signals in it and incremental snapshots (which write their watermarks into it) wait until it is created",
				"signal.data.collection", s.signals.DataCollection)
		case len(ti.cols) < 3:
			t.log.Warn("the signal table needs the columns id, type and data (strings)", "signal.data.collection", s.signals.DataCollection, "columns", len(ti.cols))
		}
	}
	t.source = newSourceBlock(s.connectorName, s.prefix)
	t.sc = newSchemaChangeSchemas(s.connectorName, t.source.schema)
	t.naming = tableNaming{prefix: s.prefix, adjust: func(n string) string { return n }, rules: s.columns, mariadb: s.connectorName == "mariadb"}
	if s.adjustNames {
		t.naming.adjust = cdc.SanitizeName
	}

	var stored map[string]any
	if offsets != nil {
		stored, err = offsets.Offset(ctx, t.partition)
		if err != nil {
			return fmt.Errorf("read committed offset: %w", err)
		}
	}
	var off position
	haveOffset := len(stored) > 0
	if haveOffset {
		off, err = parseOffset(stored)
		if err != nil {
			return fmt.Errorf("committed offset %v: %w", stored, err)
		}
	}
	if haveOffset {
		st, err := cdc.LoadIncrementalState(stored)
		if err != nil {
			return fmt.Errorf("committed offset: %w", err)
		}
		switch {
		case st.Running() && t.inc != nil:
			t.inc.load(st)
		case st.Running():
			t.log.Warn("the committed offset holds an unfinished incremental snapshot, but no signals are configured: it is dropped", "collections", st.CollectionsJSON())
		}
	}
	snapshotUnfinished := haveOffset && off.Snapshot && !off.SnapshotCompleted
	mode := s.snapshotMode
	switch {
	case mode == snapAlways:
		t.snapshot = true
	case !haveOffset || snapshotUnfinished:
		switch mode {
		case snapInitial, snapInitialOnly, snapWhenNeeded:
			t.snapshot = true
		case snapNoData:
			t.schemaOnly = !haveOffset
		case snapNever:
			files, err := binlogFiles(cctx, t.db)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("%w: the server lists no binary logs", ErrConfiguration)
			}
			t.start = position{File: files[0], Pos: 4}
		}
		if snapshotUnfinished && t.snapshot && off.File != "" {
			p := off
			p.Snapshot, p.SnapshotCompleted, p.Event, p.Row = false, false, 0, 0
			t.resumeFrom = &p
		}
		if snapshotUnfinished && !t.snapshot {
			t.log.Warn("the previous snapshot did not finish; streaming from its position", "file", off.File, "pos", off.Pos)
			t.start = off
			t.start.Snapshot = false
		}
	default:
		if mode == snapInitialOnly {
			t.stopAfterSnapshot = true
			t.log.Info("snapshot.mode=initial_only and the snapshot already completed: nothing to do")
			return nil
		}
		t.start = off
		t.start.Snapshot, t.start.SnapshotCompleted = false, false
		if off.File != "" {
			files, err := binlogFiles(cctx, t.db)
			if err != nil {
				return err
			}
			if !slices.Contains(files, off.File) {
				if mode == snapWhenNeeded {
					t.log.Warn("stored binlog position was purged; taking a new snapshot (snapshot.mode=when_needed)", "file", off.File, "pos", off.Pos)
					t.snapshot = true
					t.start = position{}
				} else {
					return fmt.Errorf("%w: the committed offset points at binlog file %s (position %d), which the server no longer has (purged; oldest available: %v). Set snapshot.mode=when_needed to take a new snapshot, or delete the connector's offsets",
						ErrPositionPurged, off.File, off.Pos, firstOr(files))
				}
			}
		}
	}
	if mode == snapInitialOnly {
		t.stopAfterSnapshot = true
	}
	t.log.Info("mysql source starting", "flavor", t.server.flavor, "version", t.server.version, "snapshot", t.snapshot,
		"snapshot.mode", mode, "file", t.start.File, "pos", t.start.Pos, "gtids", t.start.GTIDs, "event", t.start.Event, "row", t.start.Row)
	return nil
}

func firstOr(files []string) string {
	if len(files) == 0 {
		return "none"
	}
	return files[0]
}

// run is the worker goroutine: snapshot (when needed), then stream.
func (t *Task) run(ctx context.Context) error {
	if t.stopAfterSnapshot && !t.snapshot {
		return nil
	}
	if t.snapshot || t.schemaOnly {
		var pos position
		var err error
		// A snapshot that fails on a transient error (a dropped connection,
		// a table changed under it) is taken again; the retry streams from
		// the first attempt's position, like a restart does.
		for attempt, backoff := 1, time.Second; ; attempt, backoff = attempt+1, backoff*2 {
			pos, err = t.runSnapshot(ctx, !t.schemaOnly)
			if err == nil || ctx.Err() != nil || isFatal(err) || attempt == 5 {
				break
			}
			t.log.Warn("snapshot failed; retrying", "attempt", attempt, "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
		}
		if err != nil {
			return err
		}
		t.start = pos
		if t.stopAfterSnapshot {
			t.log.Info("snapshot completed; snapshot.mode=initial_only, not streaming")
			return nil
		}
	}
	if t.start.File == "" && t.start.GTIDs == "" {
		file, pos, gtids, err := currentPosition(ctx, t.db, t.server.flavor)
		if err != nil {
			return err
		}
		t.start = position{File: file, Pos: pos, GTIDs: gtids}
	}
	if t.inc != nil {
		t.startSignals(ctx)
	}
	r := newReader(t)
	return r.run(ctx)
}

// startSignals starts the incremental snapshot loop and the Kafka and file
// signal channels; they end with ctx.
func (t *Task) startSignals(ctx context.Context) {
	s := t.s.signals
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.inc.run(ctx)
	}()
	if s.Channels[cdc.ChannelKafka] {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			if err := cdc.RunKafkaSignals(ctx, s, t.s.prefix, t.log, t.inc.handle); err != nil {
				t.log.Error("kafka signal channel stopped", "err", err)
			}
		}()
	}
	if s.Channels[cdc.ChannelFile] {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			_ = cdc.RunFileSignals(ctx, s, t.log, t.inc.handle)
		}()
	}
}

func (t *Task) setErr(err error) {
	t.errMu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.errMu.Unlock()
}

func (t *Task) getErr() error {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	return t.err
}

// emit hands one record to Poll, blocking while the queue is full. While
// an incremental snapshot runs, its state joins the record's offset.
func (t *Task) emit(ctx context.Context, rec schema.Record) error {
	if t.inc != nil && rec.SourceOffset != nil {
		rec.SourceOffset = t.inc.decorate(rec.SourceOffset)
		t.lastOffset.Store(&rec.SourceOffset)
	}
	select {
	case t.queue <- rec:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Poll returns up to max.batch.size records, waiting at most
// poll.interval.ms for the first one. After the reader failed it returns the
// queued records first, then the error.
func (t *Task) Poll(ctx context.Context) ([]schema.Record, error) {
	var first schema.Record
	select {
	case first = <-t.queue:
	default:
		if err := t.getErr(); err != nil {
			return nil, err
		}
		timer := time.NewTimer(t.s.pollInterval)
		defer timer.Stop()
		select {
		case first = <-t.queue:
		case <-t.done:
			select {
			case first = <-t.queue:
			default:
				if err := t.getErr(); err != nil {
					return nil, err
				}
				// finished (initial_only): idle without spinning
				select {
				case <-timer.C:
				case <-ctx.Done():
				}
				return nil, nil
			}
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
	n := min(len(t.queue)+1, t.s.maxBatch)
	out := make([]schema.Record, 0, n)
	out = append(out, first)
	for len(out) < t.s.maxBatch {
		select {
		case r := <-t.queue:
			out = append(out, r)
		default:
			t.hdrs.Apply(out)
			return out, nil
		}
	}
	t.hdrs.Apply(out)
	return out, nil
}

// Commit implements connector.SourceTask. The binlog needs no
// acknowledgement: the runtime's stored offsets are the resume point.
//
// The first one releases a snapshot waiting for its start position to be
// stored (see runSnapshot).
func (t *Task) Commit(context.Context, []connector.Offset) error {
	t.committedOnce.Do(func() { close(t.committed) })
	return nil
}

// Stop stops the reader and snapshot workers and closes every connection.
func (t *Task) Stop() error {
	if t.cancel != nil {
		t.cancel()
	}
	// unblock a reader waiting on a full queue
	t.wg.Wait()
	if t.db != nil {
		t.db.Close()
	}
	return nil
}

// errFatal marks errors the reader must not retry.
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }
func (e errFatal) Unwrap() error { return e.err }

func fatal(err error) error {
	if err == nil {
		return nil
	}
	return errFatal{err}
}

func isFatal(err error) bool {
	var f errFatal
	return errors.As(err, &f) || errors.Is(err, ErrConfiguration) || errors.Is(err, ErrPositionPurged)
}
