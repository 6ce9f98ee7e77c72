package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"golang.org/x/sync/errgroup"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// snapshotView is a set of connections whose transactions all see the same
// consistent snapshot, and the binlog position that snapshot matches.
type snapshotView struct {
	conns []*sql.Conn
	pos   position
}

func (v *snapshotView) close() {
	for _, c := range v.conns {
		if c != nil {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
			c.Close()
		}
	}
}

// openView opens n connections sharing one consistent snapshot.
//
// MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT reports the matching
// binlog position (binlog_snapshot_file/position) without locks; connections
// whose snapshots report the same position saw the same commits. With several
// connections this is retried a few times, then a brief FLUSH TABLES WITH
// READ LOCK makes the positions agree. MySQL always takes the global read
// lock, only while the transactions start and the position is read
// (snapshot.locking.mode=minimal).
func (t *Task) openView(ctx context.Context, n int) (*snapshotView, error) {
	mariadb := t.server.flavor == gmysql.MariaDBFlavor
	if mariadb {
		for attempt := 0; attempt < 10; attempt++ {
			v, same, err := t.tryLockFreeView(ctx, n)
			if err != nil {
				return nil, err
			}
			if same {
				return v, nil
			}
			v.close()
		}
		t.log.Info("snapshot connections did not agree on a binlog position; taking a brief global read lock", "threads", n)
	}
	if t.s.lockingMode == "none" {
		if n > 1 {
			t.log.Warn("snapshot.locking.mode=none: snapshotting with one thread")
		}
		return t.unlockedView(ctx)
	}
	v, err := t.lockedView(ctx, n)
	if err != nil && mariadb {
		t.log.Warn("global read lock not possible; snapshotting with one thread", "err", err)
		v, _, err = t.tryLockFreeView(ctx, 1)
	}
	return v, err
}

func (t *Task) newSnapshotConn(ctx context.Context) (*sql.Conn, error) {
	c, err := t.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot connection: %w", err)
	}
	if _, err := c.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		c.Close()
		return nil, fmt.Errorf("snapshot connection: %w", err)
	}
	return c, nil
}

func (t *Task) tryLockFreeView(ctx context.Context, n int) (*snapshotView, bool, error) {
	v := &snapshotView{conns: make([]*sql.Conn, n)}
	for i := range v.conns {
		c, err := t.newSnapshotConn(ctx)
		if err != nil {
			v.close()
			return nil, false, err
		}
		v.conns[i] = c
	}
	files := make([]string, n)
	poss := make([]uint32, n)
	var g errgroup.Group
	for i, c := range v.conns {
		g.Go(func() error {
			if _, err := c.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
				return fmt.Errorf("start consistent snapshot: %w", err)
			}
			rows, err := c.QueryContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_%'")
			if err != nil {
				return fmt.Errorf("read binlog_snapshot_file/position: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var k, val string
				if err := rows.Scan(&k, &val); err != nil {
					return err
				}
				switch strings.ToLower(k) {
				case "binlog_snapshot_file":
					files[i] = val
				case "binlog_snapshot_position":
					p, _ := strconv.ParseUint(val, 10, 32)
					poss[i] = uint32(p)
				}
			}
			return rows.Err()
		})
	}
	if err := g.Wait(); err != nil {
		v.close()
		return nil, false, err
	}
	if files[0] == "" {
		v.close()
		return nil, false, fmt.Errorf("%w: binlog_snapshot_file is empty: binary logging is off", ErrConfiguration)
	}
	for i := 1; i < n; i++ {
		if files[i] != files[0] || poss[i] != poss[0] {
			return v, false, nil
		}
	}
	gt, err := gtidAt(ctx, v.conns[0], files[0], poss[0])
	if err != nil {
		v.close()
		return nil, false, err
	}
	v.pos = position{File: files[0], Pos: poss[0], GTIDs: gt}
	return v, true, nil
}

func (t *Task) lockedView(ctx context.Context, n int) (*snapshotView, error) {
	lock, err := t.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot lock connection: %w", err)
	}
	defer lock.Close()
	v := &snapshotView{conns: make([]*sql.Conn, n)}
	for i := range v.conns {
		c, err := t.newSnapshotConn(ctx)
		if err != nil {
			v.close()
			return nil, err
		}
		v.conns[i] = c
	}
	if _, err := lock.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
		v.close()
		return nil, fmt.Errorf("FLUSH TABLES WITH READ LOCK (needs the RELOAD privilege): %w", err)
	}
	unlocked := false
	unlock := func() {
		if !unlocked {
			unlocked = true
			_, _ = lock.ExecContext(context.Background(), "UNLOCK TABLES")
		}
	}
	defer unlock()
	started := time.Now()
	for _, c := range v.conns {
		if _, err := c.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			v.close()
			return nil, fmt.Errorf("start consistent snapshot: %w", err)
		}
	}
	file, pos, gtids, err := currentPosition(ctx, lock, t.server.flavor)
	if err != nil {
		v.close()
		return nil, err
	}
	unlock()
	t.log.Info("global read lock released", "held", time.Since(started))
	v.pos = position{File: file, Pos: pos, GTIDs: gtids}
	return v, nil
}

// unlockedView reads the position first, then starts the snapshot: changes
// committed in between are streamed again (at least once), never lost.
func (t *Task) unlockedView(ctx context.Context) (*snapshotView, error) {
	c, err := t.newSnapshotConn(ctx)
	if err != nil {
		return nil, err
	}
	v := &snapshotView{conns: []*sql.Conn{c}}
	file, pos, gtids, err := currentPosition(ctx, c, t.server.flavor)
	if err != nil {
		v.close()
		return nil, err
	}
	if _, err := c.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		v.close()
		return nil, fmt.Errorf("start consistent snapshot: %w", err)
	}
	v.pos = position{File: file, Pos: pos, GTIDs: gtids}
	return v, nil
}

// snapshotRow is a converted row held back until its snapshot marker is known.
type snapshotRow struct {
	tbl        *table
	key, value *schema.Struct
	firstTable bool // first row of its table
	firstAll   bool // first row of the whole snapshot
}

// snapshotState marks rows as Debezium does (last > first > last in table >
// first in table > true) while tables are read in parallel: the last row of
// each finished table is parked until the next table finishes, and the last
// parked row is the snapshot's last record.
type snapshotState struct {
	t         *Task
	pos       position // offsets' position (where streaming starts)
	view      position // the snapshot's own binlog position (source block)
	firstDone atomic.Bool
	mu        sync.Mutex
	parked    *snapshotRow
	rows      atomic.Int64
}

func (st *snapshotState) marker(r *snapshotRow, lastTable, lastAll bool) string {
	switch {
	case lastAll:
		return cdc.SnapshotLast
	case r.firstAll:
		return cdc.SnapshotFirst
	case lastTable:
		return cdc.SnapshotLastInCollection
	case r.firstTable:
		return cdc.SnapshotFirstInCollection
	}
	return cdc.SnapshotTrue
}

func (st *snapshotState) emitRow(ctx context.Context, r *snapshotRow, marker string, completed bool) error {
	t := st.t
	now := time.Now()
	src := t.source.build(&sourceInfo{
		tsMs: now.UnixMilli(), snapshot: marker, db: r.tbl.db, table: r.tbl.name,
		file: st.view.File, pos: int64(st.view.Pos),
	})
	off := position{File: st.pos.File, Pos: st.pos.Pos, GTIDs: st.pos.GTIDs, TsSec: now.Unix(), Snapshot: !completed, SnapshotCompleted: completed}
	env := cdc.NewEnvelope(r.tbl.envSchema, cdc.OpRead, nil, r.value, src, nil, now)
	rec := schema.Record{
		Topic: r.tbl.topic, Partition: -1,
		ValueSchema: r.tbl.envSchema, Value: env,
		SourcePartition: t.partition, SourceOffset: off.offsetMap(),
	}
	if r.key != nil {
		rec.KeySchema, rec.Key = r.tbl.keySchema, r.key
	}
	return t.emit(ctx, rec)
}

// finishTable parks the last row of a table, emitting the previously parked
// one as last_in_data_collection.
func (st *snapshotState) finishTable(ctx context.Context, last *snapshotRow) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.parked != nil {
		p := st.parked
		st.parked = nil
		if err := st.emitRow(ctx, p, st.marker(p, true, false), false); err != nil {
			return err
		}
	}
	st.parked = last
	return nil
}

// runSnapshot snapshots the captured tables (rows only when data is true) and
// returns the binlog position streaming starts from.
func (t *Task) runSnapshot(ctx context.Context, data bool) (position, error) {
	s := t.s
	started := time.Now()
	tables, err := listTables(ctx, t.db, s.filters)
	if err != nil {
		return position{}, err
	}
	threads := max(1, min(s.maxThreads, len(tables)))
	if !data {
		threads = 1
	}
	view, err := t.openView(ctx, threads)
	if err != nil {
		return position{}, err
	}
	defer view.close()
	t.log.Info("snapshot started", "tables", len(tables), "threads", len(view.conns), "file", view.pos.File, "pos", view.pos.Pos, "gtids", view.pos.GTIDs, "data", data)

	start := view.pos
	if t.resumeFrom != nil && before(*t.resumeFrom, start) {
		start = *t.resumeFrom
		t.log.Info("an earlier snapshot was interrupted; streaming will start at its position", "file", start.File, "pos", start.Pos)
	}
	if t.resumeFrom == nil {
		p := start
		t.resumeFrom = &p // a retry of this snapshot streams from here
		// Before any row leaves the task, store where this snapshot began.
		// A crash after rows reached Kafka but before their offsets were
		// stored would otherwise restart with no offset: a new snapshot
		// from a later position, which never retracts rows of the first
		// attempt deleted in between (they stay in the topic, and in
		// every target, for good). Restarted from this offset, the next
		// snapshot streams from here and replays those deletes.
		if data {
			if err := t.storeSnapshotStart(ctx, start); err != nil {
				return position{}, err
			}
		}
	}
	st := &snapshotState{t: t, pos: start, view: view.pos}
	// Schemas first (Debezium emits the tables' DDL before their rows). The
	// last one is held back: when no table has rows it is the snapshot's
	// last record and carries the completed offset.
	var heldSchema *schema.Record
	if s.includeSchemaChanges {
		for _, tr := range tables {
			rec, err := t.snapshotSchemaRecord(ctx, view.conns[0], tr, start)
			if err != nil {
				return position{}, err
			}
			if rec == nil {
				continue
			}
			if heldSchema != nil {
				if err := t.emit(ctx, *heldSchema); err != nil {
					return position{}, err
				}
			}
			heldSchema = rec
		}
	}
	emitHeld := func(completed bool) error {
		if heldSchema == nil {
			return nil
		}
		off := start
		off.TsSec = time.Now().Unix()
		off.Snapshot, off.SnapshotCompleted = !completed, completed
		heldSchema.SourceOffset = off.offsetMap()
		rec := *heldSchema
		heldSchema = nil
		return t.emit(ctx, rec)
	}
	if !data {
		return start, emitHeld(true)
	}
	work := make(chan tableRef)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(work)
		for _, tr := range tables {
			select {
			case work <- tr:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for _, c := range view.conns {
		g.Go(func() error {
			for tr := range work {
				if err := t.snapshotTable(gctx, c, tr, st); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return position{}, err
	}
	if err := emitHeld(st.parked == nil); err != nil {
		return position{}, err
	}
	if st.parked != nil {
		if err := st.emitRow(ctx, st.parked, cdc.SnapshotLast, true); err != nil {
			return position{}, err
		}
	}
	t.log.Info("snapshot completed", "rows", st.rows.Load(), "tables", len(tables), "took", time.Since(started).Round(time.Millisecond))
	return start, nil
}

// snapshotTable streams one table's rows.
func (t *Task) snapshotTable(ctx context.Context, c *sql.Conn, tr tableRef, st *snapshotState) error {
	ti, err := loadTableInfo(ctx, c, t.server.flavor, tr.db, tr.name)
	if err != nil {
		return err
	}
	if ti == nil {
		return nil // dropped since listed
	}
	cols, pk := ti.columns()
	tbl, err := newTable(t.naming, tr.db, tr.name, cols, pk, t.s.filters.column(tr.db, tr.name), t.s.types, t.source.schema)
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	for i := range cols {
		names[i] = quoteIdent(cols[i].name)
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + quoteIdent(tr.db) + "." + quoteIdent(tr.name)
	// A prepared statement uses the binary protocol: FLOAT and DOUBLE arrive
	// bit-exact, as the binlog has them.
	stmt, err := c.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", tbl.id, err)
	}
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", tbl.id, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var held *snapshotRow
	var done int64
	lastReport := time.Now()
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("snapshot %s: %w", tbl.id, err)
		}
		key, value, err := tbl.rowValue(vals, false)
		if err != nil {
			return err
		}
		r := &snapshotRow{tbl: tbl, key: key, value: value}
		if held == nil {
			r.firstTable = true
			r.firstAll = st.firstDone.CompareAndSwap(false, true)
		} else {
			if err := st.emitRow(ctx, held, st.marker(held, false, false), false); err != nil {
				return err
			}
		}
		held = r
		done++
		if done%10000 == 0 {
			t.metrics.SnapshotProgress(tbl.id, done, tr.estimate)
			if time.Since(lastReport) > 10*time.Second {
				lastReport = time.Now()
				t.log.Info("snapshot progress", "table", tbl.id, "rows", done, "estimated", tr.estimate)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snapshot %s: %w", tbl.id, err)
	}
	st.rows.Add(done)
	t.metrics.SnapshotProgress(tbl.id, done, max(done, tr.estimate))
	t.log.Info("snapshot of table done", "table", tbl.id, "rows", done)
	if held != nil {
		return st.finishTable(ctx, held)
	}
	return nil
}

// snapshotSchemaRecord builds a table's CREATE TABLE schema change event
// (nil when the table is gone).
func (t *Task) snapshotSchemaRecord(ctx context.Context, c *sql.Conn, tr tableRef, pos position) (*schema.Record, error) {
	var name, ddl string
	err := c.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(tr.db)+"."+quoteIdent(tr.name)).Scan(&name, &ddl)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("SHOW CREATE TABLE %s.%s: %w", tr.db, tr.name, err)
	}
	ti, err := loadTableInfo(ctx, c, t.server.flavor, tr.db, tr.name)
	if err != nil || ti == nil {
		return nil, err
	}
	now := time.Now()
	src := t.source.build(&sourceInfo{tsMs: now.UnixMilli(), snapshot: cdc.SnapshotTrue, db: tr.db, table: tr.name, file: pos.File, pos: int64(pos.Pos)})
	cols, _ := ti.columns()
	change := &schema.Struct{Schema: t.sc.change, Values: []any{"CREATE", quotedTableID(tr.db, tr.name), t.sc.tableStruct(cols, ti.pk, ti.charset, ti.comment)}}
	val := &schema.Struct{Schema: t.sc.value, Values: []any{src, now.UnixMilli(), tr.db, nil, ddl, []any{change}}}
	off := position{File: pos.File, Pos: pos.Pos, GTIDs: pos.GTIDs, TsSec: now.Unix(), Snapshot: true}
	return &schema.Record{
		Topic: t.s.prefix, Partition: -1,
		KeySchema: t.sc.key, Key: &schema.Struct{Schema: t.sc.key, Values: []any{tr.db}},
		ValueSchema: t.sc.value, Value: val,
		SourcePartition: t.partition, SourceOffset: off.offsetMap(),
	}, nil
}

// before reports whether binlog position a comes before b (file names share
// a prefix and a zero-padded sequence number).
func before(a, b position) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	return a.Pos < b.Pos
}

// storeSnapshotStart emits an offset-only record for the snapshot's start
// and waits until the runtime reports an offset of this task stored.
func (t *Task) storeSnapshotStart(ctx context.Context, start position) error {
	off := start
	off.Snapshot, off.SnapshotCompleted, off.Event, off.Row = true, false, 0, 0
	off.TsSec = time.Now().Unix()
	if err := t.emit(ctx, schema.Record{OffsetOnly: true, SourcePartition: t.partition, SourceOffset: off.offsetMap()}); err != nil {
		return err
	}
	select {
	case <-t.committed:
		t.log.Debug("snapshot start position stored", "file", start.File, "pos", start.Pos, "gtids", start.GTIDs)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
