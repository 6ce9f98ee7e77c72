package source

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

// querier polls one table (or the custom query): Confluent's TableQuerier.
type querier struct {
	task      *SourceTask
	table     tableID // zero in query mode
	topic     string
	partition map[string]any
	mode      string
	incCol    string   // incrementing column as configured / detected
	tsCols    []string // timestamp columns
	keyCols   []string // record key columns (record.key.mode=primary_key)
	nullable  map[string]bool

	// Offset state: what the next query starts after.
	inc         int64
	ts          time.Time
	committedTs time.Time // timestamp mode: last offset safe to store (rule of PR #1093)

	nextRun  time.Time
	failures int

	// Open result set (and its transaction with transaction.isolation.mode).
	rows      *sql.Rows
	tx        *sql.Tx
	cols      []colDesc
	incIdx    int
	tsIdx     []int
	keyIdx    []int
	raw       []any
	ptrs      []any
	ahead     *pendingRow
	exhausted bool

	// Schemas built once per result-set shape.
	sig         string
	valueSchema *schema.Schema
	keySchema   *schema.Schema
	fieldIdx    []int // result column index per value field (skipped columns left out)

	// incrementing.safe.window.enable state.
	safe *incWindow
}

// pendingRow is one converted row plus its tracking values.
type pendingRow struct {
	values []any
	key    []any
	inc    int64
	ts     time.Time
	hasTs  bool
}

// incWindow implements incrementing.safe.window.enable.
type incWindow struct {
	safe     int64 // stored offset: every id <= safe is final and was read
	pending  int64 // ids <= pending are final; safe moves here once a query started after that finished
	maxRead  int64
	readDone bool // a query ran since the last window step
	entries  []incEntry
	emitted  map[int64]struct{}
}

// incEntry: the ids up to M were read before the database time R; they are
// final once no transaction that started before R is open.
type incEntry struct {
	R time.Time
	M int64
}

func (q *querier) name() string {
	if q.table.Name == "" {
		return "query"
	}
	return q.table.String()
}

func (q *querier) usesInc() bool {
	return q.mode == ModeIncrementing || q.mode == ModeTimestampIncrementing
}

func (q *querier) usesTs() bool {
	return q.mode == ModeTimestamp || q.mode == ModeTimestampIncrementing
}

// tsExpr is the timestamp expression: the column or COALESCE(c1, c2, …).
func (q *querier) tsExpr() string {
	d := q.task.d
	if len(q.tsCols) == 1 {
		return d.ident(q.tsCols[0])
	}
	parts := make([]string, len(q.tsCols))
	for i, c := range q.tsCols {
		parts[i] = d.ident(c)
	}
	return "COALESCE(" + strings.Join(parts, ",") + ")"
}

// buildSQL returns the statement for the querier's mode (spec §1.3).
func (q *querier) buildSQL() string {
	d, c := q.task.d, q.task.cfg
	var b strings.Builder
	if c.queryMode() {
		b.WriteString(c.query)
	} else {
		b.WriteString("SELECT * FROM ")
		b.WriteString(d.table(q.table))
	}
	switch q.mode {
	case ModeIncrementing:
		inc := d.ident(q.incCol)
		fmt.Fprintf(&b, " WHERE %s > %s ORDER BY %s ASC", inc, d.placeholder(1), inc)
	case ModeTimestamp:
		ts := q.tsExpr()
		fmt.Fprintf(&b, " WHERE %s > %s AND %s < %s ORDER BY %s ASC", ts, d.placeholder(1), ts, d.placeholder(2), ts)
	case ModeTimestampIncrementing:
		ts, inc := q.tsExpr(), d.ident(q.incCol)
		fmt.Fprintf(&b, " WHERE %s < %s AND ((%s = %s AND %s > %s) OR %s > %s) ORDER BY %s,%s ASC",
			ts, d.placeholder(1), ts, d.placeholder(2), inc, d.placeholder(3), ts, d.placeholder(4), ts, inc)
	}
	if s := strings.TrimSpace(c.querySuffix); s != "" {
		b.WriteString(" ")
		b.WriteString(s)
	}
	return b.String()
}

// offsetMap is the source offset for a record with the given tracking values.
func (q *querier) offsetMap(inc int64, ts time.Time) map[string]any {
	switch q.mode {
	case ModeIncrementing:
		return map[string]any{"incrementing": inc}
	case ModeTimestamp:
		return map[string]any{"timestamp": ts.UnixMilli(), "timestamp_nanos": int64(ts.Nanosecond())}
	case ModeTimestampIncrementing:
		return map[string]any{"timestamp": ts.UnixMilli(), "timestamp_nanos": int64(ts.Nanosecond()), "incrementing": inc}
	}
	return nil
}

// loadOffset applies a stored offset (nil: the initial one).
func (q *querier) loadOffset(ctx context.Context, off map[string]any) error {
	q.inc = -1
	q.ts = time.Unix(0, 0).UTC()
	if off == nil {
		if q.usesTs() && q.task.cfg.tsInitial != nil {
			init := *q.task.cfg.tsInitial
			if init == -1 {
				now, err := q.task.d.dbNow(ctx, q.task.db)
				if err != nil {
					return err
				}
				q.ts = now
			} else {
				q.ts = time.UnixMilli(init).UTC()
			}
		}
		q.committedTs = q.ts
		q.initSafe()
		return nil
	}
	if v, ok := off["incrementing"]; ok && v != nil {
		n, err := offsetInt(v)
		if err != nil {
			return fmt.Errorf("stored offset of %s: incrementing: %w", q.name(), err)
		}
		q.inc = n
	}
	if v, ok := off["timestamp"]; ok && v != nil {
		ms, err := offsetInt(v)
		if err != nil {
			return fmt.Errorf("stored offset of %s: timestamp: %w", q.name(), err)
		}
		t := time.UnixMilli(ms).UTC()
		if nv, ok := off["timestamp_nanos"]; ok && nv != nil {
			ns, err := offsetInt(nv)
			if err != nil {
				return fmt.Errorf("stored offset of %s: timestamp_nanos: %w", q.name(), err)
			}
			t = time.Unix(t.Unix(), ns).UTC()
			if ms < 0 && ms%1000 != 0 {
				t = time.Unix(t.Unix()-1, ns).UTC()
			}
		}
		q.ts = t
	}
	q.committedTs = q.ts
	q.initSafe()
	return nil
}

func (q *querier) initSafe() {
	if q.task.cfg.safeIncrement && q.mode == ModeIncrementing {
		q.safe = &incWindow{safe: q.inc, pending: q.inc, maxRead: q.inc, emitted: map[int64]struct{}{}}
	}
}

func offsetInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case interface{ Int64() (int64, error) }: // json.Number
		return x.Int64()
	case string:
		var n int64
		_, err := fmt.Sscanf(x, "%d", &n)
		return n, err
	}
	return 0, fmt.Errorf("not a number: %v (%T)", v, v)
}

// start runs the query and opens the result set.
func (q *querier) start(ctx context.Context) error {
	t := q.task
	var args []any
	switch q.mode {
	case ModeIncrementing:
		from := q.inc
		if q.safe != nil {
			if err := q.stepSafeWindow(ctx); err != nil {
				return err
			}
			from = q.safe.safe
		}
		args = []any{from}
	case ModeTimestamp, ModeTimestampIncrementing:
		end, err := q.windowEnd(ctx)
		if err != nil {
			return err
		}
		if q.mode == ModeTimestamp {
			args = []any{t.d.bindTime(q.ts), t.d.bindTime(end)}
		} else {
			args = []any{t.d.bindTime(end), t.d.bindTime(q.ts), q.inc, t.d.bindTime(q.ts)}
		}
	}
	stmt := q.buildSQL()
	t.log.Debug("JDBC source query", "table", q.name(), "sql", stmt, "args", args)
	var rows *sql.Rows
	var err error
	if level, ok := isolationLevels[t.cfg.isolation]; ok {
		// transaction.isolation.mode: run the query in a read-only
		// transaction of that level, ended when the result set closes.
		tx, terr := t.db.BeginTx(ctx, &sql.TxOptions{Isolation: level, ReadOnly: true})
		if terr != nil {
			return fmt.Errorf("query %s: begin transaction: %w", q.name(), terr)
		}
		if rows, err = tx.QueryContext(ctx, stmt, args...); err != nil {
			tx.Rollback()
			return fmt.Errorf("query %s: %w", q.name(), err)
		}
		q.tx = tx
	} else if rows, err = t.db.QueryContext(ctx, stmt, args...); err != nil {
		return fmt.Errorf("query %s: %w", q.name(), err)
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return fmt.Errorf("query %s: column types: %w", q.name(), err)
	}
	q.rows, q.ahead, q.exhausted = rows, nil, false
	if err := q.prepareColumns(cts); err != nil {
		q.close()
		return err
	}
	return nil
}

// windowEnd is the exclusive upper bound of a timestamp query: the database
// clock minus timestamp.delay.interval.ms, and with
// timestamp.safe.window.enable never past the oldest open transaction.
func (q *querier) windowEnd(ctx context.Context) (time.Time, error) {
	t := q.task
	if !t.cfg.safeTimestamp {
		now, err := t.d.dbNow(ctx, t.db)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-t.cfg.delay), nil
	}
	now, oldest, err := t.d.clockAndOldestTx(ctx, t.db)
	if err != nil {
		return time.Time{}, err
	}
	end := now.Add(-t.cfg.delay)
	if slack := t.d.trxSlack(); slack > 0 {
		// A statement may take its clock before its transaction shows
		// (MySQL/MariaDB: InnoDB lists it only from its first row access):
		// never read the last slack.
		if b := now.Add(-slack); b.Before(end) {
			end = b
		}
	}
	if oldest != nil {
		bound := *oldest
		if bound.Before(end) {
			t.log.Debug("JDBC source: window capped by an open transaction", "table", q.name(), "end", bound, "clock", now)
			end = bound
		}
	}
	return end, nil
}

// stepSafeWindow advances the safe offset of incrementing.safe.window.enable
// before a query (see incWindow).
func (q *querier) stepSafeWindow(ctx context.Context) error {
	w := q.safe
	now, oldest, err := q.task.d.clockAndOldestTx(ctx, q.task.db)
	if err != nil {
		return err
	}
	if w.readDone {
		// Entries with equal M: the earliest one finalizes first.
		if n := len(w.entries); n == 0 || w.entries[n-1].M != w.maxRead {
			w.entries = append(w.entries, incEntry{R: now, M: w.maxRead})
		}
		w.readDone = false
	}
	// An entry is final once no transaction that began before its read is
	// open. On MySQL/MariaDB a transaction is listed only from its first
	// row access, so entries younger than its trxSlack wait.
	limit := now.Add(-q.task.d.trxSlack())
	for len(w.entries) > 0 && !w.entries[0].R.After(limit) && (oldest == nil || !w.entries[0].R.After(*oldest)) {
		if w.entries[0].M > w.pending {
			w.pending = w.entries[0].M
		}
		w.entries = w.entries[1:]
	}
	q.task.log.Debug("JDBC source: safe window", "table", q.name(), "safe", w.safe, "pending", w.pending, "read", w.maxRead, "entries", len(w.entries), "oldest_tx", oldest, "clock", now)
	return nil
}

// prepareColumns derives the schemas for the result set (cached per shape)
// and locates the tracking and key columns.
func (q *querier) prepareColumns(cts []*sql.ColumnType) error {
	t := q.task
	cols := resultColumns(t.d.sql, cts, t.cfg.numericMapping, t.cfg.granularity, q.nullable, t.log)
	sig := signature(cols)
	q.cols = cols
	if len(q.raw) != len(cols) {
		q.raw = make([]any, len(cols))
		q.ptrs = make([]any, len(cols))
		for i := range q.raw {
			q.ptrs[i] = &q.raw[i]
		}
	}
	var err error
	q.incIdx = -1
	if q.usesInc() {
		if q.incIdx, err = findColumn(cols, q.incCol); err != nil {
			return fmt.Errorf("%s: incrementing.column.name: %w", q.name(), err)
		}
	}
	q.tsIdx = q.tsIdx[:0]
	if q.usesTs() {
		for _, name := range q.tsCols {
			i, err := findColumn(cols, name)
			if err != nil {
				return fmt.Errorf("%s: timestamp.column.name: %w", q.name(), err)
			}
			q.tsIdx = append(q.tsIdx, i)
		}
	}
	if sig == q.sig {
		return nil
	}
	var fields []schema.Field
	q.fieldIdx = q.fieldIdx[:0]
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if c.Kind == kSkip {
			continue
		}
		if seen[c.Name] {
			// A struct's field names are unique: a join selecting a.id and
			// b.id has no value schema until one is aliased.
			if t.cfg.queryMode() {
				return fmt.Errorf("query mode: duplicate column name %q in the result of query; alias one of them (SELECT ... AS ...)", c.Name)
			}
			return fmt.Errorf("%s: duplicate column name %q in the result", q.name(), c.Name)
		}
		seen[c.Name] = true
		fields = append(fields, schema.Field{Name: c.Name, Schema: c.Schema})
		q.fieldIdx = append(q.fieldIdx, i)
	}
	name := ""
	if !t.cfg.queryMode() {
		name = q.table.Name
	}
	q.valueSchema = schema.NewStructSchema(name, fields...)
	q.keySchema, q.keyIdx = nil, nil
	if t.cfg.keyMode == KeyModePrimaryKey {
		var kf []schema.Field
		for _, k := range q.keyCols {
			i, err := findColumn(cols, k)
			if err != nil {
				return fmt.Errorf("%s: record key column: %w", q.name(), err)
			}
			if cols[i].Kind == kSkip {
				return fmt.Errorf("%s: record key column %q has an unsupported type %s", q.name(), k, cols[i].DBType)
			}
			kf = append(kf, schema.Field{Name: cols[i].Name, Schema: cols[i].Schema})
			q.keyIdx = append(q.keyIdx, i)
		}
		q.keySchema = schema.NewStructSchema("", kf...)
	}
	q.sig = sig
	return nil
}

// findColumn finds a result column: exact name first, then a unique
// case-insensitive match (spec §1.3).
func findColumn(cols []colDesc, name string) (int, error) {
	for i, c := range cols {
		if c.Name == name {
			return i, nil
		}
	}
	found := -1
	for i, c := range cols {
		if strings.EqualFold(c.Name, name) {
			if found >= 0 {
				return -1, fmt.Errorf("column %q matches several columns case-insensitively", name)
			}
			found = i
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("column %q not found in the result set", name)
	}
	return found, nil
}

// next reads and converts the next row of the result set (nil at the end).
func (q *querier) next() (*pendingRow, error) {
	if q.exhausted {
		return nil, nil
	}
	if !q.rows.Next() {
		err := q.rows.Err()
		q.exhausted = true
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", q.name(), err)
		}
		return nil, nil
	}
	if err := q.rows.Scan(q.ptrs...); err != nil {
		return nil, fmt.Errorf("read %s: %w", q.name(), err)
	}
	t := q.task
	r := &pendingRow{values: make([]any, len(q.fieldIdx))}
	for fi, ci := range q.fieldIdx {
		v, err := t.conv.value(&q.cols[ci], q.raw[ci])
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", q.name(), err)
		}
		r.values[fi] = v
	}
	if q.incIdx >= 0 {
		v := q.raw[q.incIdx]
		if v == nil {
			return nil, fmt.Errorf("read %s: incrementing column %q is NULL", q.name(), q.cols[q.incIdx].Name)
		}
		n, err := toInt64(v)
		if err != nil {
			return nil, fmt.Errorf("read %s: incrementing column %q: %w", q.name(), q.cols[q.incIdx].Name, err)
		}
		r.inc = n
	}
	for _, i := range q.tsIdx {
		if v := q.raw[i]; v != nil {
			ts, err := t.conv.instant(&q.cols[i], v)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", q.name(), err)
			}
			r.ts, r.hasTs = ts, true
			break
		}
	}
	if q.usesTs() && !r.hasTs {
		return nil, fmt.Errorf("read %s: every timestamp column (%s) is NULL", q.name(), strings.Join(q.tsCols, ", "))
	}
	if q.keyIdx != nil {
		r.key = make([]any, len(q.keyIdx))
		for i, ci := range q.keyIdx {
			v, err := t.conv.value(&q.cols[ci], q.raw[ci])
			if err != nil {
				return nil, fmt.Errorf("read %s: key: %w", q.name(), err)
			}
			r.key[i] = v
		}
	}
	return r, nil
}

// read returns up to max records from the open result set and whether the
// result set is finished.
func (q *querier) read(max int) ([]schema.Record, bool, error) {
	out := make([]schema.Record, 0, min(max, 1024))
	for len(out) < max {
		r := q.ahead
		q.ahead = nil
		if r == nil {
			var err error
			if r, err = q.next(); err != nil {
				return out, false, err
			}
		}
		if r == nil {
			return out, true, nil
		}
		var off map[string]any
		switch q.mode {
		case ModeIncrementing:
			if q.safe != nil {
				w := q.safe
				if r.inc > w.maxRead {
					w.maxRead = r.inc
				}
				if _, dup := w.emitted[r.inc]; dup || r.inc <= w.safe {
					continue
				}
				w.emitted[r.inc] = struct{}{}
				q.inc = max64(q.inc, r.inc)
				off = q.offsetMap(w.safe, time.Time{})
			} else {
				q.inc = r.inc
				off = q.offsetMap(r.inc, time.Time{})
			}
		case ModeTimestamp:
			// A row's timestamp becomes the stored offset only with the last
			// row carrying it (PR #1093): peek at the next row.
			nx, err := q.next()
			if err != nil {
				return out, false, err
			}
			q.ahead = nx
			q.ts = r.ts
			if nx == nil || !nx.ts.Equal(r.ts) {
				q.committedTs = r.ts
			}
			off = q.offsetMap(0, q.committedTs)
		case ModeTimestampIncrementing:
			q.ts, q.inc = r.ts, r.inc
			off = q.offsetMap(r.inc, r.ts)
		}
		rec := schema.Record{
			Topic:           q.topic,
			Partition:       -1,
			ValueSchema:     q.valueSchema,
			Value:           &schema.Struct{Schema: q.valueSchema, Values: r.values},
			SourcePartition: q.partition,
			SourceOffset:    off,
		}
		if q.keySchema != nil {
			rec.KeySchema = q.keySchema
			rec.Key = &schema.Struct{Schema: q.keySchema, Values: r.key}
		}
		out = append(out, rec)
	}
	return out, false, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// close closes the result set. In timestamp mode the in-memory offset falls
// back to the last committable timestamp (rows sharing the last timestamp
// will be read again).
func (q *querier) close() {
	if q.rows != nil {
		q.rows.Close()
		q.rows = nil
	}
	if q.tx != nil {
		q.tx.Rollback() // read-only: nothing to keep
		q.tx = nil
	}
	if q.ahead != nil {
		q.ahead = nil
	}
	if q.mode == ModeTimestamp {
		q.ts = q.committedTs
	}
	if w := q.safe; w != nil {
		w.readDone = true
		if q.exhausted && w.pending > w.safe {
			// This query started after the ids up to pending were final
			// and ran to the end: it saw all of them.
			w.safe = w.pending
			for id := range w.emitted {
				if id <= w.safe {
					delete(w.emitted, id)
				}
			}
		}
	}
}

// mysqlTrxSlack covers the gap between a MySQL/MariaDB statement taking its
// NOW() or auto-increment value and its transaction showing up in InnoDB's
// transaction list.
const mysqlTrxSlack = time.Second

// isolationLevels maps transaction.isolation.mode to database/sql levels
// (DEFAULT: autocommitted single statements).
var isolationLevels = map[string]sql.IsolationLevel{
	"READ_UNCOMMITTED": sql.LevelReadUncommitted,
	"READ_COMMITTED":   sql.LevelReadCommitted,
	"REPEATABLE_READ":  sql.LevelRepeatableRead,
	"SERIALIZABLE":     sql.LevelSerializable,
}
