package postgres

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
	"github.com/tributary-cdc/tributary/schema"
)

// Task is the PostgreSQL source task: one per connector.
type Task struct {
	s       *settings
	log     *slog.Logger
	metrics connector.Metrics
	q       *queue
	hdrs    cdc.ContextHeaders // nil with extended.headers.enabled=false
	flushed atomic.Uint64      // lsn_proc of the last offset the runtime stored

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	st     *streamer
	inc    *incremental // nil without signals configured
}

// NewTask returns an unstarted task.
func NewTask() *Task { return &Task{} }

var _ connector.SourceTask = (*Task)(nil)

// Start validates the config, checks the server, sets up the publication
// and starts reading in the background: the snapshot (when snapshot.mode
// asks for one) and then the slot's stream. Cancelling ctx stops
// everything (an abrupt stop: nothing is committed on the way out); Stop
// is the graceful way.
func (t *Task) Start(ctx context.Context, cfg map[string]string, tc connector.TaskContext) error {
	s, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	t.s = s
	t.log = cdc.TaskLogger(tc, s.prefix)
	t.metrics = cdc.TaskMetrics(tc)
	t.q = newQueue(s.maxQueue)
	if s.extendedHeaders {
		t.hdrs = cdc.NewContextHeaders(s.prefix, tc.TaskID, "postgresql")
	}

	var stored map[string]any
	if tc.Offsets != nil {
		if stored, err = tc.Offsets.Offset(ctx, s.partition()); err != nil {
			return fmt.Errorf("read committed offsets: %w", err)
		}
	}
	cat, err := s.connect(ctx)
	if err != nil {
		if tlsstore.IsCertificateError(err) {
			return err // the server's certificate does not verify: retrying will not help
		}
		return connector.Retriable(err)
	}
	if _, encrypted := cat.PgConn().Conn().(*tls.Conn); !encrypted && s.sslmode == "prefer" {
		t.log.Warn("database.sslmode=prefer: the server offers no TLS; the SQL connections and the replication stream run in plaintext", "host", s.host, "port", s.port)
	}
	si, err := checkServer(ctx, cat)
	if err == nil {
		err = ensurePublication(ctx, cat, s)
	}
	types := newTypeCache()
	if err == nil {
		err = types.load(ctx, cat)
	}
	if err != nil {
		cat.Close(context.WithoutCancel(ctx))
		return err
	}
	b := &builder{s: s, m: newMapper(s), types: types, log: t.log, warned: map[string]bool{}}
	st := &streamer{s: s, log: t.log, b: b, types: types, q: t.q, part: s.partition(), metrics: t.metrics,
		flushed: &t.flushed, version: si.version, protoV2: si.version >= 140000,
		rels: map[uint32]*table{}, cat: cat}
	st.stream = st.protoV2 && s.streaming != "off"
	t.st = st
	if sc := s.signals; sc.DataCollection != "" || sc.Channels[cdc.ChannelKafka] || sc.Channels[cdc.ChannelFile] {
		t.inc = newIncremental(s, t.log, b, types)
		st.inc = t.inc
		t.checkSignalTable(ctx, cat)
	}
	if stored != nil {
		is, err := cdc.LoadIncrementalState(stored)
		switch {
		case err != nil:
			cat.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("stored offset: %w", err)
		case is.Running() && t.inc != nil:
			t.inc.load(is)
		case is.Running():
			t.log.Warn("the committed offset holds an unfinished incremental snapshot, but no signals are configured: it is dropped", "collections", is.CollectionsJSON())
		}
	}

	runCtx, cancel := context.WithCancel(ctx)
	t.cancel = cancel
	t.done = make(chan struct{})
	var wg sync.WaitGroup
	if s.heartbeat > 0 && s.heartbeatQuery != "" {
		wg.Add(1)
		go func() { defer wg.Done(); t.actionQuery(runCtx) }()
	}
	if t.inc != nil {
		t.startSignals(runCtx, &wg)
	}
	go func() {
		defer close(t.done)
		defer wg.Wait()
		err := t.run(runCtx, st, stored)
		if err != nil && runCtx.Err() == nil {
			t.log.Error("source task failed", "err", err)
			t.q.fail(err)
		}
	}()
	return nil
}

// checkSignalTable warns when the signal table is missing, lacks the id,
// type and data columns or is not in the publication (its rows are read
// from the stream).
func (t *Task) checkSignalTable(ctx context.Context, cat *pgx.Conn) {
	sc := t.s.signals
	if sc.DataCollection == "" {
		return
	}
	sch, name, _ := strings.Cut(sc.DataCollection, ".")
	var cols int
	var published bool
	err := cat.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
  EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname = $3 AND p.schemaname = n.nspname AND p.tablename = c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, sch, name, t.s.publication).Scan(&cols, &published)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		t.log.Warn("the signal table does not exist: signals in it and incremental snapshots (which write their watermarks into it) wait until it is created and in the publication",
			"signal.data.collection", sc.DataCollection)
	case err != nil:
		t.log.Warn("cannot look up the signal table", "signal.data.collection", sc.DataCollection, "err", err)
	case cols < 3:
		t.log.Warn("the signal table needs the columns id, type and data (strings)", "signal.data.collection", sc.DataCollection, "columns", cols)
	case !published:
		t.log.Warn("the signal table is not in the publication: signals in it and window watermarks are not seen (add it, or use publication.autocreate.mode=filtered or all_tables)",
			"signal.data.collection", sc.DataCollection, "publication", t.s.publication)
	}
}

// startSignals starts the incremental snapshot loop and the Kafka and file
// signal channels; they end with ctx.
func (t *Task) startSignals(ctx context.Context, wg *sync.WaitGroup) {
	s := t.s.signals
	wg.Add(1)
	go func() { defer wg.Done(); t.inc.run(ctx) }()
	if s.Channels[cdc.ChannelKafka] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cdc.RunKafkaSignals(ctx, s, t.s.prefix, t.log, t.inc.handle); err != nil {
				t.log.Error("kafka signal channel stopped", "err", err)
			}
		}()
	}
	if s.Channels[cdc.ChannelFile] {
		wg.Add(1)
		go func() { defer wg.Done(); _ = cdc.RunFileSignals(ctx, s, t.log, t.inc.handle) }()
	}
}

// plan is what a start does, decided from snapshot.mode, the stored offset
// and the slot.
type plan struct {
	snapshot bool
	idle     bool // initial_only after a finished snapshot: nothing to do
}

func decide(mode string, hasOffset, snapshotDone bool, slot slotState, pos position) (plan, error) {
	needData := !hasOffset || !snapshotDone
	switch mode {
	case "always":
		return plan{snapshot: true}, nil
	case "initial_only":
		if needData {
			return plan{snapshot: true}, nil
		}
		return plan{idle: true}, nil
	case "initial":
		if needData {
			return plan{snapshot: true}, nil
		}
		if !slot.exists {
			return plan{}, fmt.Errorf("%w: slot does not exist but offsets were committed at %s; changes since then cannot be read (use snapshot.mode=when_needed to take a new snapshot)", ErrSlotMissing, pos.proc)
		}
	case "when_needed":
		if needData || !slot.exists || (slot.confirmed > pos.proc && pos.proc != 0) {
			return plan{snapshot: true}, nil
		}
	}
	return plan{}, nil
}

func (t *Task) run(ctx context.Context, st *streamer, stored map[string]any) error {
	s := t.s
	defer func() {
		if st.cat != nil {
			st.cat.Close(context.WithoutCancel(ctx))
		}
	}()
	var pos position
	snapshotDone := false
	hasOffset := stored != nil
	if hasOffset {
		var err error
		if pos, snapshotDone, err = parsePosition(stored); err != nil {
			return fmt.Errorf("stored offset %v: %w", stored, err)
		}
	}
	slot, err := readSlot(ctx, st.cat, s.slot)
	if err != nil {
		return err
	}
	if slot.exists && (slot.plugin != "pgoutput" || slot.database != s.dbname) {
		return fmt.Errorf("%s: slot %q exists for plugin %q in database %q, not pgoutput in %q", keySlotName, s.slot, slot.plugin, slot.database, s.dbname)
	}
	p, err := decide(s.snapshotMode, hasOffset, snapshotDone, slot, pos)
	if err != nil {
		return err
	}
	if p.idle {
		t.log.Info("snapshot already taken and snapshot.mode=initial_only: nothing to do")
		return nil
	}
	if hasOffset && !p.snapshot && slot.exists && slot.confirmed > pos.proc && pos.proc != 0 {
		t.log.Error("the slot has moved past the committed offset; changes in between are gone", "slot_confirmed", slot.confirmed.String(), "offset_lsn_proc", pos.proc.String())
	}
	if p.snapshot && slot.exists && slot.confirmed != 0 && !slot.slotTemporary {
		// Keep the slot (as Debezium does): it is at or before the point
		// where an earlier, interrupted snapshot started, and that attempt
		// may already have emitted rows deleted since. A new slot would
		// start after those deletes and lose them downstream; streaming from
		// the kept slot after the new snapshot replays every change since.
		t.log.Info("taking a new snapshot; streaming resumes from the existing slot", "slot", s.slot, "confirmed_flush_lsn", slot.confirmed.String())
		sn := &snapshotter{s: s, log: t.log, b: st.b, types: st.types, metrics: t.metrics, q: t.q, part: st.part, cp: slot.confirmed}
		if err := sn.run(ctx); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if s.snapshotMode == "initial_only" {
			return nil
		}
		st.proc, st.pushed = slot.confirmed, position{proc: slot.confirmed, lsn: slot.confirmed}
		return st.run(ctx, nil, slot.confirmed)
	}
	if p.snapshot {
		if slot.exists {
			t.log.Info("dropping the slot to take a new snapshot from a fresh one", "slot", s.slot)
			if err := dropSlot(ctx, st.cat, s.slot, time.Minute); err != nil {
				return err
			}
		}
		rconn, err := s.connectReplication(ctx)
		if err != nil {
			return err
		}
		res, err := pglogrepl.CreateReplicationSlot(ctx, rconn, s.slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{
			SnapshotAction: "EXPORT_SNAPSHOT", Temporary: s.snapshotMode == "initial_only", Mode: pglogrepl.LogicalReplication})
		if err != nil {
			rconn.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("create replication slot %s: %w", s.slot, err)
		}
		cp, err := pglogrepl.ParseLSN(res.ConsistentPoint)
		if err != nil {
			rconn.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("slot consistent point %q: %w", res.ConsistentPoint, err)
		}
		t.log.Info("replication slot created", "slot", s.slot, "consistent_point", cp.String(), "snapshot", res.SnapshotName)
		sn := &snapshotter{s: s, log: t.log, b: st.b, types: st.types, metrics: t.metrics, q: t.q, part: st.part,
			name: res.SnapshotName, cp: cp}
		if err := sn.run(ctx); err != nil {
			rconn.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("snapshot: %w", err)
		}
		if s.snapshotMode == "initial_only" {
			rconn.Close(context.WithoutCancel(ctx))
			return nil
		}
		st.proc, st.pushed = cp, position{proc: cp, lsn: cp}
		return st.run(ctx, rconn, cp)
	}
	if !slot.exists {
		rconn, err := s.connectReplication(ctx)
		if err != nil {
			return err
		}
		res, err := pglogrepl.CreateReplicationSlot(ctx, rconn, s.slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{
			SnapshotAction: "NOEXPORT_SNAPSHOT", Mode: pglogrepl.LogicalReplication})
		if err != nil {
			rconn.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("create replication slot %s: %w", s.slot, err)
		}
		cp, _ := pglogrepl.ParseLSN(res.ConsistentPoint)
		if hasOffset {
			t.log.Warn("replication slot was missing and is created anew; changes since the committed offset are not captured", "slot", s.slot, "offset_lsn_proc", pos.proc.String())
		}
		st.proc, st.pushed = cp, position{proc: cp, lsn: cp}
		return st.run(ctx, rconn, cp)
	}
	if hasOffset && !pos.snapshot {
		st.proc, st.pushed, st.lastCmt = pos.proc, pos, pos.commit
		if pos.partial() {
			p := pos
			st.skip = &p
		}
	} else if hasOffset {
		st.proc, st.pushed = pos.proc, position{proc: pos.proc, lsn: pos.proc}
	}
	return st.run(ctx, nil, st.pushed.proc)
}

// actionQuery runs heartbeat.action.query every heartbeat interval on a
// connection of its own, so the captured database sees WAL traffic and the
// slot can advance even when nothing else is written there.
func (t *Task) actionQuery(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	tick := time.NewTicker(t.s.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if conn == nil || conn.IsClosed() {
			c, err := t.s.connect(ctx)
			if err != nil {
				if ctx.Err() == nil {
					t.log.Warn("heartbeat.action.query: cannot connect", "err", err)
				}
				continue
			}
			conn = c
		}
		if _, err := conn.Exec(ctx, t.s.heartbeatQuery); err != nil && ctx.Err() == nil {
			t.log.Warn("heartbeat.action.query failed", "err", err)
		}
	}
}

// Poll returns the next records: at most max.batch.size, waiting up to
// poll.interval.ms for the first.
func (t *Task) Poll(ctx context.Context) ([]schema.Record, error) {
	recs, err := t.q.poll(ctx, t.s.maxBatch, t.s.pollInterval)
	t.hdrs.Apply(recs)
	return recs, err
}

// Commit records that the runtime durably stored these offsets; the next
// standby status update reports their lsn_proc as flushed, which lets the
// server advance the slot's confirmed_flush_lsn and recycle WAL.
func (t *Task) Commit(_ context.Context, offsets []connector.Offset) error {
	for _, o := range offsets {
		if o.Partition["server"] != t.s.prefix || o.Offset == nil {
			continue
		}
		p, _, err := parsePosition(o.Offset)
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		if p.snapshot {
			continue
		}
		for {
			cur := t.flushed.Load()
			if uint64(p.proc) <= cur || t.flushed.CompareAndSwap(cur, uint64(p.proc)) {
				break
			}
		}
		if p.tsUsec > 0 {
			t.metrics.SourceLagMillis(time.Since(time.UnixMicro(p.tsUsec)).Milliseconds())
		}
	}
	return nil
}

// Stop stops reading. The last acknowledged LSN is written to the slot
// (pg_replication_slot_advance) when the stream could not report it; with
// slot.drop.on.stop the slot is dropped.
func (t *Task) Stop() error {
	if t.cancel == nil {
		return nil
	}
	t.cancel()
	<-t.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := t.s.connect(ctx)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	defer conn.Close(ctx)
	if t.s.dropSlotOnStop {
		if err := dropSlot(ctx, conn, t.s.slot, 20*time.Second); err != nil {
			return err
		}
		t.log.Info("replication slot dropped (slot.drop.on.stop)", "slot", t.s.slot)
		return nil
	}
	return t.advance(ctx, conn)
}

// advance moves the inactive slot to the acknowledged LSN if it is behind.
func (t *Task) advance(ctx context.Context, conn *pgx.Conn) error {
	f := pglogrepl.LSN(t.flushed.Load())
	if f == 0 {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		slot, err := readSlot(ctx, conn, t.s.slot)
		if err != nil || !slot.exists || slot.confirmed >= f {
			return err
		}
		if !slot.active {
			err = advanceSlot(ctx, conn, t.s.slot, f)
			if err == nil || !isInUse(err) {
				return err
			}
		}
		if time.Now().After(deadline) {
			return errors.New("stop: slot still active; acknowledged LSN not recorded")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
