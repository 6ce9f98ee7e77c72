package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// reader turns the binlog into change events. It runs on one goroutine and
// owns the table versions.
type reader struct {
	t   *Task
	s   *settings
	log *slog.Logger

	tables map[string]*table // db.table → current version
	byID   map[uint64]*table // table id → version bound by the last table map (nil: not captured)
	sigIDs map[uint64]bool   // table ids bound to the signal table
	gset   gmysql.GTIDSet    // transactions completed (nil when unknown)

	file string
	// resume is where a reconnect starts: the start of the transaction being
	// read plus how much of it was emitted, or the position after the last
	// complete transaction.
	resume position

	inTxn       bool
	txnBEGIN    bool
	txnFile     string
	txnPos      uint32
	txnGTIDs    string
	txnGTID     string
	txnTsMs     int64
	txnServerID int64
	thread      int64
	evIdx       int64

	skipActive           bool
	skipEvents, skipRows int64

	metaBegun  bool
	metaTotal  int64
	metaColls  []string
	metaCounts map[string]int64

	lastHeartbeat time.Time
	events        int64 // events handled since the last (re)connect
}

func newReader(t *Task) *reader {
	return &reader{
		t: t, s: t.s, log: t.log,
		tables: map[string]*table{},
		byID:   map[uint64]*table{},
		sigIDs: map[uint64]bool{},
		resume: t.start,
	}
}

func (r *reader) parseGTIDs(s string) gmysql.GTIDSet {
	flavor := r.t.server.flavor
	g, err := gmysql.ParseGTIDSet(flavor, s)
	if err != nil {
		r.log.Warn("cannot parse GTID set; GTIDs in offsets will be incomplete", "gtids", s, "err", err)
		g, _ = gmysql.ParseGTIDSet(flavor, "")
	}
	return g
}

func (r *reader) gsetString() string {
	if r.gset == nil {
		return ""
	}
	return r.gset.String()
}

// run streams until ctx ends or a fatal error, reconnecting with backoff.
func (r *reader) run(ctx context.Context) error {
	backoff := time.Second
	for {
		r.events = 0
		err := r.streamOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			continue
		}
		if isFatal(err) {
			return err
		}
		if !r.s.keepAlive {
			return connector.Retriable(fmt.Errorf("binlog connection lost (connect.keep.alive=false): %w", err))
		}
		if r.events > 0 {
			backoff = time.Second
		}
		r.log.Warn("binlog connection lost; reconnecting", "err", firstLine(err), "backoff", backoff, "file", r.resume.File, "pos", r.resume.Pos, "event", r.resume.Event, "row", r.resume.Row)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, max(r.s.maxBackoff, time.Second))
	}
}

func (r *reader) syncerConfig() replication.BinlogSyncerConfig {
	hb := 10 * time.Second
	if r.s.heartbeat > 0 && r.s.heartbeat < hb {
		hb = max(r.s.heartbeat, 100*time.Millisecond)
	}
	return replication.BinlogSyncerConfig{
		ServerID:         r.s.serverID,
		Flavor:           r.t.server.flavor,
		Host:             r.s.host,
		Port:             uint16(r.s.port),
		User:             r.s.user,
		Password:         r.s.password,
		TLSConfig:        binlogTLS(r.s, r.t.server),
		ParseTime:        true,
		UseDecimal:       true,
		HeartbeatPeriod:  hb,
		ReadTimeout:      hb*3 + 30*time.Second,
		DisableRetrySync: true,
		DiscardGTIDSet:   true,
		EventCacheCount:  256,
		Logger:           slog.New(discardHandler{}),
	}
}

// streamOnce connects, starts at r.resume and handles events until an error.
func (r *reader) streamOnce(ctx context.Context) error {
	syncer := replication.NewBinlogSyncer(r.syncerConfig())
	defer syncer.Close()
	var st *replication.BinlogStreamer
	var err error
	if r.resume.File != "" {
		st, err = syncer.StartSync(gmysql.Position{Name: r.resume.File, Pos: max(r.resume.Pos, 4)})
	} else {
		var gs gmysql.GTIDSet
		gs, err = gmysql.ParseGTIDSet(r.t.server.flavor, r.resume.GTIDs)
		if err != nil {
			return fatal(fmt.Errorf("offset gtids %q: %w", r.resume.GTIDs, err))
		}
		st, err = syncer.StartSyncGTID(gs)
	}
	if err != nil {
		return classify(err, r.resume)
	}
	r.gset = r.parseGTIDs(r.resume.GTIDs)
	r.file = r.resume.File
	r.inTxn = false
	r.skipEvents, r.skipRows = r.resume.Event, r.resume.Row
	r.skipActive = r.skipEvents > 0 || r.skipRows > 0
	r.log.Info("binlog streaming", "file", r.resume.File, "pos", r.resume.Pos, "gtids", r.resume.GTIDs, "skip_events", r.skipEvents, "skip_rows", r.skipRows)
	for {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			return classify(err, r.resume)
		}
		r.events++
		if err := r.handle(ctx, ev); err != nil {
			return err
		}
	}
}

// classify turns server errors the reader cannot fix by reconnecting into
// fatal ones with a clear message.
func classify(err error, at position) error {
	var me *gmysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case 1236: // ER_MASTER_FATAL_ERROR_READING_BINLOG
			return fatal(fmt.Errorf("%w: the server cannot send binlog from %s:%d (%s); the position was purged or is invalid. Set snapshot.mode=when_needed and restart to take a new snapshot, or delete the connector's offsets",
				ErrPositionPurged, at.File, at.Pos, me.Message))
		case 1045, 1044, 1227, 1142, 1370:
			return fatal(fmt.Errorf("%w: %s (the user needs REPLICATION SLAVE and REPLICATION CLIENT/BINLOG MONITOR)", ErrConfiguration, me.Message))
		}
	}
	return err
}

func (r *reader) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	evStart := uint32(0)
	if h.LogPos >= h.EventSize {
		evStart = h.LogPos - h.EventSize
	}
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		r.file = string(e.NextLogName)
		if !r.inTxn && (r.resume.File != r.file || r.resume.Pos < uint32(e.Position)) && r.resume.Event == 0 && r.resume.Row == 0 {
			r.resume = position{File: r.file, Pos: uint32(e.Position), GTIDs: r.gsetString(), ServerID: r.resume.ServerID, TsSec: r.resume.TsSec}
		}
		return nil
	case *replication.HeartbeatEvent:
		return r.maybeHeartbeat(ctx)
	case *replication.FormatDescriptionEvent, *replication.MariadbGTIDListEvent, *replication.MariadbBinlogCheckPointEvent,
		*replication.PreviousGTIDsEvent:
		return nil
	case *replication.TransactionPayloadEvent:
		// MySQL binlog_transaction_compression: the transaction's events
		// inside one event; its end position is the commit position.
		for _, inner := range e.Events {
			if inner.Header != nil && inner.Header.LogPos == 0 {
				hh := *inner.Header
				hh.LogPos, hh.EventSize = h.LogPos, 0
				inner.Header = &hh
			}
			if err := r.handle(ctx, inner); err != nil {
				return err
			}
		}
		return nil
	}
	if h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0 {
		return nil
	}
	switch e := ev.Event.(type) {
	case *replication.MariadbGTIDEvent:
		r.beginTxn(evStart, h)
		r.txnGTID = e.GTID.String()
	case *replication.GTIDEvent:
		r.beginTxn(evStart, h)
		r.mysqlGTID(e, h)
	case *replication.GtidTaggedLogEvent:
		r.beginTxn(evStart, h)
		r.mysqlGTID(&e.GTIDEvent, h)
	case *replication.QueryEvent:
		q := strings.TrimSpace(string(e.Query))
		switch {
		case strings.EqualFold(q, "BEGIN"):
			if !r.inTxn {
				r.beginTxn(evStart, h)
			}
			r.txnBEGIN = true
			r.thread = int64(e.SlaveProxyID)
		case strings.EqualFold(q, "COMMIT"):
			if r.inTxn {
				r.evIdx++
				return r.commit(ctx, h)
			}
		case r.inTxn && r.txnBEGIN:
			// a statement inside a transaction (SAVEPOINT, statement-logged DML): nothing to emit
		default:
			if !r.inTxn {
				r.beginTxn(evStart, h)
			}
			r.thread = int64(e.SlaveProxyID)
			if err := r.ddl(ctx, e, h); err != nil {
				return err
			}
			r.evIdx++
			return r.commit(ctx, h)
		}
	case *replication.TableMapEvent:
		if err := r.bindTable(ctx, e); err != nil {
			return err
		}
	case *replication.RowsEvent:
		if err := r.rows(ctx, e, h); err != nil {
			return err
		}
	case *replication.XIDEvent:
		if r.inTxn {
			r.evIdx++
			return r.commit(ctx, h)
		}
		return nil
	}
	if r.inTxn {
		r.evIdx++
	}
	return nil
}

func (r *reader) mysqlGTID(e *replication.GTIDEvent, h *replication.EventHeader) {
	if h.EventType != replication.ANONYMOUS_GTID_EVENT {
		if g, err := e.GTIDNext(); err == nil {
			r.txnGTID = g.String()
		}
	}
	if e.OriginalCommitTimestamp > 0 {
		r.txnTsMs = int64(e.OriginalCommitTimestamp / 1000)
	}
}

func (r *reader) beginTxn(pos uint32, h *replication.EventHeader) {
	r.inTxn = true
	r.txnBEGIN = false
	r.txnFile = r.file
	r.txnPos = pos
	r.txnGTIDs = r.gsetString()
	r.txnGTID = ""
	r.txnTsMs = int64(h.Timestamp) * 1000
	r.txnServerID = int64(h.ServerID)
	r.thread = 0
	r.evIdx = 0
	r.metaBegun = false
	r.metaTotal = 0
	r.metaColls = r.metaColls[:0]
	r.metaCounts = nil
}

// afterCommit is the offset after the current transaction.
func (r *reader) afterCommit(h *replication.EventHeader) position {
	g := r.gsetString()
	if r.txnGTID != "" && r.gset != nil {
		c := r.gset.Clone()
		if err := c.Update(r.txnGTID); err == nil {
			g = c.String()
		}
	}
	return position{File: r.file, Pos: h.LogPos, GTIDs: g, ServerID: r.txnServerID, TsSec: int64(h.Timestamp)}
}

func (r *reader) commit(ctx context.Context, h *replication.EventHeader) error {
	if r.txnGTID != "" && r.gset != nil {
		if err := r.gset.Update(r.txnGTID); err != nil {
			r.log.Warn("cannot track GTID", "gtid", r.txnGTID, "err", err)
		}
	}
	r.resume = position{File: r.file, Pos: h.LogPos, GTIDs: r.gsetString(), ServerID: r.txnServerID, TsSec: int64(h.Timestamp)}
	if r.metaBegun {
		counts := make([]cdc.CollectionCount, len(r.metaColls))
		for i, c := range r.metaColls {
			counts[i] = cdc.CollectionCount{Collection: c, Count: r.metaCounts[c]}
		}
		k, v := cdc.TransactionEnd(r.txnID(), time.UnixMilli(r.txnTsMs), counts)
		if err := r.t.emit(ctx, schema.Record{
			Topic: r.s.txnTopic, Partition: -1,
			KeySchema: cdc.TransactionKeySchema, Key: k, ValueSchema: cdc.TransactionValueSchema, Value: v,
			SourcePartition: r.t.partition, SourceOffset: r.resume.offsetMap(),
		}); err != nil {
			return err
		}
	}
	r.inTxn = false
	r.skipActive = false
	if r.txnTsMs > 0 {
		r.t.metrics.SourceLagMillis(time.Now().UnixMilli() - r.txnTsMs)
	}
	return r.maybeHeartbeat(ctx)
}

func (r *reader) txnID() string {
	if r.txnGTID != "" {
		return r.txnGTID
	}
	return fmt.Sprintf("file=%s,pos=%d", r.txnFile, r.txnPos)
}

func (r *reader) maybeHeartbeat(ctx context.Context) error {
	if r.s.heartbeat <= 0 || r.inTxn || time.Since(r.lastHeartbeat) < r.s.heartbeat {
		return nil
	}
	if r.resume.File == "" && r.resume.GTIDs == "" {
		return nil
	}
	r.lastHeartbeat = time.Now()
	return r.t.emit(ctx, schema.Record{
		Topic: r.s.heartbeatTopic, Partition: -1,
		KeySchema: cdc.HeartbeatKeySchema, Key: &schema.Struct{Schema: cdc.HeartbeatKeySchema, Values: []any{r.s.prefix}},
		ValueSchema: cdc.HeartbeatValueSchema, Value: &schema.Struct{Schema: cdc.HeartbeatValueSchema, Values: []any{r.lastHeartbeat.UnixMilli()}},
		SourcePartition: r.t.partition, SourceOffset: r.resume.offsetMap(),
	})
}

// bindTable maps a table id to the table version its table map describes,
// building (and caching) a new version when the structure changed.
func (r *reader) bindTable(ctx context.Context, e *replication.TableMapEvent) error {
	db, name := string(e.Schema), string(e.Table)
	if r.t.inc.isSignalTable(db, name) {
		r.sigIDs[e.TableID] = true
	} else {
		delete(r.sigIDs, e.TableID)
	}
	if !r.s.filters.table(db, name) {
		r.byID[e.TableID] = nil
		return nil
	}
	id := db + "." + name
	if cur := r.tables[id]; cur != nil && cur.sameTableMap(e) {
		r.byID[e.TableID] = cur
		return nil
	}
	if len(e.ColumnName) == 0 {
		return fatal(fmt.Errorf("%w: the binlog table map of %s carries no column names: set binlog_row_metadata=FULL on the server (events written before the change cannot be decoded by name)", ErrConfiguration, id))
	}
	ti, err := r.t.cat.info(ctx, db, name)
	if err != nil {
		return fmt.Errorf("table %s: %w", id, err)
	}
	var extras map[string]*infoColumn
	if ti != nil {
		extras = ti.byName
	}
	cols, err := tableMapColumns(e, extras, r.t.server.charsets)
	if err != nil {
		return fatal(err)
	}
	pk := make([]int, 0, len(e.PrimaryKey))
	for _, i := range e.PrimaryKey {
		if int(i) < len(cols) {
			pk = append(pk, int(i))
		}
	}
	tbl, err := newTable(r.t.naming, db, name, cols, pk, r.s.filters.column(db, name), r.s.types, r.t.source.schema)
	if err != nil {
		return fatal(err)
	}
	tbl.tm = e
	if ti != nil {
		tbl.charset, tbl.comment = ti.charset, ti.comment
	}
	r.tables[id] = tbl
	r.byID[e.TableID] = tbl
	r.log.Debug("table version", "table", id, "columns", len(cols))
	return nil
}

func (r *reader) skipRow(i int) bool {
	if !r.skipActive {
		return false
	}
	return r.evIdx < r.skipEvents || (r.evIdx == r.skipEvents && int64(i) < r.skipRows)
}

// count advances the transaction metadata counters for one data event.
func (r *reader) count(tbl *table) *schema.Struct {
	if !r.s.txnMetadata {
		return nil
	}
	if r.metaCounts == nil {
		r.metaCounts = map[string]int64{}
	}
	if _, ok := r.metaCounts[tbl.id]; !ok {
		r.metaColls = append(r.metaColls, tbl.id)
	}
	r.metaCounts[tbl.id]++
	r.metaTotal++
	return cdc.TransactionBlock(r.txnID(), r.metaTotal, r.metaCounts[tbl.id])
}

func (r *reader) rows(ctx context.Context, e *replication.RowsEvent, h *replication.EventHeader) error {
	tbl := r.byID[e.TableID]
	typ := e.Type()
	signals := r.sigIDs[e.TableID] && typ == replication.EnumRowsEventTypeInsert
	if tbl == nil {
		if signals {
			if !r.inTxn {
				r.beginTxn(uint32(0), h)
			}
			for i := range e.Rows {
				if r.skipRow(i) {
					continue
				}
				if err := r.signalRow(ctx, e.Rows[i], i, h); err != nil {
					return err
				}
			}
		}
		return nil
	}
	step := 1
	var op cdc.Op
	switch typ {
	case replication.EnumRowsEventTypeInsert:
		op = cdc.OpCreate
	case replication.EnumRowsEventTypeUpdate:
		op, step = cdc.OpUpdate, 2
	case replication.EnumRowsEventTypeDelete:
		op = cdc.OpDelete
	default:
		return nil
	}
	n := len(e.Rows) / step
	var srcTmpl *schema.Struct
	var offTmpl map[string]any
	var after position
	if !r.inTxn {
		r.beginTxn(uint32(0), h)
	}
	for i := 0; i < n; i++ {
		if r.skipRow(i) {
			if r.s.txnMetadata {
				r.metaBegun = true
				r.count(tbl)
				if op == cdc.OpUpdate && tbl.keySchema != nil {
					bk, _, err1 := tbl.rowValue(e.Rows[2*i], true)
					ak, _, err2 := tbl.rowValue(e.Rows[2*i+1], true)
					if err1 == nil && err2 == nil && !keyEqual(bk, ak) {
						r.count(tbl)
					}
				}
			}
			continue
		}
		if signals {
			if err := r.signalRow(ctx, e.Rows[i], i, h); err != nil {
				return err
			}
		}
		if r.s.skip[string(op)] {
			continue
		}
		if srcTmpl == nil {
			// built once per rows event: only the row index differs per row
			si := sourceInfo{
				tsMs: r.txnTsMs, snapshot: cdc.SnapshotFalse, db: tbl.db, table: tbl.name, serverID: int64(h.ServerID),
				gtid: r.txnGTID, file: r.file, pos: int64(r.txnPos), thread: r.thread,
			}
			srcTmpl = r.t.source.build(&si)
			base := position{File: r.txnFile, Pos: r.txnPos, GTIDs: r.txnGTIDs, Event: r.evIdx, ServerID: r.txnServerID, TsSec: int64(h.Timestamp)}
			offTmpl = base.offsetMap()
			after = base
		}
		src := &schema.Struct{Schema: srcTmpl.Schema, Values: slices.Clone(srcTmpl.Values)}
		src.Values[srcRowIndex] = int32(i)
		after.Row = int64(i) + 1
		rowOffset := func(row int) map[string]any {
			m := maps.Clone(offTmpl)
			if row > 0 {
				m[offRow] = int64(row)
			}
			return m
		}
		if err := r.emitRow(ctx, tbl, op, e, i, src, rowOffset); err != nil {
			return err
		}
		r.resume = after
	}
	return nil
}

// emitRow emits the records of row i of a rows event. offset(k) is the
// offset saying k rows of the event are done: every record but the row's last
// carries offset(i), the last carries offset(i+1).
func (r *reader) emitRow(ctx context.Context, tbl *table, op cdc.Op, e *replication.RowsEvent, i int, src *schema.Struct, offset func(int) map[string]any) error {
	t := r.t
	now := time.Now()
	var buf [3]schema.Record
	recs := buf[:0]
	mk := func(key *schema.Struct, env *schema.Struct) schema.Record {
		rec := schema.Record{Topic: tbl.topic, Partition: -1, SourcePartition: t.partition}
		if key != nil {
			rec.KeySchema, rec.Key = tbl.keySchema, key
		}
		if env != nil {
			rec.ValueSchema, rec.Value = tbl.envSchema, env
		}
		return rec
	}
	switch op {
	case cdc.OpCreate:
		key, val, err := tbl.rowValue(e.Rows[i], true)
		if err != nil {
			return fatal(err)
		}
		r.t.inc.observe(tbl.id, key)
		recs = append(recs, mk(key, cdc.NewEnvelope(tbl.envSchema, cdc.OpCreate, nil, val, src, r.count(tbl), now)))
	case cdc.OpDelete:
		key, val, err := tbl.rowValue(e.Rows[i], true)
		if err != nil {
			return fatal(err)
		}
		r.t.inc.observe(tbl.id, key)
		recs = append(recs, mk(key, cdc.NewEnvelope(tbl.envSchema, cdc.OpDelete, val, nil, src, r.count(tbl), now)))
		// As Debezium 3.6.1: every delete gets its tombstone, with a
		// null key for a table without one.
		if r.s.tombstones {
			recs = append(recs, mk(key, nil))
		}
	case cdc.OpUpdate:
		bk, bv, err := tbl.rowValue(e.Rows[2*i], true)
		if err != nil {
			return fatal(err)
		}
		ak, av, err := tbl.rowValue(e.Rows[2*i+1], true)
		if err != nil {
			return fatal(err)
		}
		r.t.inc.observe(tbl.id, bk)
		r.t.inc.observe(tbl.id, ak)
		if tbl.keySchema != nil && !keyEqual(bk, ak) {
			d := mk(bk, cdc.NewEnvelope(tbl.envSchema, cdc.OpDelete, bv, nil, src, r.count(tbl), now))
			d.Headers = []schema.Header{{Key: cdc.HeaderNewKey, Value: keyJSON(ak)}}
			recs = append(recs, d)
			if r.s.tombstones {
				// Debezium's tombstone copies the delete's headers.
				tomb := mk(bk, nil)
				tomb.Headers = d.Headers
				recs = append(recs, tomb)
			}
			c := mk(ak, cdc.NewEnvelope(tbl.envSchema, cdc.OpCreate, nil, av, src, r.count(tbl), now))
			c.Headers = []schema.Header{{Key: cdc.HeaderOldKey, Value: keyJSON(bk)}}
			recs = append(recs, c)
		} else {
			recs = append(recs, mk(ak, cdc.NewEnvelope(tbl.envSchema, cdc.OpUpdate, bv, av, src, r.count(tbl), now)))
		}
	}
	if r.s.txnMetadata && !r.metaBegun {
		r.metaBegun = true
		k, v := cdc.TransactionBegin(r.txnID(), time.UnixMilli(r.txnTsMs))
		if err := t.emit(ctx, schema.Record{
			Topic: r.s.txnTopic, Partition: -1,
			KeySchema: cdc.TransactionKeySchema, Key: k, ValueSchema: cdc.TransactionValueSchema, Value: v,
			SourcePartition: t.partition, SourceOffset: offset(i),
		}); err != nil {
			return err
		}
	}
	var beforeMap map[string]any
	for j := range recs {
		if j == len(recs)-1 {
			recs[j].SourceOffset = offset(i + 1)
		} else {
			if beforeMap == nil {
				beforeMap = offset(i)
			}
			recs[j].SourceOffset = beforeMap
		}
		if err := t.emit(ctx, recs[j]); err != nil {
			return err
		}
	}
	return nil
}

// signalRow handles row i of an insert into the signal table: a watermark
// of the running incremental snapshot (at a close, the chunk's remaining
// rows are emitted here, in binlog order) or a signal for the snapshot loop.
func (r *reader) signalRow(ctx context.Context, row []any, i int, h *replication.EventHeader) error {
	if len(row) < 3 {
		r.log.Warn("signal table row has fewer than 3 columns (id, type, data); skipped")
		return nil
	}
	str := func(v any) string {
		switch x := v.(type) {
		case nil:
			return ""
		case []byte:
			return string(x)
		case string:
			return x
		}
		return fmt.Sprint(v)
	}
	sig := cdc.Signal{ID: str(row[0]), Type: str(row[1]), Data: str(row[2]), Channel: cdc.ChannelSource}
	if sig.Type != cdc.SignalWindowOpen && sig.Type != cdc.SignalWindowClose {
		if r.s.signals.Channels[cdc.ChannelSource] {
			r.t.inc.handle(sig)
		}
		return nil
	}
	rows := r.t.inc.windowSignal(sig)
	if rows == nil {
		return nil
	}
	defer r.t.inc.windowDone()
	base := position{File: r.txnFile, Pos: r.txnPos, GTIDs: r.txnGTIDs, Event: r.evIdx, Row: int64(i), ServerID: r.txnServerID, TsSec: int64(h.Timestamp)}
	for _, cr := range rows {
		now := time.Now()
		src := r.t.source.build(&sourceInfo{tsMs: now.UnixMilli(), snapshot: cdc.SnapshotIncremental, db: cr.tbl.db, table: cr.tbl.name,
			serverID: int64(h.ServerID), gtid: r.txnGTID, file: r.file, pos: int64(r.txnPos)})
		rec := schema.Record{
			Topic: cr.tbl.topic, Partition: -1,
			ValueSchema: cr.tbl.envSchema, Value: cdc.NewEnvelope(cr.tbl.envSchema, cdc.OpRead, nil, cr.value, src, nil, now),
			SourcePartition: r.t.partition,
		}
		if cr.key != nil {
			rec.KeySchema, rec.Key = cr.tbl.keySchema, cr.key
		}
		r.t.inc.emitted(cr)
		rec.SourceOffset = base.offsetMap()
		if err := r.t.emit(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// ddl handles a DDL statement: forgets cached table structures and emits the
// schema change event.
func (r *reader) ddl(ctx context.Context, e *replication.QueryEvent, h *replication.EventHeader) error {
	q := string(e.Query)
	defDB := string(e.Schema)
	changes, ok := parseDDL(q, defDB)
	if !ok {
		return nil
	}
	for _, c := range changes {
		if c.table == "" {
			r.t.cat.invalidate(c.db, "")
			for id, tbl := range r.tables {
				if tbl.db == c.db {
					delete(r.tables, id)
				}
			}
			continue
		}
		r.t.cat.invalidate(c.db, c.table)
		delete(r.tables, c.db+"."+c.table)
		r.t.inc.schemaChange(c.db + "." + c.table)
		if c.oldName != "" {
			r.t.cat.invalidate(c.oldDB, c.oldName)
			delete(r.tables, c.oldDB+"."+c.oldName)
		}
	}
	if !r.s.includeSchemaChanges {
		return nil
	}
	var tableChanges []any
	db := ""
	captured := false
	for _, c := range changes {
		if c.table == "" {
			if r.s.filters.database(c.db) && strings.HasSuffix(c.kind, "_DATABASE") {
				captured = true
				db = c.db
			}
			continue
		}
		if !r.s.filters.table(c.db, c.table) && !(c.oldName != "" && r.s.filters.table(c.oldDB, c.oldName)) {
			continue
		}
		captured = true
		if db == "" {
			db = c.db
		}
		id := quotedTableID(c.db, c.table)
		if c.oldName != "" {
			id = quotedTableID(c.oldDB, c.oldName) + "," + id
		}
		switch c.kind {
		case "TRUNCATE":
			continue
		case "DROP":
			tableChanges = append(tableChanges, &schema.Struct{Schema: r.t.sc.change, Values: []any{"DROP", id, nil}})
		default:
			ti, err := r.t.cat.info(ctx, c.db, c.table)
			if err != nil {
				return fmt.Errorf("schema change %s.%s: %w", c.db, c.table, err)
			}
			var tv any
			if ti != nil {
				cols, _ := ti.columns()
				tv = r.t.sc.tableStruct(cols, ti.pk, ti.charset, ti.comment)
			}
			tableChanges = append(tableChanges, &schema.Struct{Schema: r.t.sc.change, Values: []any{c.kind, id, tv}})
		}
	}
	if !captured {
		return nil
	}
	if db == "" {
		db = defDB
	}
	tsMs := int64(h.Timestamp) * 1000
	src := r.t.source.build(&sourceInfo{tsMs: tsMs, snapshot: cdc.SnapshotFalse, db: db, serverID: int64(h.ServerID),
		gtid: r.txnGTID, file: r.file, pos: int64(r.txnPos), thread: int64(e.SlaveProxyID)})
	if tableChanges == nil {
		tableChanges = []any{}
	}
	val := &schema.Struct{Schema: r.t.sc.value, Values: []any{src, tsMs, db, nil, q, tableChanges}}
	off := r.afterCommit(h)
	return r.t.emit(ctx, schema.Record{
		Topic: r.s.prefix, Partition: -1,
		KeySchema: r.t.sc.key, Key: &schema.Struct{Schema: r.t.sc.key, Values: []any{db}},
		ValueSchema: r.t.sc.value, Value: val,
		SourcePartition: r.t.partition, SourceOffset: off.offsetMap(),
	})
}

// discardHandler drops go-mysql's own logging (it logs its whole config at
// INFO); the reader logs what matters itself.
type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }

// firstLine drops the stack traces go-mysql's (pingcap) errors append.
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
