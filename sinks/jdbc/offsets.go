package jdbcsink

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
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
}

func (t *Task) offsetsDDL() string {
	q := t.q
	if t.d.flavor() == jdbc.Postgres {
		return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
%s TEXT NOT NULL,
%s TEXT NOT NULL,
%s TEXT NOT NULL,
%s INTEGER NOT NULL,
%s BIGINT NOT NULL,
PRIMARY KEY(%s,%s,%s,%s))`, t.offsets.qname,
			q.ident("connector"), q.ident("table_name"), q.ident("topic"), q.ident("kafka_partition"), q.ident("kafka_offset"),
			q.ident("connector"), q.ident("table_name"), q.ident("topic"), q.ident("kafka_partition"))
	}
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
%s VARCHAR(190) NOT NULL,
%s VARCHAR(190) NOT NULL,
%s VARCHAR(190) NOT NULL,
%s INT NOT NULL,
%s BIGINT NOT NULL,
PRIMARY KEY(%s,%s,%s,%s))`, t.offsets.qname,
		q.ident("connector"), q.ident("table_name"), q.ident("topic"), q.ident("kafka_partition"), q.ident("kafka_offset"),
		q.ident("connector"), q.ident("table_name"), q.ident("topic"), q.ident("kafka_partition"))
}

// initOffsets creates the offsets table if needed and loads this
// connector's applied offsets.
func (t *Task) initOffsets(ctx context.Context) error {
	id, err := parseTableID(t.d.flavor(), t.st.offsetsTable)
	if err != nil {
		return fmt.Errorf("%s: %w", KeyExactlyOnceTable, err)
	}
	t.offsets.qname = t.q.table(id)
	if _, err := t.db.ExecContext(ctx, t.offsetsDDL()); err != nil {
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
	var b strings.Builder
	q := t.q
	fmt.Fprintf(&b, "SELECT %s, %s, %s, %s FROM %s WHERE %s = ",
		q.ident("table_name"), q.ident("topic"), q.ident("kafka_partition"), q.ident("kafka_offset"), t.offsets.qname, q.ident("connector"))
	t.d.param(&b, 1)
	args := []any{t.connName}
	if table != "" {
		fmt.Fprintf(&b, " AND %s = ", q.ident("table_name"))
		t.d.param(&b, 2)
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

// saveOffsets upserts the batch's highest offsets inside tx.
func (t *Task) saveOffsets(ctx context.Context, tx *sqlx.Tx, ts *tableState) error {
	q := t.q
	var b strings.Builder
	cols := []string{q.ident("connector"), q.ident("table_name"), q.ident("topic"), q.ident("kafka_partition"), q.ident("kafka_offset")}
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", t.offsets.qname, strings.Join(cols, ","))
	args := make([]any, 0, 5*len(ts.buf.offs))
	n := 0
	for p, off := range ts.buf.offs {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for i := 0; i < 5; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			n++
			t.d.param(&b, n)
		}
		b.WriteByte(')')
		args = append(args, t.connName, ts.key, p.topic, p.partition, off)
	}
	t.d.upsertSuffix(&b, cols[:4], cols[4:])
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("store exactly-once offsets for %s: %w", ts.id, err)
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
