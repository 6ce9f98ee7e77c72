package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// snapshotter reads the initial snapshot: every captured table as of the
// replication slot's exported snapshot, so the stream that follows from the
// slot's consistent point neither misses nor repeats a change.
type snapshotter struct {
	s       *settings
	log     *slog.Logger
	b       *builder
	types   *typeCache
	metrics connector.Metrics
	q       *queue
	part    map[string]any
	name    string        // exported snapshot name; "" exports one from the first transaction
	cp      pglogrepl.LSN // the slot's consistent point
	xid     int64         // txid_current() of the first snapshot transaction (source.txId, as Debezium's)
}

// snapItem is one row on its way from a table reader to the emitter.
type snapItem struct {
	rec        schema.Record
	src        *schema.Struct
	tableFirst bool
	tableLast  bool
}

// openSnapshotTx opens a connection whose transaction sees the exported
// snapshot.
func (sn *snapshotter) openSnapshotTx(ctx context.Context) (*pgx.Conn, pgx.Tx, error) {
	conn, err := sn.s.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err == nil && sn.name == "" {
		// No slot snapshot (the slot was kept): this transaction's own
		// snapshot, exported for the other snapshot threads.
		err = tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&sn.name)
	} else if err == nil {
		_, err = tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(sn.name, "'", "''")+"'")
	}
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, nil, fmt.Errorf("import snapshot %s: %w", sn.name, err)
	}
	return conn, tx, nil
}

// run reads every captured table and queues its rows as op:r events. It
// returns after the last row is queued.
func (sn *snapshotter) run(ctx context.Context) error {
	start := time.Now()
	conn, tx, err := sn.openSnapshotTx(ctx)
	if err != nil {
		return err
	}
	conns := []*pgx.Conn{conn}
	txs := []pgx.Tx{tx}
	defer func() {
		for i, c := range conns {
			_ = txs[i].Rollback(context.WithoutCancel(ctx))
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	// Debezium reports the snapshot transaction's id in source.txId.
	if err := tx.QueryRow(ctx, "SELECT txid_current()").Scan(&sn.xid); err != nil {
		return fmt.Errorf("snapshot transaction id: %w", err)
	}
	list, err := publishedTables(ctx, tx, sn.s.publication, sn.s.filters)
	if err != nil {
		return err
	}
	tables := make([]*table, 0, len(list))
	for _, ct := range list {
		ri, err := relation(ctx, tx, ct.oid)
		if err != nil {
			return err
		}
		def := tableDef{relID: ct.oid, schema: ri.schema, name: ri.name, cols: ri.cols, pk: ri.pk, identity: ri.identity}
		t, err := sn.b.build(def, func(oid uint32) (*pgType, error) { return sn.types.get(ctx, tx, oid) })
		if err != nil {
			return err
		}
		tables = append(tables, t)
	}
	sn.log.Info("snapshot started", "tables", len(tables), "snapshot", sn.name, "lsn", sn.cp.String(), "threads", sn.s.snapshotThreads)
	threads := sn.s.snapshotThreads
	if threads > len(tables) {
		threads = len(tables)
	}
	for len(conns) < threads {
		c, t, err := sn.openSnapshotTx(ctx)
		if err != nil {
			return err
		}
		conns, txs = append(conns, c), append(txs, t)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int, len(tables))
	for i := range tables {
		jobs <- i
	}
	close(jobs)
	items := make(chan snapItem, 256)
	var wg sync.WaitGroup
	errs := make(chan error, len(txs)+1)
	for w := range txs {
		wg.Add(1)
		go func(tx pgx.Tx) {
			defer wg.Done()
			for i := range jobs {
				est := int64(0)
				if i < len(list) {
					est = list[i].estimate
				}
				if err := sn.readTable(ctx, tx, tables[i], est, items); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}(txs[w])
	}
	go func() { wg.Wait(); close(items) }()

	total, err := sn.emit(ctx, items)
	select {
	case e := <-errs:
		return e
	default:
	}
	if err != nil {
		return err
	}
	sn.log.Info("snapshot finished", "tables", len(tables), "rows", total, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// readTable streams one table, in text format, into items.
func (sn *snapshotter) readTable(ctx context.Context, tx pgx.Tx, t *table, estimate int64, items chan<- snapItem) error {
	cols := make([]string, len(t.cols))
	for i, c := range t.cols {
		if c.field < 0 && c.keyField < 0 {
			cols[i] = "NULL"
		} else {
			cols[i] = pgx.Identifier{c.name}.Sanitize()
		}
	}
	if len(cols) == 0 {
		return nil
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + pgx.Identifier{t.def.schema, t.def.name}.Sanitize()
	rows, err := tx.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", t.id, err)
	}
	defer rows.Close()
	started := time.Now()
	sn.log.Info("snapshot of table started", "table", t.id, "estimated_rows", estimate)
	var prev *snapItem
	var n int64
	now := time.Now()
	for rows.Next() {
		raw := rows.RawValues()
		get := func(i int) (byte, []byte) {
			if raw[i] == nil {
				return kindNull, nil
			}
			return kindText, raw[i]
		}
		after, err := t.row(get, nil)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", t.id, err)
		}
		key, err := t.key(get, after)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", t.id, err)
		}
		n++
		if n%1024 == 0 {
			now = time.Now()
		}
		src := sourceBlock(sn.s, t, cdc.SnapshotTrue, now, sn.xid, sn.cp, sequence(0, sn.cp))
		env := envelope(t.envelope, opRead, nil, after, src, nil, now)
		it := snapItem{rec: dataRecord(t, key, env, sn.part, nil, now), src: src, tableFirst: n == 1}
		if prev != nil {
			select {
			case items <- *prev:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		prev = &it
		if n%int64(sn.s.fetchSize) == 0 {
			sn.metrics.SnapshotProgress(t.id, n, max(estimate, n))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snapshot %s: %w", t.id, err)
	}
	if prev != nil {
		prev.tableLast = true
		select {
		case items <- *prev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	sn.metrics.SnapshotProgress(t.id, n, n)
	sn.log.Info("snapshot of table finished", "table", t.id, "rows", n, "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// emit sets the snapshot markers and offsets and queues the rows, holding
// one back so the very last one can be marked "last".
func (sn *snapshotter) emit(ctx context.Context, items <-chan snapItem) (int64, error) {
	base := map[string]any{offLSN: int64(sn.cp), offLSNProc: int64(sn.cp), offSnapshot: true, offLastSnap: false,
		offTsUsec: time.Now().UnixMicro()}
	last := map[string]any{}
	for k, v := range base {
		last[k] = v
	}
	last[offLastSnap] = true
	var held *snapItem
	var count int64
	flush := func(it *snapItem, isLast bool) error {
		marker := cdc.SnapshotTrue
		switch {
		case isLast:
			marker = cdc.SnapshotLast
		case count == 0:
			marker = cdc.SnapshotFirst
		case it.tableFirst:
			marker = cdc.SnapshotFirstInCollection
		case it.tableLast:
			marker = cdc.SnapshotLastInCollection
		}
		it.src.Values[srcSnapshot] = marker
		it.rec.SourceOffset = base
		if isLast {
			it.rec.SourceOffset = last
		}
		count++
		return sn.q.push(ctx, it.rec)
	}
	for it := range items {
		if held != nil {
			if err := flush(held, false); err != nil {
				return count, err
			}
		}
		it := it
		held = &it
	}
	if ctx.Err() != nil {
		return count, ctx.Err()
	}
	if held != nil {
		if err := flush(held, true); err != nil {
			return count, err
		}
	}
	return count, nil
}
