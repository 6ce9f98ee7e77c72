package jdbcsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

// appliedKey identifies the offsets row of one table and topic partition.
type appliedKey struct {
	table string
	tp    tp
}

// offsetsStore is the exactly.once table: the last Kafka offset applied per
// (connector, table, topic, partition), written in the same transaction as
// the rows.
type offsetsStore struct {
	qname string
	cols  offsetCols
}

// initOffsets creates the offsets table if needed and loads this
// connector's applied offsets.
func (t *Task) initOffsets(ctx context.Context) error {
	id, err := t.d.ParseTableID(t.st.offsetsTable)
	if err != nil {
		return fmt.Errorf("%s: %w", KeyExactlyOnceTable, err)
	}
	q := t.q
	t.offsets.qname = q.table(id)
	t.offsets.cols = offsetCols{
		key:    [4]string{q.ident("connector"), q.ident("table_name"), q.ident("topic"), q.ident("kafka_partition")},
		offset: q.ident("kafka_offset"),
	}
	if _, err := t.db.ExecContext(ctx, t.d.offsetsDDL(t.offsets.qname, t.offsets.cols)); err != nil {
		return fmt.Errorf("create exactly-once offsets table %s: %w", id, err)
	}
	applied, err := t.loadOffsets(ctx, t.db, "")
	if err != nil {
		return err
	}
	t.applied = applied
	return nil
}

func (t *Task) loadOffsets(ctx context.Context, db sqlx.QueryerContext, table string) (map[appliedKey]int64, error) {
	c := t.offsets.cols
	b := &sqlWriter{d: t.d}
	fmt.Fprintf(b, "SELECT %s, %s, %s, %s FROM %s WHERE %s = ", c.key[1], c.key[2], c.key[3], c.offset, t.offsets.qname, c.key[0])
	b.param()
	args := []any{t.connName}
	if table != "" {
		fmt.Fprintf(b, " AND %s = ", c.key[1])
		b.param()
		args = append(args, table)
	}
	rows, err := db.QueryxContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("read exactly-once offsets: %w", err)
	}
	defer rows.Close()
	out := map[appliedKey]int64{}
	for rows.Next() {
		var k appliedKey
		var off int64
		if err := rows.Scan(&k.table, &k.tp.topic, &k.tp.partition, &off); err != nil {
			return nil, fmt.Errorf("read exactly-once offsets: %w", err)
		}
		out[k] = off
	}
	return out, rows.Err()
}

// saveOffsets upserts the batch's highest offsets inside tx. A stored
// offset never moves backwards (GREATEST): a task that lost a partition and
// still commits an older batch cannot rewind what the new owner stored.
func (t *Task) saveOffsets(ctx context.Context, tx *sqlx.Tx, ts *tableState) error {
	args := make([]any, 0, 5*len(ts.buf.offs))
	for p, off := range ts.buf.offs {
		args = append(args, t.connName, ts.key, p.topic, p.partition, off)
	}
	w := &sqlWriter{d: t.d}
	t.d.offsetsUpsertSQL(w, t.offsets.qname, t.offsets.cols, len(ts.buf.offs))
	if _, err := tx.ExecContext(ctx, w.String(), args...); err != nil {
		return fmt.Errorf("store exactly-once offsets for %s: %w", ts.id, err)
	}
	return nil
}

// lockApplied locks, inside tx, the offsets rows of the partitions in the
// buffered batch of ts (creating missing rows first, so there is a row to
// lock), and marks every buffered operation whose record the stored offset
// already covers as done: another task owned the partition meanwhile (a
// rebalance, a zombie after a lost partition) and applied it. Two owners of
// a partition thus serialise on its row, and the second applies only what
// the first did not. Rows are locked in (topic, partition) order so owners
// of several partitions cannot deadlock on them.
func (t *Task) lockApplied(ctx context.Context, tx *sqlx.Tx, ts *tableState) error {
	parts := make([]tp, 0, len(ts.buf.offs))
	for p := range ts.buf.offs {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b tp) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return int(a.partition) - int(b.partition)
	})
	ins := &sqlWriter{d: t.d}
	t.d.offsetsRowSQL(ins, t.offsets.qname, t.offsets.cols)
	sel := &sqlWriter{d: t.d}
	t.d.offsetsLockSQL(sel, t.offsets.qname, t.offsets.cols)
	stored := make(map[tp]int64, len(parts))
	for _, p := range parts {
		args := []any{t.connName, ts.key, p.topic, p.partition}
		if _, known := t.applied[appliedKey{table: ts.key, tp: p}]; !known {
			if _, err := tx.ExecContext(ctx, ins.String(), args...); err != nil {
				return fmt.Errorf("create exactly-once offsets row for %s %s-%d: %w", ts.id, p.topic, p.partition, err)
			}
		}
		var s int64
		switch err := tx.QueryRowxContext(ctx, sel.String(), args...).Scan(&s); {
		case errors.Is(err, sql.ErrNoRows):
			continue // removed underneath: nothing applied as far as we can tell
		case err != nil:
			return fmt.Errorf("lock exactly-once offsets row for %s %s-%d: %w", ts.id, p.topic, p.partition, err)
		}
		stored[p] = s
		if k := (appliedKey{table: ts.key, tp: p}); s >= 0 {
			if cur, ok := t.applied[k]; !ok || s > cur {
				t.applied[k] = s
			}
		}
	}
	covered := func(p tp, off int64) bool {
		s, ok := stored[p]
		return ok && off <= s
	}
	for _, ph := range ts.buf.phases {
		if ph.truncate {
			ph.done = ph.done || covered(ph.truncated, ph.truncOff)
			continue
		}
		for _, o := range ph.deletes {
			o.done = o.done || covered(o.partition(), o.rec.OrigOffset())
		}
		for _, o := range ph.writes {
			o.done = o.done || covered(o.partition(), o.rec.OrigOffset())
		}
	}
	return nil
}

// batchApplied reports whether the buffered batch of ts was committed
// already (a COMMIT whose reply was lost): every partition's stored offset
// reached the batch's highest offset.
func (t *Task) batchApplied(ctx context.Context, ts *tableState) (bool, error) {
	if !t.st.exactlyOnce || len(ts.buf.offs) == 0 {
		return false, nil
	}
	stored, err := t.loadOffsets(ctx, t.db, ts.key)
	if err != nil {
		return false, err
	}
	for p, off := range ts.buf.offs {
		if s, ok := stored[appliedKey{table: ts.key, tp: p}]; !ok || s < off {
			return false, nil
		}
	}
	return true, nil
}

// reloadApplied raises the applied offsets of a table to what the database
// holds (another task may have written them since Start).
func (t *Task) reloadApplied(ctx context.Context, ts *tableState) error {
	stored, err := t.loadOffsets(ctx, t.db, ts.key)
	if err != nil {
		return err
	}
	for k, off := range stored {
		if cur, ok := t.applied[k]; !ok || off > cur {
			t.applied[k] = off
		}
	}
	return nil
}
