package jdbcsink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector"
)

// classify sorts any error the write path sees.
func (t *Task) classify(err error) errClass {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errCanceled
	}
	if isTableError(err) {
		return errData
	}
	return classify(t.d, err)
}

// writeTable writes a table's buffer in one transaction, retrying lost
// connections and re-reading metadata after schema errors; data errors
// re-run the batch row by row. On success the buffer is empty.
func (t *Task) writeTable(ctx context.Context, ts *tableState) error {
	if !ts.buf.dirty() {
		return nil
	}
	schemaRetries := 0
	var err error
	for attempt := 0; ; {
		if err = t.tryWrite(ctx, ts, false); err == nil {
			break
		}
		switch t.classify(err) {
		case errCanceled:
			return fmt.Errorf("write table %s: %w", ts.id, err)
		case errSchema:
			ts.stale = true
			if schemaRetries < 2 {
				schemaRetries++
				t.log.Info("table changed underneath, re-reading metadata", "table", ts.id.String(), "error", err)
				continue
			}
		case errRetriable:
			if attempt < t.st.maxRetries {
				attempt++
				t.log.Warn("write failed, retrying", "table", ts.id.String(), "attempt", attempt, "max.retries", t.st.maxRetries, "error", err)
				if werr := sleepCtx(ctx, t.st.retryBackoff); werr != nil {
					return fmt.Errorf("write table %s: %w", ts.id, werr)
				}
				ts.stale = true
				if done, derr := t.batchApplied(ctx, ts); derr == nil && done {
					err = nil
					break
				}
				continue
			}
			return connector.Retriable(fmt.Errorf("write table %s: still failing after max.retries=%d: %w", ts.id, t.st.maxRetries, err))
		}
		if err == nil {
			break
		}
		// A record the database refuses: find it row by row.
		t.log.Info("batch failed, retrying row by row to find the failing records", "table", ts.id.String(), "error", err)
		err = t.tryWrite(ctx, ts, true)
		if err == nil {
			break
		}
		if c := t.classify(err); c == errRetriable && attempt < t.st.maxRetries {
			attempt++
			if werr := sleepCtx(ctx, t.st.retryBackoff); werr != nil {
				return fmt.Errorf("write table %s: %w", ts.id, werr)
			}
			continue
		} else if c == errRetriable {
			return connector.Retriable(fmt.Errorf("write table %s: %w", ts.id, err))
		}
		return err
	}
	t.committed(ts)
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// committed records a successful write: applied offsets move, the buffer empties.
func (t *Task) committed(ts *tableState) {
	if t.st.exactlyOnce {
		for p, off := range ts.buf.offs {
			k := appliedKey{table: ts.key, tp: p}
			if cur, ok := t.applied[k]; !ok || off > cur {
				t.applied[k] = off
			}
		}
	}
	ts.buf.reset()
}

// tryWrite runs one attempt: DDL first (MySQL commits DDL implicitly), then
// every phase in one transaction, then the exactly-once offsets, COMMIT.
// rowByRow wraps each row in a savepoint and reports the rows that fail.
func (t *Task) tryWrite(ctx context.Context, ts *tableState, rowByRow bool) (err error) {
	b := &ts.buf
	badPhase := map[*phase]error{}
	for _, ph := range b.phases {
		if ph.truncate || !ph.hasWrite {
			continue
		}
		if err := t.ensure(ctx, ts, ph.shape); err != nil {
			if rowByRow && isTableError(err) {
				badPhase[ph] = err
				continue
			}
			return err
		}
	}
	if ts.meta == nil || ts.stale {
		// Only deletes/truncates: they need the table to exist, nothing more.
		if err := t.refreshMeta(ctx, ts); err != nil {
			return err
		}
	}
	if k := t.writers(b, rowByRow); k > 1 {
		// Some writers may have committed: whatever comes next writes the
		// whole batch again (upserts and deletes by key, the same rows).
		perr := t.writeParallel(ctx, ts, k)
		if perr == nil {
			return nil
		}
		if t.classify(perr) != errRetriable {
			return perr // canceled; a record refused: row by row; a schema change: metadata again
		}
		t.log.Info("parallel write failed, writing the batch again in one transaction", "table", ts.id.String(), "writers", k, "error", perr)
	}
	tx, err := t.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if t.st.exactlyOnce && len(b.offs) > 0 {
		// Under the offsets rows' locks: what did another owner of these
		// partitions apply since we buffered?
		if err := t.lockApplied(ctx, tx, ts); err != nil {
			return err
		}
	}
	for _, ph := range b.phases {
		if perr, bad := badPhase[ph]; bad {
			for _, o := range ph.deletes {
				if o.done {
					continue
				}
				if err := t.report(ctx, o, perr); err != nil {
					return err
				}
			}
			for _, o := range ph.writes {
				if o.pending() {
					if err := t.report(ctx, o, perr); err != nil {
						return err
					}
				}
			}
			continue
		}
		if err := t.execPhase(ctx, tx, ts, ph, rowByRow); err != nil {
			return err
		}
	}
	if t.st.exactlyOnce && len(b.offs) > 0 {
		if err := t.saveOffsets(ctx, tx, ts); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// report hands a failed operation's record to the errant-record reporter.
// It returns an error when the task must fail.
func (t *Task) report(ctx context.Context, o *op, cause error) error {
	r := o.rec
	if t.tc.Report == nil {
		return fmt.Errorf("record at %s: %w", recordCoords(r), cause)
	}
	if rerr := t.tc.Report(ctx, *r, cause); rerr != nil {
		return fmt.Errorf("record at %s: %w (errant-record reporter: %w)", recordCoords(r), cause, rerr)
	}
	t.log.Warn("record reported to the errant-record reporter", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "error", cause)
	return nil
}

// execPhase applies one phase inside tx.
func (t *Task) execPhase(ctx context.Context, tx *sqlx.Tx, ts *tableState, ph *phase, rowByRow bool) error {
	if ph.truncate {
		if ts.meta == nil || ph.done {
			return nil
		}
		if _, err := tx.ExecContext(ctx, t.d.truncateSQL(ts.qname)); err != nil {
			return fmt.Errorf("truncate %s: %w", ts.id, err)
		}
		return nil
	}
	sh := ph.shape
	if deletes := pendingOps(ph.deletes); len(deletes) > 0 && ts.meta != nil {
		if rowByRow {
			for _, o := range deletes {
				if err := t.execSavepoint(ctx, tx, o, func() error { return t.execDeletes(ctx, tx, ts, sh, []*op{o}) }); err != nil {
					return err
				}
			}
		} else if err := t.execDeletes(ctx, tx, ts, sh, deletes); err != nil {
			return err
		}
	}
	if len(ph.writes) == 0 {
		return nil
	}
	if rowByRow {
		for _, o := range ph.writes {
			if !o.pending() {
				continue
			}
			if err := t.execSavepoint(ctx, tx, o, func() error { return t.execWrites(ctx, tx, ts, sh, []*op{o}) }); err != nil {
				return err
			}
		}
		return nil
	}
	return t.execWrites(ctx, tx, ts, sh, ph.writes)
}

// pendingOps returns ops without those another owner applied already.
func pendingOps(ops []*op) []*op {
	for i, o := range ops {
		if !o.done {
			continue
		}
		out := append([]*op(nil), ops[:i]...)
		for _, o := range ops[i+1:] {
			if !o.done {
				out = append(out, o)
			}
		}
		return out
	}
	return ops
}

// execSavepoint runs f for one op under a savepoint; a data error rolls back
// to the savepoint and reports the record.
func (t *Task) execSavepoint(ctx context.Context, tx *sqlx.Tx, o *op, f func() error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT tributary_row"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	err := f()
	if err == nil {
		_, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT tributary_row")
		return err
	}
	if c := t.classify(err); c == errRetriable || c == errCanceled {
		return err
	}
	if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT tributary_row"); rerr != nil {
		return fmt.Errorf("rollback to savepoint: %w (after %v)", rerr, err)
	}
	return t.report(ctx, o, err)
}

// execDeletes deletes by key: DELETE FROM t WHERE k IN (…) / (k1,k2) IN ((…),…).
func (t *Task) execDeletes(ctx context.Context, tx *sqlx.Tx, ts *tableState, sh *shape, ops []*op) error {
	nk := sh.nKey
	per := t.d.maxParams() / nk
	if per > t.st.batchSize {
		per = t.st.batchSize
	}
	for start := 0; start < len(ops); start += per {
		end := min(start+per, len(ops))
		chunk := ops[start:end]
		if done, err := t.bulkDeletes(ctx, tx, ts, sh, chunk); done || err != nil {
			return err
		}
		query := t.sqlFor(ts, sh, 'd', "", nil, len(chunk))
		args := t.getArgs()
		for _, o := range chunk {
			args = append(args, o.vals[:nk]...)
		}
		_, err := tx.ExecContext(ctx, query, args...)
		t.putArgs(args)
		if err != nil {
			return fmt.Errorf("delete from %s: %w", ts.id, err)
		}
	}
	return nil
}

// execWrites inserts/upserts in multi-row statements (grouped by the set of
// columns written), or updates row by row.
func (t *Task) execWrites(ctx context.Context, tx *sqlx.Tx, ts *tableState, sh *shape, ops []*op) error {
	// Group by written-column mask; the common case is one group.
	var plain []*op
	var masked map[string][]*op
	var maskOrder []string
	for _, o := range ops {
		if !o.pending() {
			continue
		}
		if o.skip == nil && !sh.hasOmit {
			plain = append(plain, o)
			continue
		}
		m := maskOf(sh, o)
		if masked == nil {
			masked = map[string][]*op{}
		}
		if _, ok := masked[m]; !ok {
			maskOrder = append(maskOrder, m)
		}
		masked[m] = append(masked[m], o)
	}
	if len(plain) > 0 {
		if err := t.execWriteGroup(ctx, tx, ts, sh, "", nil, plain); err != nil {
			return err
		}
	}
	for _, m := range maskOrder {
		include := make([]bool, len(sh.cols))
		for i := range include {
			include[i] = m[i] == '1'
		}
		if err := t.execWriteGroup(ctx, tx, ts, sh, m, include, masked[m]); err != nil {
			return err
		}
	}
	return nil
}

// maskOf renders which columns an op writes ('1') as a string.
func maskOf(sh *shape, o *op) string {
	b := make([]byte, len(sh.cols))
	for i := range b {
		b[i] = '1'
		if sh.omit[i] || (o.skip != nil && o.skip[i]) {
			b[i] = '0'
		}
	}
	return string(b)
}

func (t *Task) execWriteGroup(ctx context.Context, tx *sqlx.Tx, ts *tableState, sh *shape, mask string, include []bool, ops []*op) error {
	ncols := 0
	for i := range sh.cols {
		if include == nil || include[i] {
			ncols++
		}
	}
	if t.st.insertMode == InsertModeUpdate {
		nonKey := 0
		for i := sh.nKey; i < len(sh.cols); i++ {
			if include == nil || include[i] {
				nonKey++
			}
		}
		if nonKey == 0 {
			return nil // nothing to set
		}
		query := t.sqlFor(ts, sh, 'U', mask, include, 1)
		for _, o := range ops {
			args := t.getArgs()
			for i := sh.nKey; i < len(sh.cols); i++ {
				if include == nil || include[i] {
					args = append(args, o.vals[i])
				}
			}
			args = append(args, o.vals[:sh.nKey]...)
			_, err := tx.ExecContext(ctx, query, args...)
			t.putArgs(args)
			if err != nil {
				return fmt.Errorf("update %s: %w", ts.id, err)
			}
		}
		return nil
	}
	kind := byte('i')
	if t.st.insertMode == InsertModeUpsert {
		kind = 'u'
	}
	per := t.d.maxParams() / max(ncols, 1)
	if per > t.st.batchSize {
		per = t.st.batchSize
	}
	for start := 0; start < len(ops); {
		if n, err := t.bulkWrites(ctx, tx, ts, sh, include, ops[start:min(start+t.st.batchSize, len(ops))], kind == 'u'); err != nil {
			return err
		} else if n > 0 {
			start += n
			continue
		}
		end := min(start+per, len(ops))
		if t.maxBytes > 0 {
			size := 0
			for i := start; i < end; i++ {
				size += ops[i].size
				if size > t.maxBytes && i > start {
					end = i
					break
				}
			}
		}
		chunk := ops[start:end]
		query := t.sqlFor(ts, sh, kind, mask, include, len(chunk))
		args := t.getArgs()
		for _, o := range chunk {
			if include == nil {
				args = append(args, o.vals...)
				continue
			}
			for i, v := range o.vals {
				if include[i] {
					args = append(args, v)
				}
			}
		}
		_, err := tx.ExecContext(ctx, query, args...)
		t.putArgs(args)
		if err != nil {
			return fmt.Errorf("write %d rows to %s: %w", len(chunk), ts.id, err)
		}
		start = end
	}
	return nil
}

// sqlFor builds (and caches per shape) a statement.
func (t *Task) sqlFor(ts *tableState, sh *shape, kind byte, mask string, include []bool, rows int) string {
	k := sqlKey{kind: kind, mask: mask, rows: rows}
	t.sqlMu.Lock()
	defer t.sqlMu.Unlock()
	if s, ok := sh.sql[k]; ok {
		return s
	}
	var keys, nonKeys []string
	for i, c := range sh.cols {
		if include != nil && !include[i] {
			continue
		}
		if i < sh.nKey {
			keys = append(keys, t.q.ident(c.name))
		} else {
			nonKeys = append(nonKeys, t.q.ident(c.name))
		}
	}
	w := &sqlWriter{d: t.d}
	switch kind {
	case 'd':
		keys = keys[:0]
		for _, c := range sh.fm.keyCols {
			keys = append(keys, t.q.ident(c.name))
		}
		t.d.deleteSQL(w, ts.qname, keys, rows)
	case 'U':
		t.d.updateSQL(w, ts.qname, keys, nonKeys)
	case 'u':
		t.d.upsertSQL(w, ts.qname, keys, nonKeys, rows)
	default:
		t.d.insertSQL(w, ts.qname, append(append([]string(nil), keys...), nonKeys...), rows)
	}
	s := w.String()
	if len(sh.sql) > 64 {
		clear(sh.sql)
	}
	sh.sql[k] = s
	return s
}

// bulkCols lists the columns of sh that a statement writes (include nil:
// all), with their catalog entries, and their indexes in sh.cols.
func (t *Task) bulkCols(ts *tableState, cols []*column, include []bool) ([]bulkCol, []int, bool) {
	if ts.meta == nil {
		return nil, nil, false
	}
	out := make([]bulkCol, 0, len(cols))
	idx := make([]int, 0, len(cols))
	for i, c := range cols {
		if include != nil && !include[i] {
			continue
		}
		m := ts.meta.column(c.name)
		if m == nil {
			return nil, nil, false
		}
		out = append(out, bulkCol{ident: t.q.ident(c.name), meta: m})
		idx = append(idx, i)
	}
	return out, idx, true
}

// bulkWrites writes ops in the dialect's bulk statement
// (dialect.bulkWriteSQL), returning how many it wrote: 0 when the dialect
// leaves them to the multi-row statements.
func (t *Task) bulkWrites(ctx context.Context, tx *sqlx.Tx, ts *tableState, sh *shape, include []bool, ops []*op, upsert bool) (int, error) {
	cols, idx, ok := t.bulkCols(ts, sh.cols, include)
	if !ok {
		return 0, nil
	}
	nKey := 0
	for _, i := range idx {
		if i < sh.nKey {
			nKey++
		}
	}
	w := &sqlWriter{d: t.d}
	args, ok := t.d.bulkWriteSQL(w, ts.qname, cols, nKey, upsert, len(ops), func(r, c int) any { return ops[r].vals[idx[c]] })
	if !ok {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, w.String(), args...); err != nil {
		return 0, fmt.Errorf("write %d rows to %s: %w", len(ops), ts.id, shortError{err})
	}
	t.bulkRows.Add(int64(len(ops)))
	return len(ops), nil
}

// bulkDeletes deletes ops' keys in the dialect's bulk statement
// (dialect.bulkDeleteSQL); done=false when the dialect leaves them to the
// multi-row statement.
func (t *Task) bulkDeletes(ctx context.Context, tx *sqlx.Tx, ts *tableState, sh *shape, ops []*op) (bool, error) {
	cols, _, ok := t.bulkCols(ts, sh.fm.keyCols, nil)
	if !ok {
		return false, nil
	}
	w := &sqlWriter{d: t.d}
	args, ok := t.d.bulkDeleteSQL(w, ts.qname, cols, len(ops), func(r, c int) any { return ops[r].vals[c] })
	if !ok {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, w.String(), args...); err != nil {
		return false, fmt.Errorf("delete from %s: %w", ts.id, shortError{err})
	}
	t.bulkRows.Add(int64(len(ops)))
	return true, nil
}

// getArgs returns an empty argument slice to reuse (putArgs gives it back);
// parallel writers each take their own.
func (t *Task) getArgs() []any {
	if a, ok := t.argPool.Get().(*[]any); ok {
		return (*a)[:0]
	}
	return nil
}

// putArgs gives back a slice from getArgs once its statement ran.
func (t *Task) putArgs(a []any) {
	clear(a)
	a = a[:0]
	t.argPool.Put(&a)
}

// shortError cuts the text of a bulk statement's error, which can quote a
// whole array argument (the driver's "unable to encode []interface {}{…}:
// reason"), to its first and last 200 bytes; errors.Is/As see the error
// itself.
type shortError struct{ err error }

func (e shortError) Error() string {
	s := e.err.Error()
	if len(s) > 500 {
		return strings.ToValidUTF8(s[:200], "") + " … " + strings.ToValidUTF8(s[len(s)-200:], "")
	}
	return s
}

func (e shortError) Unwrap() error { return e.err }
