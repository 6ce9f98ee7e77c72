package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// incremental runs Debezium's signal-based incremental snapshots (DBLog with
// insert_insert watermarks) on PostgreSQL. The chunk loop runs on its own
// goroutine and SQL connection; the stream decoder never waits for it. One
// window covers one chunk of one table:
//
//  1. the loop inserts a snapshot-window-open row into the signal table
//     (its own transaction), selects the chunk (rows after the last key
//     emitted, up to the table's maximum key at its start, in primary-key
//     order, composite keys by row-value comparison) and inserts a
//     snapshot-window-close row;
//  2. the decoder, between the open and the close row in the slot's stream
//     (pgoutput sends transactions in commit order), notes the key of every
//     change to that table;
//  3. at the close row the decoder emits the chunk rows whose keys were not
//     changed inside the window (op r, source.snapshot "incremental").
//
// The signal table must be in the publication (publication.autocreate.mode
// filtered adds it). Progress rides in every offset the task emits
// (Debezium's incremental_snapshot_* keys).
type incremental struct {
	s     *settings
	log   *slog.Logger
	cfg   *cdc.SignalConfig
	b     *builder
	types *typeCache

	sigSchema, sigTable string

	wake chan struct{}

	mu       sync.Mutex
	state    cdc.IncrementalState
	requests []snapRequest
	stops    []stopRequest
	paused   bool
	// the current window (guarded by mu)
	chunkID  string
	winTable string
	open     bool
	seen     map[string]struct{}
	chunk    []chunkRow
	closed   chan struct{}
	active   atomic.Bool
	keys     atomic.Pointer[map[string]any]
	// lastOffset is the offset of the last record queued (log signals).
	lastOffset atomic.Pointer[map[string]any]
	dropped    atomic.Int64

	// loop-owned
	conn *pgx.Conn
	cur  *chunkTable
}

type snapRequest struct {
	id  string
	req cdc.SnapshotRequest
}

type stopRequest struct{ collections []string }

// chunkRow is one row of a chunk, converted.
type chunkRow struct {
	tbl        *table
	key, value *schema.Struct
	keyText    string
	raw        []any // primary-key values as stored in the offset
}

// chunkTable is the table version the loop reads chunks of.
type chunkTable struct {
	id  string
	tbl *table
	pk  []int // column indexes of the primary key, in key order
}

func newIncremental(s *settings, log *slog.Logger, b *builder, types *typeCache) *incremental {
	inc := &incremental{s: s, log: log, cfg: s.signals, b: b, types: types, wake: make(chan struct{}, 1)}
	if s.signals.DataCollection != "" {
		inc.sigSchema, inc.sigTable, _ = strings.Cut(s.signals.DataCollection, ".")
	}
	return inc
}

func (inc *incremental) poke() {
	select {
	case inc.wake <- struct{}{}:
	default:
	}
}

// load restores the state of a stored offset.
func (inc *incremental) load(s *cdc.IncrementalState) {
	inc.mu.Lock()
	defer inc.mu.Unlock()
	inc.state = *s
	inc.publish()
	inc.log.Info("incremental snapshot in progress; resuming at the next chunk", "collections", len(s.Collections),
		"table", s.Collections[0].ID, "after", fmt.Sprint(s.LastKey), "maximum", fmt.Sprint(s.MaxKey))
}

// publish recomputes the offset keys; mu is held.
func (inc *incremental) publish() {
	if !inc.state.Running() {
		inc.keys.Store(nil)
		return
	}
	m := map[string]any{}
	if err := inc.state.Store(m); err != nil {
		inc.log.Error("incremental snapshot state cannot be stored in the offset", "err", err)
		return
	}
	inc.keys.Store(&m)
}

// decorate adds the snapshot state to an offset (decoder, as each record
// is made) and remembers it for log signals.
func (inc *incremental) decorate(off map[string]any) map[string]any {
	if inc == nil || off == nil {
		return off
	}
	if k := inc.keys.Load(); k != nil {
		m := maps.Clone(off)
		maps.Copy(m, *k)
		off = m
	}
	inc.lastOffset.Store(&off)
	return off
}

// observe notes a change to a table while a window is open (decoder).
func (inc *incremental) observe(tableID string, key *schema.Struct) {
	if inc == nil || !inc.active.Load() || key == nil {
		return
	}
	inc.mu.Lock()
	if inc.open && inc.winTable == tableID {
		inc.seen[string(keyJSON(key))] = struct{}{}
	}
	inc.mu.Unlock()
}

// handle acts on a signal from any channel.
func (inc *incremental) handle(s cdc.Signal) {
	log := inc.log.With("signal", s.ID, "type", s.Type, "channel", s.Channel)
	switch s.Type {
	case cdc.SignalExecuteSnapshot:
		req, err := cdc.ParseSnapshotRequest(s.Data, false)
		switch {
		case err != nil:
			log.Warn("execute-snapshot signal skipped", "data", s.Data, "err", err)
			return
		case req.Type == cdc.SnapshotTypeBlocking:
			log.Error("execute-snapshot signal refused: blocking snapshots are not supported by Tributary; use \"type\": \"incremental\"", "data", s.Data)
			return
		case req.SurrogateKey != "":
			log.Error("execute-snapshot signal refused: surrogate-key is not supported by Tributary (tables are chunked by their primary key)", "data", s.Data)
			return
		case inc.sigTable == "":
			log.Error("execute-snapshot signal refused: incremental snapshots need signal.data.collection (the watermark table)")
			return
		}
		log.Info("incremental snapshot requested", "data-collections", req.DataCollections, "additional-conditions", len(req.Conditions))
		inc.mu.Lock()
		inc.requests = append(inc.requests, snapRequest{id: s.ID, req: req})
		inc.mu.Unlock()
		inc.poke()
	case cdc.SignalStopSnapshot:
		req, err := cdc.ParseSnapshotRequest(s.Data, true)
		if err != nil {
			log.Warn("stop-snapshot signal skipped", "data", s.Data, "err", err)
			return
		}
		if req.Type != cdc.SnapshotTypeIncremental {
			log.Warn("stop-snapshot signal for a blocking snapshot: none runs")
			return
		}
		inc.mu.Lock()
		if !inc.state.Running() && len(inc.requests) == 0 {
			inc.mu.Unlock()
			log.Warn("no incremental snapshot runs; stop-snapshot ignored")
			return
		}
		inc.stops = append(inc.stops, stopRequest{collections: req.DataCollections})
		inc.mu.Unlock()
		log.Info("incremental snapshot stop requested", "data-collections", req.DataCollections)
		inc.poke()
	case cdc.SignalPauseSnapshot:
		inc.mu.Lock()
		if inc.state.Running() && !inc.paused {
			inc.paused = true
			log.Info("incremental snapshot paused")
		}
		inc.mu.Unlock()
	case cdc.SignalResumeSnapshot:
		inc.mu.Lock()
		if inc.state.Running() && inc.paused {
			inc.paused = false
			log.Info("incremental snapshot resumed")
		}
		inc.mu.Unlock()
		inc.poke()
	case cdc.SignalLog:
		var off any = "<none>"
		if p := inc.lastOffset.Load(); p != nil {
			off = *p
		}
		msg, err := cdc.LogSignalMessage(s.Data, off)
		if err != nil {
			log.Warn("log signal skipped", "err", err)
			return
		}
		inc.log.Info(msg)
	case cdc.SignalWindowOpen, cdc.SignalWindowClose:
		log.Warn("window signals are only meaningful in the signal table; skipped")
	default:
		log.Warn("signal type not recognized; skipped")
	}
}

// windowSignal handles a watermark row the decoder saw. It returns the
// chunk rows to emit at a matching close (nil otherwise).
func (inc *incremental) windowSignal(s cdc.Signal) []chunkRow {
	inc.mu.Lock()
	defer inc.mu.Unlock()
	if inc.chunkID == "" || !strings.HasPrefix(s.ID, inc.chunkID) {
		inc.log.Debug("watermark of another chunk ignored", "id", s.ID, "expected", inc.chunkID)
		return nil
	}
	if s.Type == cdc.SignalWindowOpen {
		inc.open = true
		return nil
	}
	out := make([]chunkRow, 0, len(inc.chunk))
	for _, r := range inc.chunk {
		if _, changed := inc.seen[r.keyText]; !changed {
			out = append(out, r)
		}
	}
	if d := len(inc.chunk) - len(out); d > 0 {
		inc.dropped.Add(int64(d))
		inc.log.Debug("chunk rows superseded by changes inside the window", "table", inc.winTable, "dropped", d)
	}
	inc.open = false
	inc.chunk, inc.seen = nil, nil
	inc.chunkID = ""
	inc.active.Store(false)
	return out
}

// emitted records that a chunk row is queued (decoder), before its offset
// is made.
func (inc *incremental) emitted(r chunkRow) {
	inc.mu.Lock()
	if inc.state.Running() && inc.state.Collections[0].ID == r.tbl.id {
		inc.state.LastKey = r.raw
		inc.publish()
	}
	inc.mu.Unlock()
}

// windowDone lets the loop go on (decoder, after queueing a close's rows).
func (inc *incremental) windowDone() {
	inc.mu.Lock()
	c := inc.closed
	inc.closed = nil
	inc.mu.Unlock()
	if c != nil {
		close(c)
	}
}

// run is the chunk loop; it ends with ctx.
func (inc *incremental) run(ctx context.Context) {
	defer func() {
		if inc.conn != nil {
			inc.conn.Close(context.WithoutCancel(ctx))
		}
	}()
	for {
		inc.mu.Lock()
		busy := len(inc.requests) > 0 || len(inc.stops) > 0 || (inc.state.Running() && !inc.paused)
		inc.mu.Unlock()
		if !busy {
			select {
			case <-inc.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if err := inc.step(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			inc.log.Warn("incremental snapshot chunk failed; retrying", "err", err)
			if inc.conn != nil {
				inc.conn.Close(context.WithoutCancel(ctx))
				inc.conn = nil
			}
			select {
			case <-time.After(2 * time.Second):
			case <-ctx.Done():
				return
			}
		}
	}
}

// db returns the loop's connection, connecting when needed.
func (inc *incremental) db(ctx context.Context) (*pgx.Conn, error) {
	if inc.conn == nil || inc.conn.IsClosed() {
		c, err := inc.s.connect(ctx)
		if err != nil {
			return nil, err
		}
		// The walsender sends only flushed WAL: under synchronous_commit=off
		// a watermark would wait for the WAL writer (wal_writer_delay,
		// 200 ms by default) before the stream sees it. local flushes at
		// commit without waiting for synchronous standbys.
		if _, err := c.Exec(ctx, "SET synchronous_commit TO local"); err != nil {
			c.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("incremental snapshot connection: %w", err)
		}
		inc.conn = c
	}
	return inc.conn, nil
}

// step takes pending requests and stops into the state, then reads one chunk.
func (inc *incremental) step(ctx context.Context) error {
	inc.mu.Lock()
	reqs, stops := inc.requests, inc.stops
	inc.requests, inc.stops = nil, nil
	inc.mu.Unlock()
	var known []string
	if len(reqs) > 0 || len(stops) > 0 {
		conn, err := inc.db(ctx)
		var tables []capturedTable
		if err == nil {
			tables, err = publishedTables(ctx, conn, inc.s.publication, inc.s.filters)
		}
		if err != nil {
			inc.mu.Lock()
			inc.requests = append(reqs, inc.requests...)
			inc.stops = append(stops, inc.stops...)
			inc.mu.Unlock()
			return err
		}
		for _, tr := range tables {
			known = append(known, tr.schema+"."+tr.name)
		}
	}
	inc.mu.Lock()
	for _, st := range stops {
		inc.applyStop(cdc.MatchCollections(st.collections, known), st.collections == nil)
	}
	for _, r := range reqs {
		ids := cdc.MatchCollections(r.req.DataCollections, known)
		started := !inc.state.Running()
		for _, id := range ids {
			c := cdc.SnapshotCollection{ID: id, CorrelationID: r.id}
			if f := r.req.Condition(id); f != "" {
				c.Condition = "(" + f + ")"
			}
			inc.state.Collections = append(inc.state.Collections, c)
		}
		inc.state.CorrelationID = r.id
		if started && inc.state.Running() {
			inc.state.LastKey, inc.state.MaxKey = nil, nil
			inc.cur = nil
			inc.log.Info("incremental snapshot started", "collections", ids)
		}
	}
	inc.publish()
	run := inc.state.Running() && !inc.paused
	inc.mu.Unlock()
	if !run {
		return nil
	}
	return inc.readChunk(ctx)
}

// applyStop removes collections (all when all is set); mu is held.
func (inc *incremental) applyStop(ids []string, all bool) {
	var stopped []string
	kept := inc.state.Collections[:0:0]
	for i, c := range inc.state.Collections {
		if all || slices.Contains(ids, c.ID) {
			stopped = append(stopped, c.ID)
			if i == 0 {
				inc.state.LastKey, inc.state.MaxKey = nil, nil
				inc.cur = nil
			}
			continue
		}
		kept = append(kept, c)
	}
	inc.state.Collections = kept
	if !inc.state.Running() {
		inc.state = cdc.IncrementalState{}
		inc.paused = false
	}
	inc.log.Info("incremental snapshot: collections stopped", "stopped", stopped, "remaining", len(kept))
}

// nextCollection finishes the current table; mu is held.
func (inc *incremental) nextCollection(reason string) {
	done := inc.state.Collections[0].ID
	inc.state.Collections = inc.state.Collections[1:]
	inc.state.LastKey, inc.state.MaxKey = nil, nil
	inc.cur = nil
	inc.log.Info("incremental snapshot of table done", "table", done, "how", reason, "remaining", len(inc.state.Collections))
	if !inc.state.Running() {
		inc.state = cdc.IncrementalState{}
		inc.paused = false
		inc.log.Info("incremental snapshot completed")
	}
	inc.publish()
}

// readChunk runs one window over the current table.
func (inc *incremental) readChunk(ctx context.Context) error {
	inc.mu.Lock()
	if !inc.state.Running() {
		inc.mu.Unlock()
		return nil
	}
	coll := inc.state.Collections[0]
	lastKey, maxKey := inc.state.LastKey, inc.state.MaxKey
	id := cdc.NewChunkID()
	inc.chunkID, inc.winTable, inc.open = id, coll.ID, false
	inc.seen, inc.chunk = map[string]struct{}{}, nil
	closed := make(chan struct{})
	inc.closed = closed
	inc.active.Store(true)
	inc.mu.Unlock()
	abort := func() {
		inc.mu.Lock()
		inc.chunkID, inc.open, inc.seen, inc.chunk, inc.closed = "", false, nil, nil, nil
		inc.active.Store(false)
		inc.mu.Unlock()
	}

	openedAt := time.Now().UTC()
	if err := inc.watermark(ctx, id+"-open", cdc.SignalWindowOpen, cdc.WindowMetadata(openedAt, time.Time{}, coll.CorrelationID, coll.ID)); err != nil {
		abort()
		return err
	}
	rows, skip, err := inc.selectChunk(ctx, coll, lastKey, maxKey)
	if err != nil && ctx.Err() == nil {
		if inc.conn == nil || inc.conn.IsClosed() {
			abort()
			return err // the connection broke: read the chunk again
		}
		inc.log.Warn("incremental snapshot of table failed; skipping it and streaming on", "table", coll.ID, "err", err)
		skip = "failed"
	}
	if ctx.Err() != nil {
		abort()
		return ctx.Err()
	}
	inc.mu.Lock()
	switch {
	case skip != "":
		inc.nextCollection(skip)
	case len(rows) == 0:
		inc.nextCollection("scanned")
	default:
		inc.chunk = rows
	}
	haveRows := len(inc.chunk) > 0
	inc.mu.Unlock()
	if err := inc.watermark(ctx, id+"-close", cdc.SignalWindowClose, cdc.WindowMetadata(openedAt, time.Now().UTC(), coll.CorrelationID, coll.ID)); err != nil {
		abort()
		return err
	}
	if !haveRows {
		abort()
		return nil
	}
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// watermark inserts a row into the signal table.
func (inc *incremental) watermark(ctx context.Context, id, typ, data string) error {
	q := "INSERT INTO " + pgx.Identifier{inc.sigSchema, inc.sigTable}.Sanitize() + " VALUES ($1, $2, $3)"
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var conn *pgx.Conn
		if conn, err = inc.db(ctx); err == nil {
			if _, err = conn.Exec(ctx, q, id, typ, data); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
		inc.log.Warn("cannot write a watermark into the signal table; retrying", "table", inc.cfg.DataCollection, "err", err)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
	if err != nil {
		return fmt.Errorf("write %s watermark into %s: %w", typ, inc.cfg.DataCollection, err)
	}
	return nil
}

// Incremental snapshots chunk by smallint, integer, bigint, text and
// varchar keys, kept as the Java types Debezium's PostgreSQL connector keeps
// them (what the JDBC driver's getObject returns: Integer for int2/int4,
// Long for int8, String).

// javaKeyValue converts the text of a primary-key value.
func javaKeyValue(oid uint32, text []byte) (any, error) {
	switch oid {
	case oidInt2, oidInt4:
		n, err := strconv.ParseInt(string(text), 10, 32)
		return int32(n), err
	case oidInt8:
		return strconv.ParseInt(string(text), 10, 64)
	case oidText, oidVarchar:
		return string(text), nil
	}
	return nil, fmt.Errorf("type %d is not supported as an incremental snapshot key", oid)
}

const tableOidQuery = `SELECT c.oid, EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname = $3 AND p.schemaname = n.nspname AND p.tablename = c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`

// prepare loads the current table's version; skip names why the table
// cannot be snapshotted.
func (inc *incremental) prepare(ctx context.Context, conn *pgx.Conn, id string) (skip string, err error) {
	if inc.cur != nil && inc.cur.id == id {
		return "", nil
	}
	sch, name, ok := strings.Cut(id, ".")
	if !ok || !inc.s.filters.table(sch, name) {
		inc.log.Warn("incremental snapshot: table is not captured (table.include.list and friends); skipped", "table", id)
		return "not captured", nil
	}
	var oid uint32
	var published bool
	err = conn.QueryRow(ctx, tableOidQuery, sch, name, inc.s.publication).Scan(&oid, &published)
	if errors.Is(err, pgx.ErrNoRows) {
		inc.log.Warn("incremental snapshot: table does not exist; skipped", "table", id)
		return "unknown table", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", id, err)
	}
	if !published {
		inc.log.Warn("incremental snapshot: table is not in the publication (its changes are not streamed); skipped", "table", id, "publication", inc.s.publication)
		return "not published", nil
	}
	ri, err := relation(ctx, conn, oid)
	if err != nil {
		return "", err
	}
	if len(ri.pk) == 0 {
		inc.log.Warn("incremental snapshot: table has no primary key; skipped", "table", id)
		return "no primary key", nil
	}
	def := tableDef{relID: oid, schema: ri.schema, name: ri.name, cols: ri.cols, pk: ri.pk, identity: ri.identity}
	tbl, err := inc.b.build(def, func(oid uint32) (*pgType, error) { return inc.types.get(ctx, conn, oid) })
	if err != nil {
		return "", err
	}
	ct := &chunkTable{id: id, tbl: tbl}
	for _, k := range ri.pk {
		i := slices.IndexFunc(def.cols, func(c colDef) bool { return c.name == k })
		if i < 0 {
			return "no primary key", nil
		}
		if _, err := javaKeyValue(def.cols[i].oid, []byte("0")); err != nil {
			inc.log.Warn("incremental snapshot: primary key type not supported (smallint, integer, bigint, text, varchar); skipped", "table", id, "column", k)
			return "primary key type", nil
		}
		ct.pk = append(ct.pk, i)
	}
	inc.cur = ct
	return "", nil
}

// selectChunk reads the next chunk of a table (and its maximum key first).
func (inc *incremental) selectChunk(ctx context.Context, coll cdc.SnapshotCollection, lastKey, maxKey []any) ([]chunkRow, string, error) {
	conn, err := inc.db(ctx)
	if err != nil {
		return nil, "", err
	}
	skip, err := inc.prepare(ctx, conn, coll.ID)
	if err != nil || skip != "" {
		return nil, skip, err
	}
	ct := inc.cur
	tbl := ct.tbl
	from := pgx.Identifier{tbl.def.schema, tbl.def.name}.Sanitize()
	pkNames := make([]string, len(ct.pk))
	desc := make([]string, len(ct.pk))
	for j, i := range ct.pk {
		pkNames[j] = pgx.Identifier{tbl.def.cols[i].name}.Sanitize()
		desc[j] = pkNames[j] + " DESC"
	}
	placeholders := func(from int) string {
		ph := make([]string, len(pkNames))
		for j := range ph {
			ph[j] = "$" + strconv.Itoa(from+j)
		}
		if len(ph) == 1 {
			return ph[0]
		}
		return "(" + strings.Join(ph, ", ") + ")"
	}
	rowExpr := pkNames[0]
	if len(pkNames) > 1 {
		rowExpr = "(" + strings.Join(pkNames, ", ") + ")"
	}
	toJava := func(raw [][]byte) ([]any, error) {
		out := make([]any, len(ct.pk))
		for j, i := range ct.pk {
			if raw[j] == nil {
				return nil, fmt.Errorf("%s: null primary-key value", coll.ID)
			}
			v, err := javaKeyValue(tbl.def.cols[i].oid, raw[j])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", coll.ID, err)
			}
			out[j] = v
		}
		return out, nil
	}
	if maxKey == nil {
		q := "SELECT " + strings.Join(pkNames, ", ") + " FROM " + from
		if coll.Condition != "" {
			q += " WHERE " + coll.Condition
		}
		q += " ORDER BY " + strings.Join(desc, ", ") + " LIMIT 1"
		rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return nil, "", fmt.Errorf("maximum key of %s: %w", coll.ID, err)
		}
		var raw [][]byte
		if rows.Next() {
			for _, v := range rows.RawValues() {
				raw = append(raw, slices.Clone(v))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, "", fmt.Errorf("maximum key of %s: %w", coll.ID, err)
		}
		if raw == nil {
			return nil, "empty", nil
		}
		if maxKey, err = toJava(raw); err != nil {
			return nil, "", err
		}
		inc.mu.Lock()
		if inc.state.Running() && inc.state.Collections[0].ID == coll.ID {
			inc.state.MaxKey = maxKey
			inc.publish()
		}
		inc.mu.Unlock()
		inc.log.Info("incremental snapshot of table started", "table", coll.ID, "maximum key", fmt.Sprint(maxKey))
	}
	cols := make([]string, len(tbl.cols))
	for i, c := range tbl.cols {
		if c.field < 0 && c.keyField < 0 && !slices.Contains(ct.pk, i) {
			cols[i] = "NULL"
		} else {
			cols[i] = pgx.Identifier{c.name}.Sanitize()
		}
	}
	var where []string
	var args []any
	if lastKey != nil {
		where = append(where, rowExpr+" > "+placeholders(1))
		args = append(args, lastKey...)
	}
	where = append(where, rowExpr+" <= "+placeholders(len(args)+1))
	args = append(args, maxKey...)
	if coll.Condition != "" {
		where = append(where, coll.Condition)
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d", strings.Join(cols, ", "), from,
		strings.Join(where, " AND "), strings.Join(pkNames, ", "), inc.cfg.ChunkSize)
	rows, err := conn.Query(ctx, q, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
	if err != nil {
		return nil, "", fmt.Errorf("chunk of %s: %w", coll.ID, err)
	}
	defer rows.Close()
	var out []chunkRow
	for rows.Next() {
		rv := rows.RawValues()
		get := func(i int) (byte, []byte) {
			if rv[i] == nil {
				return kindNull, nil
			}
			return kindText, rv[i]
		}
		after, err := tbl.row(get, nil)
		if err != nil {
			return nil, "", fmt.Errorf("chunk of %s: %w", coll.ID, err)
		}
		key, err := tbl.key(get, after)
		if err != nil {
			return nil, "", fmt.Errorf("chunk of %s: %w", coll.ID, err)
		}
		rawKey := make([][]byte, len(ct.pk))
		for j, i := range ct.pk {
			rawKey[j] = rv[i]
		}
		jk, err := toJava(rawKey)
		if err != nil {
			return nil, "", err
		}
		out = append(out, chunkRow{tbl: tbl, key: key, value: after, keyText: string(keyJSON(key)), raw: jk})
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("chunk of %s: %w", coll.ID, err)
	}
	inc.log.Debug("incremental snapshot chunk read", "table", coll.ID, "rows", len(out), "after", fmt.Sprint(lastKey))
	return out, "", nil
}
