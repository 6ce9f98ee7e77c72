package jdbcsink

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/jmoiron/sqlx"
)

// parallelMinRows is the fewest rows a parallel writer gets: a batch of
// fewer than twice as many is written in one transaction.
const parallelMinRows = 256

// writers is how many connections ts's batch is written on
// (dialect.writeConns), 1 unless all of this holds: insert.mode=upsert with
// keys (replaying an upsert or a delete of a key leaves the same row, so a
// batch half committed when a writer failed is simply written again), no
// exactly-once offsets (they commit in the batch's one transaction), no
// truncate, not the row-by-row search, and rows enough.
func (t *Task) writers(b *tableBuf, rowByRow bool) int {
	k, _ := t.d.writeConns()
	if k <= 1 || rowByRow || t.st.exactlyOnce || t.st.insertMode != InsertModeUpsert || !t.collapse {
		return 1
	}
	n := 0
	for _, ph := range b.phases {
		if ph.truncate {
			return 1
		}
		n += len(ph.deletes) + len(ph.writes)
	}
	return max(1, min(k, n/parallelMinRows))
}

// writeParallel writes ts's batch on k connections at once, phase by phase
// (each phase done everywhere before the next starts). Every key of a phase
// goes to one writer, so its delete still runs before its write; writers
// take contiguous ranges of the keys (in their encoded order), so that
// their transactions' next-key locks meet only at the ranges' edges. Each
// writer commits its own transaction. On an error some writers may have
// committed: the caller then writes the whole batch again in one
// transaction (what it does after any failure), which ends in the same rows.
func (t *Task) writeParallel(ctx context.Context, ts *tableState, k int) error {
	for _, ph := range ts.buf.phases {
		parts := splitPhase(ph, k)
		errs := make([]error, len(parts))
		var wg sync.WaitGroup
		for i, p := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = t.writePart(ctx, ts, p)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		n := 0
		for _, p := range parts {
			n += len(p.deletes) + len(p.writes)
		}
		t.parallelRows.Add(int64(n))
	}
	return nil
}

// splitPhase divides a phase's pending deletes and writes into at most k
// phases by ranges of their keys.
func splitPhase(ph *phase, k int) []*phase {
	keys := make([]string, 0, len(ph.deletes)+len(ph.writes))
	for _, o := range ph.deletes {
		keys = append(keys, o.key)
	}
	for _, o := range ph.writes {
		if o.pending() {
			keys = append(keys, o.key)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	// bounds[i] is the first key of part i+1.
	var bounds []string
	for i := 1; i < k; i++ {
		if j := i * len(keys) / k; j > 0 && j < len(keys) && (len(bounds) == 0 || bounds[len(bounds)-1] != keys[j]) {
			bounds = append(bounds, keys[j])
		}
	}
	parts := make([]*phase, len(bounds)+1)
	for i := range parts {
		parts[i] = &phase{shape: ph.shape, hasWrite: ph.hasWrite}
	}
	part := func(key string) *phase {
		return parts[sort.Search(len(bounds), func(i int) bool { return bounds[i] > key })]
	}
	for _, o := range ph.deletes {
		p := part(o.key)
		p.deletes = append(p.deletes, o)
	}
	for _, o := range ph.writes {
		if o.pending() {
			p := part(o.key)
			p.writes = append(p.writes, o)
		}
	}
	return parts
}

// writePart writes one writer's part of a phase in its own transaction.
func (t *Task) writePart(ctx context.Context, ts *tableState, p *phase) (err error) {
	var tx *sqlx.Tx
	_, iso := t.d.writeConns()
	if tx, err = t.db.BeginTxx(ctx, &sql.TxOptions{Isolation: iso}); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = t.execPhase(ctx, tx, ts, p, false); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
