package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// wireMsg is one message from the replication connection, handed from the
// receiver to the decoder in order.
type wireMsg struct {
	keepalive bool
	start     pglogrepl.LSN // XLogData WALStart
	walEnd    pglogrepl.LSN // keepalive: the server's sent position
	data      []byte        // XLogData payload (owned)
}

// streamer reads the slot: a receiver goroutine owns the replication
// connection (answers keepalives, sends standby status updates with the
// acknowledged LSN) and a decoder turns pgoutput messages into records.
type streamer struct {
	s         *settings
	log       *slog.Logger
	b         *builder
	types     *typeCache
	q         *queue
	part      map[string]any
	metrics   connector.Metrics
	flushed   *atomic.Uint64 // LSN acknowledged through Commit
	version   int            // server_version_num
	protoV2   bool
	stream    bool
	received  atomic.Uint64 // metrics/tests: messages decoded
	spilledTx atomic.Int64  // streamed in-progress transactions spooled to disk
	inc       *incremental  // nil without signals configured

	// decoder state: owned by the decoder goroutine.
	cat     *pgx.Conn
	rels    map[uint32]*table
	pushed  position      // offset of the last queued record
	proc    pglogrepl.LSN // restart point: end of the last complete transaction or heartbeat position
	lastCmt pglogrepl.LSN // commit LSN of the last complete transaction
	// lastEnd is the end LSN of the last COMMIT decoded in this run
	// (0 before the first): what Debezium calls lastCommitLsn and puts
	// first in source.sequence.
	lastEnd    pglogrepl.LSN
	skip       *position     // resume: events of this transaction already emitted
	keepPos    pglogrepl.LSN // last keepalive's server position
	inTx       bool
	tx         txState
	pending    *heldRecord
	inStream   bool
	streamX    uint32
	spills     map[uint32]*spill
	lastHB     time.Time
	skipped    int64 // events skipped on resume (already emitted)
	rc         rowChange
	boxProc    any
	boxProcVal pglogrepl.LSN
}

// heldRecord is the last record of the current transaction, held back
// until the next record or COMMIT.
type heldRecord struct {
	rec schema.Record
	pos position
}

// txState is the transaction being decoded.
type txState struct {
	xid      uint32
	commit   pglogrepl.LSN
	ts       time.Time
	id       string
	total    int64
	perColl  map[string]int64
	order    []string
	lastLSN  pglogrepl.LSN
	nAt      int64
	skipping bool
	begun    bool // BEGIN event emitted (transaction metadata)

	// Values shared by every event of the transaction, boxed once.
	boxTsMs, boxTsUs, boxTsNs, boxXid, boxCommit, boxTsUsec any
}

// startReplication issues START_REPLICATION for the slot.
func (st *streamer) startReplication(ctx context.Context, conn *pgconn.PgConn, start pglogrepl.LSN) error {
	proto := "1"
	if st.protoV2 {
		proto = "2"
	}
	pub := `"` + strings.ReplaceAll(strings.ReplaceAll(st.s.publication, `"`, `""`), `'`, `''`) + `"`
	args := []string{"proto_version '" + proto + "'", "publication_names '" + pub + "'"}
	if st.stream {
		args = append(args, "streaming 'true'")
	}
	err := pglogrepl.StartReplication(ctx, conn, st.s.slot, start, pglogrepl.StartReplicationOptions{PluginArgs: args})
	if err != nil {
		return fmt.Errorf("start replication from slot %s at %s: %w", st.s.slot, start, err)
	}
	st.log.Info("streaming started", "slot", st.s.slot, "lsn", start.String(), "proto_version", proto, "streaming", st.stream)
	return nil
}

// run streams until ctx ends or a fatal error, reconnecting with backoff
// after connection failures. conn, when not nil, is an open replication
// connection (the one that created the slot); start is the LSN to stream
// from.
func (st *streamer) run(ctx context.Context, conn *pgconn.PgConn, start pglogrepl.LSN) error {
	defer st.closeSpills()
	defer func() {
		if st.cat != nil {
			st.cat.Close(context.WithoutCancel(ctx))
		}
	}()
	backoff := 100 * time.Millisecond
	for {
		began := time.Now()
		var err error
		if conn == nil {
			conn, err = st.s.connectReplication(ctx)
		}
		if err == nil {
			err = st.startReplication(ctx, conn, start)
		}
		if err == nil {
			err = st.session(ctx, conn)
		}
		if conn != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			conn.Close(cctx)
			cancel()
			conn = nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isFatal(err) {
			return err
		}
		if time.Since(began) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		st.log.Warn("replication connection lost; reconnecting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, st.s.retryMax)
		// Resume after the last queued record: its transaction, if
		// incomplete, is sent again and its emitted events are skipped.
		start = st.resetSession()
	}
}

// resetSession drops decoder state tied to a connection and returns the
// LSN to restart from.
func (st *streamer) resetSession() pglogrepl.LSN {
	st.inTx, st.tx, st.pending, st.inStream = false, txState{}, nil, false
	st.rels = map[uint32]*table{}
	st.closeSpills()
	if st.pushed.partial() {
		p := st.pushed
		st.skip = &p
	} else {
		st.skip = nil
	}
	st.proc = max(st.proc, st.pushed.proc)
	return st.pushed.proc
}

// session runs one replication connection until it fails or ctx ends.
func (st *streamer) session(ctx context.Context, conn *pgconn.PgConn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan wireMsg, 1024)
	var recvErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(msgs)
		recvErr = st.receive(ctx, conn, msgs)
		cancel()
	}()
	decErr := st.decode(ctx, msgs)
	cancel()
	for range msgs { // let the receiver finish
	}
	wg.Wait()
	if decErr != nil && !errors.Is(decErr, context.Canceled) {
		return decErr
	}
	if recvErr != nil {
		return recvErr
	}
	return decErr
}

// receive owns the connection: it reads messages, answers keepalives and
// sends standby status updates reporting the acknowledged LSN as flushed.
func (st *streamer) receive(ctx context.Context, conn *pgconn.PgConn, out chan<- wireMsg) error {
	interval := st.s.statusInterval
	if st.s.heartbeat > 0 && st.s.heartbeat < interval {
		interval = st.s.heartbeat
	}
	var lastSent uint64
	var lastSentAt time.Time
	next := time.Now()
	send := func(reply bool) error {
		f := st.flushed.Load()
		err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{
			WALWritePosition: pglogrepl.LSN(f), ReplyRequested: reply})
		if err != nil {
			return fmt.Errorf("send standby status: %w", err)
		}
		lastSent, lastSentAt = f, time.Now()
		next = lastSentAt.Add(interval)
		return nil
	}
	tick := time.NewTicker(min(interval, time.Second))
	defer tick.Stop()
	forward := func(m wireMsg) error {
		for {
			select {
			case out <- m:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
				// The decoder is behind (the queue is full): keep the
				// server's wal_sender_timeout from firing.
				if err := send(false); err != nil {
					return err
				}
			}
		}
	}
	for {
		now := time.Now()
		if !now.Before(next) || (st.flushed.Load() != lastSent && now.Sub(lastSentAt) > 200*time.Millisecond) {
			if err := send(st.s.heartbeat > 0); err != nil {
				return err
			}
		}
		deadline := now.Add(time.Second)
		if next.Before(deadline) {
			deadline = next
		}
		if st.flushed.Load() != lastSent {
			if d := lastSentAt.Add(250 * time.Millisecond); d.Before(deadline) {
				deadline = d
			}
		}
		rctx, rcancel := context.WithDeadline(ctx, deadline)
		msg, err := conn.ReceiveMessage(rctx)
		rcancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		switch msg := msg.(type) {
		case *pgproto3.CopyData:
			if len(msg.Data) == 0 {
				continue
			}
			switch msg.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("parse keepalive: %w", err)
				}
				if pkm.ReplyRequested {
					if err := send(false); err != nil {
						return err
					}
				}
				if err := forward(wireMsg{keepalive: true, walEnd: pkm.ServerWALEnd}); err != nil {
					return err
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(msg.Data[1:])
				if err != nil {
					return fmt.Errorf("parse XLogData: %w", err)
				}
				data := make([]byte, len(xld.WALData))
				copy(data, xld.WALData)
				if err := forward(wireMsg{start: xld.WALStart, data: data}); err != nil {
					return err
				}
			}
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(msg)
		case *pgproto3.CopyDone:
			return errors.New("server ended the replication stream")
		}
	}
}

// decode consumes messages in order and emits heartbeats.
func (st *streamer) decode(ctx context.Context, msgs <-chan wireMsg) error {
	var hb <-chan time.Time
	if st.s.heartbeat > 0 {
		t := time.NewTicker(st.s.heartbeat)
		defer t.Stop()
		hb = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-msgs:
			if !ok {
				return ctx.Err()
			}
			if m.keepalive {
				st.keepPos = max(st.keepPos, m.walEnd)
				continue
			}
			if err := st.handle(ctx, m.start, m.data); err != nil {
				return err
			}
		case <-hb:
			if err := st.heartbeat(ctx); err != nil {
				return err
			}
		}
	}
}

// heartbeat queues a heartbeat record carrying the position up to which
// everything is processed, so acknowledging it advances the slot even when
// no captured table changes.
func (st *streamer) heartbeat(ctx context.Context) error {
	if st.inTx {
		return nil
	}
	if st.keepPos > st.proc {
		st.proc = st.keepPos
	}
	pos := position{proc: st.proc, commit: st.lastCmt, lsn: st.proc, tsUsec: time.Now().UnixMicro()}
	now := time.Now()
	st.lastHB = now
	if err := st.q.push(ctx, heartbeatRecord(st.s, st.part, st.inc.decorate(pos.offset("HEARTBEAT")), now)); err != nil {
		return err
	}
	st.pushed = pos
	return nil
}

// Stream control message types of protocol v2.
const (
	msgStreamStart  = 'S'
	msgStreamStop   = 'E'
	msgStreamCommit = 'c'
	msgStreamAbort  = 'A'
)

// handle decodes one pgoutput message.
func (st *streamer) handle(ctx context.Context, lsn pglogrepl.LSN, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	st.received.Add(1)
	if st.inStream {
		switch data[0] {
		case msgStreamStart, msgStreamStop, msgStreamCommit, msgStreamAbort:
		default:
			return st.spill(st.streamX, lsn, data)
		}
	}
	return st.decodeMsg(ctx, lsn, data, st.inStream)
}

// decodeMsg decodes one message: row changes on a copy-free fast path,
// everything else with pglogrepl.
func (st *streamer) decodeMsg(ctx context.Context, lsn pglogrepl.LSN, data []byte, inStream bool) error {
	ok, err := decodeRowChange(data, inStream, &st.rc)
	if err != nil {
		return fmt.Errorf("decode pgoutput message %q at %s: %w", data[0], lsn, err)
	}
	if ok {
		return st.rowChange(ctx, lsn, &st.rc)
	}
	msg, err := pglogrepl.ParseV2(data, inStream)
	if err != nil {
		return fmt.Errorf("decode pgoutput message %q at %s: %w", data[0], lsn, err)
	}
	return st.dispatch(ctx, lsn, msg)
}

func (st *streamer) dispatch(ctx context.Context, lsn pglogrepl.LSN, msg pglogrepl.Message) error {
	switch m := msg.(type) {
	case *pglogrepl.RelationMessageV2:
		return st.relation(ctx, &m.RelationMessage)
	case *pglogrepl.RelationMessage:
		return st.relation(ctx, m)
	case *pglogrepl.BeginMessage:
		return st.begin(ctx, m.Xid, m.FinalLSN, lsn, m.CommitTime)
	case *pglogrepl.CommitMessage:
		return st.commit(ctx, m.CommitLSN, m.TransactionEndLSN, m.CommitTime)
	case *pglogrepl.TruncateMessageV2:
		return st.truncate(ctx, lsn, &m.TruncateMessage)
	case *pglogrepl.TruncateMessage:
		return st.truncate(ctx, lsn, m)
	case *pglogrepl.StreamStartMessageV2:
		st.inStream, st.streamX = true, m.Xid
		if sp := st.spills[m.Xid]; sp != nil && m.FirstSegment == 1 {
			// The server starts this transaction over: forget what an
			// earlier pass spooled.
			sp.close()
			delete(st.spills, m.Xid)
		}
	case *pglogrepl.StreamStopMessageV2:
		st.inStream = false
	case *pglogrepl.StreamCommitMessageV2:
		return st.streamCommit(ctx, m)
	case *pglogrepl.StreamAbortMessageV2:
		st.streamAbort(m.Xid, m.SubXid)
	}
	// Type, Origin and logical decoding messages carry nothing we emit.
	return nil
}

// relation caches the table a Relation message describes; a new shape
// builds new schemas from this point on.
func (st *streamer) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	def := tableDef{relID: m.RelationID, schema: m.Namespace, name: m.RelationName, identity: m.ReplicaIdentity}
	if !st.s.filters.table(m.Namespace, m.RelationName) {
		// In the publication but not captured: its changes are counted
		// (for resume positions) and dropped.
		st.rels[m.RelationID] = &table{def: def, id: m.Namespace + "." + m.RelationName}
		return nil
	}
	ri, err := st.catalog(ctx, func(c *pgx.Conn) (*relInfo, error) { return relation(ctx, c, m.RelationID) })
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		st.log.Warn("catalog lookup for relation failed; nullability and key taken from the Relation message", "table", m.Namespace+"."+m.RelationName, "err", err)
		ri = &relInfo{notNull: map[string]bool{}}
	}
	present := map[string]bool{}
	for _, c := range m.Columns {
		present[c.Name] = true
		def.cols = append(def.cols, colDef{name: c.Name, oid: c.DataType, typmod: c.TypeModifier, notNull: ri.notNull[c.Name], defExpr: ri.defaults[c.Name]})
	}
	for _, k := range ri.pk {
		if !present[k] {
			def.pk = nil
			break
		}
		def.pk = append(def.pk, k)
	}
	if ri.pk == nil && def.identity == 'i' {
		for _, c := range m.Columns {
			if c.Flags&1 != 0 {
				def.pk = append(def.pk, c.Name)
			}
		}
	}
	t, err := st.b.build(def, func(oid uint32) (*pgType, error) {
		return st.catalogType(ctx, oid)
	})
	if err != nil {
		return err
	}
	if old := st.rels[m.RelationID]; old != nil && old != t {
		st.log.Info("table shape changed; new schemas from here on", "table", t.id)
	}
	st.rels[m.RelationID] = t
	return nil
}

// catalog runs fn on the catalog connection, reconnecting once if needed.
func (st *streamer) catalog(ctx context.Context, fn func(*pgx.Conn) (*relInfo, error)) (*relInfo, error) {
	for attempt := 0; ; attempt++ {
		if st.cat == nil || st.cat.IsClosed() {
			c, err := st.s.connect(ctx)
			if err != nil {
				return nil, err
			}
			st.cat = c
		}
		ri, err := fn(st.cat)
		if err == nil || attempt > 0 || !st.cat.IsClosed() {
			return ri, err
		}
	}
}

func (st *streamer) catalogType(ctx context.Context, oid uint32) (*pgType, error) {
	if st.cat == nil || st.cat.IsClosed() {
		c, err := st.s.connect(ctx)
		if err != nil {
			return nil, err
		}
		st.cat = c
	}
	return st.types.get(ctx, st.cat, oid)
}

// begin starts transaction xid committing at final; at is the BEGIN
// message's WAL position (0 for a streamed transaction replayed at its
// commit).
func (st *streamer) begin(_ context.Context, xid uint32, final, at pglogrepl.LSN, ts time.Time) error {
	st.inTx = true
	ns := ts.UnixNano()
	st.tx = txState{xid: xid, commit: final, ts: ts,
		boxTsMs: ns / 1e6, boxTsUs: ns / 1e3, boxTsNs: ns, boxXid: int64(xid), boxCommit: int64(final), boxTsUsec: ns / 1e3}
	if st.skip != nil && final > st.skip.commit {
		st.skip = nil // the partially emitted transaction is not coming again
	}
	st.tx.skipping = st.skip != nil && st.skip.commit == final
	if st.s.txMetadata {
		// Debezium's transaction id is "<xid>:<lsn>" at the BEGIN message
		// (the END event's at the COMMIT message, see commit).
		if at == 0 {
			at = final
		}
		st.tx.id = fmt.Sprintf("%d:%d", xid, uint64(at))
		st.tx.perColl = map[string]int64{}
	}
	return nil
}

func (st *streamer) commit(ctx context.Context, commitLSN, end pglogrepl.LSN, ts time.Time) error {
	if !st.inTx {
		return nil
	}
	st.inTx = false
	st.proc = max(st.proc, end)
	st.lastCmt = commitLSN
	st.lastEnd = end
	if st.skip != nil && st.skip.commit == commitLSN {
		st.skip = nil
	}
	pos := position{proc: st.proc, commit: commitLSN, lsn: st.tx.lastLSN, eventsAt: st.tx.nAt, xid: st.tx.xid, tsUsec: ts.UnixMicro()}
	if h := st.pending; h != nil {
		// The last record of the transaction completes it in the
		// stored offset.
		st.pending = nil
		h.pos.proc = st.proc
		h.rec.SourceOffset[offLSNProc] = int64(st.proc)
		if err := st.q.push(ctx, h.rec); err != nil {
			return err
		}
		st.pushed = h.pos
	}
	if st.s.txMetadata && st.tx.begun {
		counts := make([]cdc.CollectionCount, 0, len(st.tx.order))
		for _, c := range st.tx.order {
			counts = append(counts, cdc.CollectionCount{Collection: c, Count: st.tx.perColl[c]})
		}
		k, v := cdc.TransactionEnd(fmt.Sprintf("%d:%d", st.tx.xid, uint64(end)), ts, counts)
		if err := st.q.push(ctx, txRecord(st.s, k, v, st.part, st.inc.decorate(pos.offset("COMMIT")), time.Now())); err != nil {
			return err
		}
		st.pushed = pos
	}
	st.metrics.SourceLagMillis(time.Since(ts).Milliseconds())
	return nil
}

// emit queues the held-back record and holds rec back in turn, so the last
// record of a transaction can be marked as completing it when COMMIT
// arrives.
func (st *streamer) emit(ctx context.Context, rec schema.Record, pos position) error {
	if h := st.pending; h != nil {
		if err := st.q.push(ctx, h.rec); err != nil {
			return err
		}
		st.pushed = h.pos
	}
	st.pending = &heldRecord{rec: rec, pos: pos}
	return nil
}

// change accounts for one change message and reports whether its records
// must be emitted (false while skipping what a previous run emitted).
func (st *streamer) change(lsn pglogrepl.LSN) (pos position, emit bool) {
	if lsn == st.tx.lastLSN {
		st.tx.nAt++
	} else {
		st.tx.lastLSN, st.tx.nAt = lsn, 1
	}
	pos = position{proc: st.proc, commit: st.tx.commit, lsn: lsn, eventsAt: st.tx.nAt, xid: st.tx.xid, tsUsec: st.tx.ts.UnixMicro()}
	if st.tx.skipping {
		sk := st.skip
		if lsn < sk.lsn || (lsn == sk.lsn && st.tx.nAt <= sk.eventsAt) {
			st.tx.begun = true // the previous run emitted BEGIN
			st.skipped++
			return pos, false
		}
		st.tx.skipping = false
		st.log.Debug("resumed inside a transaction", "xid", st.tx.xid, "skipped_events", st.skipped)
	}
	return pos, true
}

// offset is p.offset with the transaction's values boxed once.
func (st *streamer) offset(p position, msgType string) map[string]any {
	if st.boxProcVal != p.proc || st.boxProc == nil {
		st.boxProcVal, st.boxProc = p.proc, int64(p.proc)
	}
	m := make(map[string]any, 7)
	m[offLSN] = int64(p.lsn)
	m[offLSNProc] = st.boxProc
	m[offLSNCommit] = st.tx.boxCommit
	m[offTsUsec] = st.tx.boxTsUsec
	m[offTxID] = st.tx.boxXid
	if p.eventsAt > 0 {
		m[offEventsAt] = p.eventsAt
	}
	m[offMsgType] = msgType
	return m
}

// txBlock counts the event and returns its transaction block.
func (st *streamer) txBlock(t *table, lsn pglogrepl.LSN) *schema.Struct {
	if !st.s.txMetadata {
		return nil
	}
	st.tx.total++
	if _, ok := st.tx.perColl[t.id]; !ok {
		st.tx.order = append(st.tx.order, t.id)
	}
	st.tx.perColl[t.id]++
	// Debezium 3.6.1 forms the id from the position of the moment: in
	// a data event it is "<xid>:<the event's lsn>" (BEGIN and END carry
	// theirs), so it changes within a transaction.
	return cdc.TransactionBlock(fmt.Sprintf("%d:%d", st.tx.xid, uint64(lsn)), st.tx.total, st.tx.perColl[t.id])
}

// push queues the records of one change. All but the last carry an offset
// that does not yet count the change, so a restart between them emits the
// whole change again.
func (st *streamer) push(ctx context.Context, pos position, msgType string, recs ...schema.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if st.s.txMetadata && !st.tx.begun {
		st.tx.begun = true
		k, v := cdc.TransactionBegin(st.tx.id, st.tx.ts)
		p := pos
		p.eventsAt--
		if err := st.emit(ctx, txRecord(st.s, k, v, st.part, st.inc.decorate(p.offset("BEGIN")), time.Now()), p); err != nil {
			return err
		}
	}
	for i := range recs {
		p := pos
		if i < len(recs)-1 {
			p.eventsAt--
		}
		recs[i].SourceOffset = st.inc.decorate(st.offset(p, msgType))
		if err := st.emit(ctx, recs[i], p); err != nil {
			return err
		}
	}
	return nil
}

func (st *streamer) table(relID uint32) (*table, bool, error) {
	t := st.rels[relID]
	if t == nil {
		return nil, false, fmt.Errorf("change for relation %d before its Relation message", relID)
	}
	return t, t.captured, nil
}

// source is the source block of a streamed event.
func (st *streamer) source(t *table, lsn pglogrepl.LSN) *schema.Struct {
	v := make([]any, srcFields)
	v[srcVersion] = cdc.Version
	v[srcConnector] = "postgresql"
	v[srcName] = st.s.boxPrefix
	v[srcTsMs] = st.tx.boxTsMs
	v[srcSnapshot] = cdc.SnapshotFalse
	v[srcDB] = st.s.boxDB
	v[srcSequence] = sequence(st.lastEnd, lsn)
	v[srcTsUs] = st.tx.boxTsUs
	v[srcTsNs] = st.tx.boxTsNs
	v[srcSchema] = t.boxSchema
	v[srcTable] = t.boxName
	v[srcTxID] = st.tx.boxXid
	v[srcLSN] = int64(lsn)
	return &schema.Struct{Schema: sourceSchema, Values: v}
}

// rowChange handles an Insert, Update or Delete.
func (st *streamer) rowChange(ctx context.Context, lsn pglogrepl.LSN, rc *rowChange) error {
	t, captured, err := st.table(rc.relID)
	if err != nil {
		return err
	}
	pos, emit := st.change(lsn)
	if emit && st.inc != nil && rc.typ == 'I' && st.s.isSignalTable(t.def.schema, t.def.name) {
		if err := st.signalRow(ctx, t, lsn, pos, rc.new); err != nil {
			return err
		}
	}
	if !captured || !emit {
		return nil
	}
	switch rc.typ {
	case 'I':
		return st.insert(ctx, t, lsn, pos, rc.new)
	case 'U':
		return st.update(ctx, t, lsn, pos, rc.oldKind, rc.old, rc.new)
	}
	return st.delete(ctx, t, lsn, pos, rc.old)
}

func (st *streamer) insert(ctx context.Context, t *table, lsn pglogrepl.LSN, pos position, cols []tupleCol) error {
	if st.s.skip["c"] {
		return nil
	}
	get := colsGet(cols)
	after, err := t.row(get, nil)
	if err != nil {
		return err
	}
	key, err := t.key(get, after)
	if err != nil {
		return err
	}
	st.inc.observe(t.id, key)
	now := time.Now()
	env := envelope(t.envelope, opCreate, nil, after, st.source(t, lsn), st.txBlock(t, lsn), now)
	return st.push(ctx, pos, "INSERT", dataRecord(t, key, env, st.part, nil, now))
}

func (st *streamer) update(ctx context.Context, t *table, lsn pglogrepl.LSN, pos position, oldKind byte, old, cols []tupleCol) error {
	var before *schema.Struct
	var oldGet tupleGetter
	var err error
	if oldKind != 0 {
		oldGet = colsGet(old)
		if before, err = t.row(oldGet, nil); err != nil {
			return err
		}
	}
	newGet := colsGet(cols)
	var prev *schema.Struct
	if oldKind == 'O' {
		prev = before
	}
	after, err := t.row(newGet, prev)
	if err != nil {
		return err
	}
	key, err := t.key(newGet, after)
	if err != nil {
		return err
	}
	st.inc.observe(t.id, key)
	now := time.Now()
	if oldGet != nil && t.keySchema != nil {
		oldKey, err := t.key(oldGet, before)
		if err != nil {
			return err
		}
		st.inc.observe(t.id, oldKey)
		if !equalKeys(oldKey, key) {
			return st.keyChange(ctx, t, lsn, pos, before, after, oldKey, key, now)
		}
	}
	if st.s.skip["u"] {
		return nil
	}
	env := envelope(t.envelope, opUpdate, before, after, st.source(t, lsn), st.txBlock(t, lsn), now)
	return st.push(ctx, pos, "UPDATE", dataRecord(t, key, env, st.part, nil, now))
}

// keyChange emits Debezium's primary-key change: a delete under the old key
// (header __debezium.newkey), its tombstone, and a create under the new key
// (header __debezium.oldkey).
func (st *streamer) keyChange(ctx context.Context, t *table, lsn pglogrepl.LSN, pos position, before, after, oldKey, newKey *schema.Struct, now time.Time) error {
	var recs []schema.Record
	if !st.s.skip["d"] {
		del := dataRecord(t, oldKey, envelope(t.envelope, opDelete, before, nil, st.source(t, lsn), st.txBlock(t, lsn), now), st.part, nil, now)
		del.Headers = []schema.Header{{Key: cdc.HeaderNewKey, Value: keyJSON(newKey)}}
		recs = append(recs, del)
		if st.s.tombstones && oldKey != nil {
			// Debezium's tombstone copies the delete's headers.
			tomb := tombstone(t, oldKey, st.part, nil, now)
			tomb.Headers = del.Headers
			recs = append(recs, tomb)
		}
	}
	if !st.s.skip["c"] {
		cr := dataRecord(t, newKey, envelope(t.envelope, opCreate, nil, after, st.source(t, lsn), st.txBlock(t, lsn), now), st.part, nil, now)
		cr.Headers = []schema.Header{{Key: cdc.HeaderOldKey, Value: keyJSON(oldKey)}}
		recs = append(recs, cr)
	}
	return st.push(ctx, pos, "UPDATE", recs...)
}

func (st *streamer) delete(ctx context.Context, t *table, lsn pglogrepl.LSN, pos position, old []tupleCol) error {
	if st.s.skip["d"] {
		return nil
	}
	get := colsGet(old)
	before, err := t.row(get, nil)
	if err != nil {
		return err
	}
	key, err := t.key(get, before)
	if err != nil {
		return err
	}
	st.inc.observe(t.id, key)
	now := time.Now()
	recs := []schema.Record{dataRecord(t, key, envelope(t.envelope, opDelete, before, nil, st.source(t, lsn), st.txBlock(t, lsn), now), st.part, nil, now)}
	// As Debezium 3.6.1: every delete gets its tombstone, with a null key
	// for a table without one.
	if st.s.tombstones {
		recs = append(recs, tombstone(t, key, st.part, nil, now))
	}
	return st.push(ctx, pos, "DELETE", recs...)
}

func (st *streamer) truncate(ctx context.Context, lsn pglogrepl.LSN, m *pglogrepl.TruncateMessage) error {
	pos, emit := st.change(lsn)
	if !emit || st.s.skip["t"] {
		return nil
	}
	now := time.Now()
	var recs []schema.Record
	for _, id := range m.RelationIDs {
		t, captured, err := st.table(id)
		if err != nil {
			return err
		}
		if !captured {
			continue
		}
		env := envelope(t.envelope, opTruncate, nil, nil, st.source(t, lsn), st.txBlock(t, lsn), now)
		recs = append(recs, schema.Record{Topic: t.topic, Partition: -1, ValueSchema: t.envelope, Value: env,
			Timestamp: now, SourcePartition: st.part})
	}
	return st.push(ctx, pos, "TRUNCATE", recs...)
}

// signalRow handles an insert into the signal table: a watermark of the
// running incremental snapshot (at a close, the chunk's remaining rows are
// queued here, in stream order) or a signal for the snapshot loop.
func (st *streamer) signalRow(ctx context.Context, t *table, lsn pglogrepl.LSN, pos position, cols []tupleCol) error {
	if len(cols) < 3 {
		st.log.Warn("signal table row has fewer than 3 columns (id, type, data); skipped", "table", t.id)
		return nil
	}
	str := func(c tupleCol) string {
		if c.kind != kindText {
			return ""
		}
		return string(c.data)
	}
	sig := cdc.Signal{ID: str(cols[0]), Type: str(cols[1]), Data: str(cols[2]), Channel: cdc.ChannelSource}
	if sig.Type != cdc.SignalWindowOpen && sig.Type != cdc.SignalWindowClose {
		if st.s.signals.Channels[cdc.ChannelSource] {
			st.inc.handle(sig)
		}
		return nil
	}
	rows := st.inc.windowSignal(sig)
	if rows == nil {
		return nil
	}
	defer st.inc.windowDone()
	now := time.Now()
	for i, r := range rows {
		st.inc.emitted(r)
		p := pos
		if i < len(rows)-1 {
			p.eventsAt--
		}
		src := sourceBlock(st.s, r.tbl, cdc.SnapshotIncremental, now, 0, lsn, sequence(st.lastEnd, lsn))
		env := envelope(r.tbl.envelope, opRead, nil, r.value, src, nil, now)
		if err := st.emit(ctx, dataRecord(r.tbl, r.key, env, st.part, st.inc.decorate(st.offset(p, "INSERT")), now), p); err != nil {
			return err
		}
	}
	return nil
}
