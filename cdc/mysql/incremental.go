package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// incremental runs Debezium's signal-based incremental snapshots (DBLog with
// insert_insert watermarks). The chunk loop runs on its own goroutine and SQL
// connections; the binlog reader never waits for it. One window covers one
// chunk of one table:
//
//  1. the loop inserts a snapshot-window-open row into the signal table,
//     selects the chunk (rows after the last key emitted, up to the table's
//     maximum key at its start, in primary-key order), hands it over and
//     inserts a snapshot-window-close row;
//  2. the reader, between the open and the close row in the binlog, notes
//     the keys of every change to that table;
//  3. at the close row the reader emits the chunk rows whose keys were not
//     changed inside the window (op r, source.snapshot "incremental"), then
//     lets the loop read the next chunk.
//
// A change inside the window is newer than or equal to the chunk's row and
// is emitted in binlog order anyway, so dropping that row keeps the replayed
// topic equal to the table.
//
// The snapshot's progress rides in every offset the task emits (Debezium's
// incremental_snapshot_* keys), so a restart resumes after the last key
// emitted.
type incremental struct {
	t   *Task
	log *slog.Logger
	cfg *cdc.SignalConfig

	// sigDB, sigTable name the signal table.
	sigDB, sigTable string

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
	// ddlGen counts the DDL statements the reader saw per table; winGen is
	// the count the window's chunk was read under (a different count at
	// the close means the chunk may have the old structure: read again).
	ddlGen map[string]uint64
	winGen uint64
	seen   map[string]struct{}
	chunk  []chunkRow
	closed chan struct{} // closed by the reader once the chunk is emitted
	// active is set while a window exists: the reader's fast check.
	active atomic.Bool
	// keys are the offset keys of the current state (nil: no snapshot runs).
	keys atomic.Pointer[map[string]any]

	// dropped counts chunk rows left out because the row changed inside
	// the window.
	dropped atomic.Int64
	// cur is the loop's table version (guarded by mu where the state is).
	cur *chunkTable
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
	pk  []int
	gen uint64 // ddlGen of the table when its structure was read
}

func newIncremental(t *Task, cfg *cdc.SignalConfig) *incremental {
	inc := &incremental{t: t, log: t.log, cfg: cfg, wake: make(chan struct{}, 1)}
	if cfg.DataCollection != "" {
		inc.sigDB, inc.sigTable, _ = strings.Cut(cfg.DataCollection, ".")
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

// decorate adds the snapshot state to an offset.
func (inc *incremental) decorate(off map[string]any) map[string]any {
	if inc == nil || off == nil {
		return off
	}
	k := inc.keys.Load()
	if k == nil {
		return off
	}
	m := maps.Clone(off)
	maps.Copy(m, *k)
	return m
}

// isSignalTable reports whether db.name is the signal table.
func (inc *incremental) isSignalTable(db, name string) bool {
	return inc != nil && inc.sigTable != "" && db == inc.sigDB && name == inc.sigTable
}

// observe notes a change to a table while a window is open (reader).
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

// schemaChange notes a DDL on a table (reader, every DDL): the loop reads
// the table's structure again, and a chunk read before the reader saw the
// DDL is read again.
func (inc *incremental) schemaChange(tableID string) {
	if inc == nil {
		return
	}
	inc.mu.Lock()
	if inc.ddlGen == nil {
		inc.ddlGen = map[string]uint64{}
	}
	inc.ddlGen[tableID]++
	inc.mu.Unlock()
}

// handle acts on a signal from any channel. Window signals come only from
// the signal table and are handled by the reader (windowSignal).
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
		if p := inc.t.lastOffset.Load(); p != nil {
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

// windowSignal handles a watermark row the reader saw. It returns the chunk
// rows to emit at a matching close (nil otherwise).
func (inc *incremental) windowSignal(s cdc.Signal) []chunkRow {
	inc.mu.Lock()
	defer inc.mu.Unlock()
	if inc.chunkID == "" || !strings.HasPrefix(s.ID, inc.chunkID) {
		// a watermark of an earlier run (replayed after a restart)
		inc.log.Debug("watermark of another chunk ignored", "id", s.ID, "expected", inc.chunkID)
		return nil
	}
	if s.Type == cdc.SignalWindowOpen {
		inc.open = true
		return nil
	}
	out := make([]chunkRow, 0, len(inc.chunk))
	if inc.chunk != nil && inc.ddlGen[inc.winTable] != inc.winGen {
		inc.log.Info("the table changed while its chunk was read; the chunk is read again", "table", inc.winTable)
		inc.chunk = nil
	}
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
	if out == nil {
		out = []chunkRow{}
	}
	return out
}

// emitted records that a chunk row left the task (reader).
func (inc *incremental) emitted(r chunkRow) {
	inc.mu.Lock()
	if inc.state.Running() && inc.state.Collections[0].ID == r.tbl.id {
		inc.state.LastKey = r.raw
		inc.publish()
	}
	inc.mu.Unlock()
}

// windowDone lets the loop go on (reader, after emitting a close's rows).
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
			select {
			case <-time.After(2 * time.Second):
			case <-ctx.Done():
				return
			}
		}
	}
}

// step takes pending requests and stops into the state, then reads one chunk.
func (inc *incremental) step(ctx context.Context) error {
	inc.mu.Lock()
	reqs, stops := inc.requests, inc.stops
	inc.requests, inc.stops = nil, nil
	inc.mu.Unlock()
	var known []string
	if len(reqs) > 0 || len(stops) > 0 {
		tables, err := listTables(ctx, inc.t.db, inc.t.s.filters)
		if err != nil {
			inc.mu.Lock()
			inc.requests = append(reqs, inc.requests...)
			inc.stops = append(stops, inc.stops...)
			inc.mu.Unlock()
			return err
		}
		for _, tr := range tables {
			known = append(known, tr.db+"."+tr.name)
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
	meta := cdc.WindowMetadata(openedAt, time.Time{}, coll.CorrelationID, coll.ID)
	if err := inc.watermark(ctx, id+"-open", cdc.SignalWindowOpen, meta); err != nil {
		abort()
		return err
	}
	rows, skip, err := inc.selectChunk(ctx, coll, lastKey, maxKey)
	if err != nil && ctx.Err() == nil {
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
		inc.chunk, inc.winGen = rows, inc.cur.gen
	}
	haveRows := len(inc.chunk) > 0
	inc.mu.Unlock()
	closeMeta := cdc.WindowMetadata(openedAt, time.Now().UTC(), coll.CorrelationID, coll.ID)
	if err := inc.watermark(ctx, id+"-close", cdc.SignalWindowClose, closeMeta); err != nil {
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
	q := "INSERT INTO " + quoteIdent(inc.sigDB) + "." + quoteIdent(inc.sigTable) + " VALUES (?, ?, ?)"
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if _, err = inc.t.db.ExecContext(ctx, q, id, typ, data); err == nil || ctx.Err() != nil {
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

// prepare loads the current table's version; skip names why the table
// cannot be snapshotted.
func (inc *incremental) prepare(ctx context.Context, id string) (skip string, err error) {
	inc.mu.Lock()
	gen := inc.ddlGen[id] // read before the structure: a later DDL makes the chunk stale
	inc.mu.Unlock()
	if inc.cur != nil && inc.cur.id == id && inc.cur.gen == gen {
		return "", nil
	}
	db, name, ok := strings.Cut(id, ".")
	if !ok || !inc.t.s.filters.table(db, name) {
		inc.log.Warn("incremental snapshot: table is not captured (table.include.list and friends); skipped", "table", id)
		return "not captured", nil
	}
	ti, err := loadTableInfo(ctx, inc.t.db, inc.t.server.flavor, db, name)
	if err != nil {
		return "", err
	}
	if ti == nil {
		inc.log.Warn("incremental snapshot: table does not exist; skipped", "table", id)
		return "unknown table", nil
	}
	cols, pk := ti.columns()
	if len(pk) == 0 {
		inc.log.Warn("incremental snapshot: table has no primary key; skipped", "table", id)
		return "no primary key", nil
	}
	for _, i := range pk {
		if _, err := javaKeyValue(&cols[i], int64(0)); err != nil {
			inc.log.Warn("incremental snapshot: primary key type not supported; skipped", "table", id, "column", cols[i].name, "type", cols[i].columnType)
			return "primary key type", nil
		}
	}
	tbl, err := newTable(inc.t.naming, db, name, cols, pk, inc.t.s.filters.column(db, name), inc.t.s.types, inc.t.source.schema)
	if err != nil {
		return "", err
	}
	tbl.charset, tbl.comment = ti.charset, ti.comment
	inc.cur = &chunkTable{id: id, tbl: tbl, pk: pk, gen: gen}
	return "", nil
}

// javaKeyValue converts a primary-key value scanned from the server into
// the Java type Debezium's MySQL connector keeps (Integer up to INT, Long
// for INT UNSIGNED and BIGINT, String for character columns).
func javaKeyValue(c *column, v any) (any, error) {
	switch c.kind {
	case kTiny, kSmall, kMedium, kInt, kBig:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case uint64:
			if x > 1<<63-1 {
				return nil, fmt.Errorf("column %s: %d does not fit a Java long", c.name, x)
			}
			n = int64(x)
		case []byte:
			if _, err := fmt.Sscan(string(x), &n); err != nil {
				return nil, fmt.Errorf("column %s: %w", c.name, err)
			}
		default:
			return nil, fmt.Errorf("column %s: unexpected %T", c.name, v)
		}
		if c.kind == kBig && c.unsigned {
			return nil, fmt.Errorf("column %s: BIGINT UNSIGNED keys are not supported", c.name)
		}
		if c.kind == kBig || (c.kind == kInt && c.unsigned) {
			return n, nil
		}
		return int32(n), nil
	case kString:
		switch x := v.(type) {
		case []byte:
			return string(x), nil
		case string:
			return x, nil
		case int64:
			return fmt.Sprint(x), nil
		}
		return nil, fmt.Errorf("column %s: unexpected %T", c.name, v)
	}
	return nil, fmt.Errorf("column %s: %s keys are not supported by incremental snapshots", c.name, c.columnType)
}

// selectChunk reads the next chunk of a table (and its maximum key first).
func (inc *incremental) selectChunk(ctx context.Context, coll cdc.SnapshotCollection, lastKey, maxKey []any) ([]chunkRow, string, error) {
	skip, err := inc.prepare(ctx, coll.ID)
	if err != nil || skip != "" {
		return nil, skip, err
	}
	ct := inc.cur
	tbl := ct.tbl
	from := quoteIdent(tbl.db) + "." + quoteIdent(tbl.name)
	pkNames := make([]string, len(ct.pk))
	desc := make([]string, len(ct.pk))
	for j, i := range ct.pk {
		pkNames[j] = quoteIdent(tbl.cols[i].name)
		desc[j] = pkNames[j] + " DESC"
	}
	rowExpr, ph := pkNames[0], "?"
	if len(pkNames) > 1 {
		rowExpr = "(" + strings.Join(pkNames, ", ") + ")"
		ph = "(" + strings.TrimSuffix(strings.Repeat("?, ", len(pkNames)), ", ") + ")"
	}
	if maxKey == nil {
		q := "SELECT " + strings.Join(pkNames, ", ") + " FROM " + from
		if coll.Condition != "" {
			q += " WHERE " + coll.Condition
		}
		q += " ORDER BY " + strings.Join(desc, ", ") + " LIMIT 1"
		raw := make([]any, len(pkNames))
		ptrs := make([]any, len(raw))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		err := inc.t.db.QueryRowContext(ctx, q).Scan(ptrs...)
		if err == sql.ErrNoRows {
			return nil, "empty", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("maximum key of %s: %w", coll.ID, err)
		}
		maxKey = make([]any, len(raw))
		for j, i := range ct.pk {
			if maxKey[j], err = javaKeyValue(&tbl.cols[i], raw[j]); err != nil {
				return nil, "", err
			}
		}
		inc.mu.Lock()
		if inc.state.Running() && inc.state.Collections[0].ID == coll.ID {
			inc.state.MaxKey = maxKey
			inc.publish()
		}
		inc.mu.Unlock()
		inc.log.Info("incremental snapshot of table started", "table", coll.ID, "maximum key", fmt.Sprint(maxKey))
	}
	names := make([]string, len(tbl.cols))
	for i := range tbl.cols {
		names[i] = quoteIdent(tbl.cols[i].name)
	}
	var where []string
	var args []any
	if lastKey != nil {
		where = append(where, rowExpr+" > "+ph)
		args = append(args, lastKey...)
	}
	where = append(where, rowExpr+" <= "+ph)
	args = append(args, maxKey...)
	if coll.Condition != "" {
		where = append(where, coll.Condition)
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d", strings.Join(names, ", "), from,
		strings.Join(where, " AND "), strings.Join(pkNames, ", "), inc.cfg.ChunkSize)
	rs, err := inc.t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("chunk of %s: %w", coll.ID, err)
	}
	defer rs.Close()
	vals := make([]any, len(tbl.cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []chunkRow
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return nil, "", fmt.Errorf("chunk of %s: %w", coll.ID, err)
		}
		raw := make([]any, len(ct.pk))
		for j, i := range ct.pk {
			if raw[j], err = javaKeyValue(&tbl.cols[i], vals[i]); err != nil {
				return nil, "", err
			}
		}
		key, value, err := tbl.rowValue(vals, false)
		if err != nil {
			return nil, "", err
		}
		out = append(out, chunkRow{tbl: tbl, key: key, value: value, keyText: string(keyJSON(key)), raw: raw})
	}
	if err := rs.Err(); err != nil {
		return nil, "", fmt.Errorf("chunk of %s: %w", coll.ID, err)
	}
	inc.log.Debug("incremental snapshot chunk read", "table", coll.ID, "rows", len(out), "after", fmt.Sprint(lastKey))
	return out, "", nil
}
