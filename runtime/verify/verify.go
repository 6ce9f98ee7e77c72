package verify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Options says which tables to compare and how.
type Options struct {
	// SourceTable is "table", "db.table" (MariaDB) or "schema.table"
	// (PostgreSQL); a plain name is looked up in the connection's current
	// database or schema. Required.
	SourceTable string
	// TargetTable defaults to SourceTable.
	TargetTable string
	// Key are the key columns; default the source table's primary key, else
	// the target's. Rows are matched and ordered by them.
	Key []string
	// Columns are the non-key columns compared; default every source column.
	// A default column missing from the target is listed in
	// Report.MissingColumns and fails the verification; extra target columns
	// are ignored.
	Columns []string
	// ChunkSize is the number of keys per checksum chunk; default 1000.
	ChunkSize int
	// MaxDiffs is how many differing keys the report keeps; default 10.
	MaxDiffs int
}

// DiffKind says how a key differs.
type DiffKind string

// Kinds of differences.
const (
	Missing DiffKind = "missing" // in the source, not in the target
	Extra   DiffKind = "extra"   // in the target, not in the source
	Changed DiffKind = "changed" // in both, with different values
)

// Diff is one differing key.
type Diff struct {
	Kind DiffKind
	// Key is the key as "col=value[,col=value]" with normalized values.
	Key string
	// Columns, Source and Target are the differing columns and their
	// normalized values (Changed only; NULL is shown as NULL).
	Columns []string
	Source  []string
	Target  []string
}

func (d Diff) String() string {
	switch d.Kind {
	case Missing:
		return "missing in target: " + d.Key
	case Extra:
		return "extra in target: " + d.Key
	}
	var b strings.Builder
	b.WriteString("changed: " + d.Key + " (")
	for i, c := range d.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s != %s", c, d.Source[i], d.Target[i])
	}
	b.WriteString(")")
	return b.String()
}

// Report is the result of comparing two tables.
type Report struct {
	SourceTable, TargetTable string
	Key                      []string // key columns (source names)
	Columns                  []string // compared non-key columns (source names)
	MissingColumns           []string // default columns the target lacks
	SourceRows, TargetRows   int64
	// SourceChecksum and TargetChecksum are SHA-256 digests (hex, 16
	// characters shown) of the normalized rows in key order.
	SourceChecksum, TargetChecksum string
	Chunks, ChunksDiffering        int
	// Missing, Extra and Changed count the differing keys; Diffs holds the
	// first MaxDiffs of them in key order.
	Missing, Extra, Changed int64
	Diffs                   []Diff
	Took                    time.Duration
}

// Verified reports whether the tables hold the same rows.
func (r *Report) Verified() bool {
	return r.Missing == 0 && r.Extra == 0 && r.Changed == 0 && len(r.MissingColumns) == 0 &&
		r.SourceRows == r.TargetRows && r.SourceChecksum == r.TargetChecksum
}

// Summary is a one-line result: "verified" or what differs.
func (r *Report) Summary() string {
	if r.Verified() {
		return fmt.Sprintf("verified: %d rows, checksum %s", r.SourceRows, r.SourceChecksum)
	}
	var parts []string
	if len(r.MissingColumns) > 0 {
		parts = append(parts, "target lacks columns "+strings.Join(r.MissingColumns, ", "))
	}
	if r.Missing > 0 {
		parts = append(parts, fmt.Sprintf("%d missing in target", r.Missing))
	}
	if r.Extra > 0 {
		parts = append(parts, fmt.Sprintf("%d extra in target", r.Extra))
	}
	if r.Changed > 0 {
		parts = append(parts, fmt.Sprintf("%d changed", r.Changed))
	}
	return fmt.Sprintf("NOT verified: %s (rows %d/%d, %d of %d chunks differ)",
		strings.Join(parts, ", "), r.SourceRows, r.TargetRows, r.ChunksDiffering, r.Chunks)
}

// Tables compares opts.SourceTable in src with opts.TargetTable in dst. An
// error means the comparison could not be made (connection, missing table
// or key); differences are in the report.
func Tables(ctx context.Context, src, dst *sqlx.DB, opts Options) (Report, error) {
	start := time.Now()
	rep := Report{SourceTable: opts.SourceTable, TargetTable: opts.TargetTable}
	if rep.TargetTable == "" {
		rep.TargetTable = rep.SourceTable
	}
	if strings.TrimSpace(rep.SourceTable) == "" {
		return rep, errors.New("verify: no source table")
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 1000
	}
	if opts.MaxDiffs <= 0 {
		opts.MaxDiffs = 10
	}
	sf, err := flavorOf(src)
	if err != nil {
		return rep, err
	}
	tf, err := flavorOf(dst)
	if err != nil {
		return rep, err
	}
	sc, err := src.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: source connection: %w", err)
	}
	defer sc.Close()
	tc, err := dst.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: target connection: %w", err)
	}
	defer tc.Close()
	if err := session(ctx, sc, sf); err != nil {
		return rep, fmt.Errorf("verify: source: %w", err)
	}
	if err := session(ctx, tc, tf); err != nil {
		return rep, fmt.Errorf("verify: target: %w", err)
	}
	st, err := loadTable(ctx, sc, sf, rep.SourceTable)
	if err != nil {
		return rep, fmt.Errorf("verify: source: %w", err)
	}
	tt, err := loadTable(ctx, tc, tf, rep.TargetTable)
	if err != nil {
		return rep, fmt.Errorf("verify: target: %w", err)
	}
	plan, err := makePlan(st, tt, opts, &rep)
	if err != nil {
		return rep, fmt.Errorf("verify %s → %s: %w", st, tt, err)
	}
	if err := plan.run(ctx, sc, tc, opts, &rep); err != nil {
		return rep, fmt.Errorf("verify %s → %s: %w", st, tt, err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// Until repeats Tables every interval (default 1 s) until the tables
// verify, and returns that report. When ctx ends first it returns the last
// report and an error saying what still differed (or the last error).
func Until(ctx context.Context, src, dst *sqlx.DB, opts Options, interval time.Duration) (Report, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		rep, err := Tables(ctx, src, dst, opts)
		if err == nil && rep.Verified() {
			return rep, nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return rep, fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
			}
			return rep, fmt.Errorf("verify %s → %s: %s (gave up: %w)", rep.SourceTable, rep.TargetTable, rep.Summary(), ctx.Err())
		case <-time.After(interval):
		}
	}
}

// pairCol is a compared column: its name on each side and its class.
type pairCol struct {
	src, dst column
	class    class
}

type plan struct {
	st, tt *table
	keys   []pairCol
	cols   []pairCol
}

func makePlan(st, tt *table, opts Options, rep *Report) (*plan, error) {
	p := &plan{st: st, tt: tt}
	keyNames := opts.Key
	if len(keyNames) == 0 {
		keyNames = st.pk
	}
	if len(keyNames) == 0 {
		keyNames = tt.pk
	}
	if len(keyNames) == 0 {
		return nil, errors.New("neither table has a primary key; give the key columns")
	}
	isKey := map[string]bool{}
	pair := func(name string, required bool) (pairCol, bool, error) {
		s, ok := st.column(name)
		if !ok {
			return pairCol{}, false, fmt.Errorf("source table %s has no column %q", st, name)
		}
		t, ok := tt.column(name)
		if !ok {
			if required {
				return pairCol{}, false, fmt.Errorf("target table %s has no column %q", tt, name)
			}
			return pairCol{}, false, nil
		}
		return pairCol{src: s, dst: t, class: pairClass(s.class, t.class)}, true, nil
	}
	for _, k := range keyNames {
		pc, _, err := pair(strings.TrimSpace(k), true)
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, pc)
		isKey[strings.ToLower(pc.src.name)] = true
		rep.Key = append(rep.Key, pc.src.name)
	}
	if len(opts.Columns) > 0 {
		for _, c := range opts.Columns {
			pc, _, err := pair(strings.TrimSpace(c), true)
			if err != nil {
				return nil, err
			}
			if isKey[strings.ToLower(pc.src.name)] {
				continue
			}
			p.cols = append(p.cols, pc)
		}
	} else {
		for _, c := range st.cols {
			if isKey[strings.ToLower(c.name)] {
				continue
			}
			pc, ok, err := pair(c.name, false)
			if err != nil {
				return nil, err
			}
			if !ok {
				rep.MissingColumns = append(rep.MissingColumns, c.name)
				continue
			}
			p.cols = append(p.cols, pc)
		}
	}
	for _, c := range p.cols {
		rep.Columns = append(rep.Columns, c.src.name)
	}
	return p, nil
}

// query is the SELECT of one side: keys then columns, in key order.
func (p *plan) query(t *table, side func(pairCol) column) string {
	var sel, order []string
	for _, k := range p.keys {
		sel = append(sel, t.quote(side(k).name))
		order = append(order, t.orderExpr(side(k)))
	}
	for _, c := range p.cols {
		sel = append(sel, t.quote(side(c).name))
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + t.qualified() + " ORDER BY " + strings.Join(order, ", ")
}

// row is one normalized row: keys then columns.
type row []value

// batchSize is how many rows a reader hands to the merge at once.
const batchSize = 256

type batch struct {
	rows []row
	err  error
}

// stream reads normalized rows of one side in key order. A goroutine reads
// and normalizes the rows (so both databases stream at the same time) and
// hands them over in batches; next checks the order, counts and hashes.
type stream struct {
	name  string
	plan  *plan
	ch    chan batch
	buf   []row
	i     int
	cur   row
	prev  row
	done  bool
	count int64
	sum   hash.Hash
}

// openStream starts the query and its reader goroutine, which ends when
// the rows are read, on an error, or when ctx is cancelled; wg tracks it.
func openStream(ctx context.Context, conn *sql.Conn, name, q string, p *plan, wg *sync.WaitGroup) (*stream, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	s := &stream{name: name, plan: p, ch: make(chan batch, 4), sum: sha256.New()}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(s.ch)
		defer rows.Close()
		s.read(ctx, rows)
	}()
	return s, nil
}

// read scans and normalizes rows into batches.
func (s *stream) read(ctx context.Context, rows *sql.Rows) {
	n := len(s.plan.keys) + len(s.plan.cols)
	nk := len(s.plan.keys)
	vals, ptrs := make([]any, n), make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for {
		b := batch{rows: make([]row, 0, batchSize)}
		end := false
		for len(b.rows) < batchSize {
			if !rows.Next() {
				end = true
				if err := rows.Err(); err != nil {
					b.err = fmt.Errorf("read %s: %w", s.name, err)
				}
				break
			}
			if err := rows.Scan(ptrs...); err != nil {
				b.err = fmt.Errorf("read %s: %w", s.name, err)
				break
			}
			r := make(row, n)
			for i, v := range vals {
				var c class
				if i < nk {
					c = s.plan.keys[i].class
				} else {
					c = s.plan.cols[i-nk].class
				}
				r[i] = normalize(v, c)
				if i < nk && r[i].null {
					b.err = fmt.Errorf("read %s: key column %s is NULL", s.name, s.plan.keys[i].src.name)
				}
			}
			if b.err != nil {
				break
			}
			b.rows = append(b.rows, r)
		}
		select {
		case s.ch <- b:
		case <-ctx.Done():
			return
		}
		if end || b.err != nil {
			return
		}
	}
}

// next advances to the next row; s.done is set at the end.
func (s *stream) next() error {
	if s.done {
		return nil
	}
	for s.i >= len(s.buf) {
		b, ok := <-s.ch
		if !ok {
			s.done = true
			return nil
		}
		if b.err != nil {
			return b.err
		}
		s.buf, s.i = b.rows, 0
	}
	r := s.buf[s.i]
	s.i++
	if s.prev != nil && s.plan.compareKeys(r, s.prev) <= 0 {
		return fmt.Errorf("read %s: keys arrive out of order (%s after %s): the key's sort order differs between the databases; choose another key",
			s.name, s.plan.keyText(r), s.plan.keyText(s.prev))
	}
	s.prev, s.cur = r, r
	s.count++
	writeRow(s.sum, r)
	return nil
}

func (p *plan) compareKeys(a, b row) int {
	for i, k := range p.keys {
		if c := compareKey(a[i].s, b[i].s, k.class); c != 0 {
			return c
		}
	}
	return 0
}

func (p *plan) keyText(r row) string {
	parts := make([]string, len(p.keys))
	for i, k := range p.keys {
		parts[i] = k.src.name + "=" + r[i].s
	}
	return strings.Join(parts, ",")
}

// writeRow feeds a row into a digest: per value a length (or a null mark)
// and its bytes.
func writeRow(h hash.Hash, r row) {
	var lb [binary.MaxVarintLen64 + 1]byte
	for _, v := range r {
		if v.null {
			h.Write([]byte{0xff})
			continue
		}
		lb[0] = 0
		n := binary.PutUvarint(lb[1:], uint64(len(v.s)))
		h.Write(lb[:n+1])
		h.Write([]byte(v.s))
	}
}

func (p *plan) run(ctx context.Context, sc, tc *sql.Conn, opts Options, rep *Report) error {
	// Cancelling qctx stops both readers (and their queries) when the merge
	// ends early; run returns only after they are gone.
	qctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	ss, err := openStream(qctx, sc, "source "+p.st.String(), p.query(p.st, func(c pairCol) column { return c.src }), p, &wg)
	if err != nil {
		return err
	}
	ts, err := openStream(qctx, tc, "target "+p.tt.String(), p.query(p.tt, func(c pairCol) column { return c.dst }), p, &wg)
	if err != nil {
		return err
	}
	if err := ss.next(); err != nil {
		return err
	}
	if err := ts.next(); err != nil {
		return err
	}
	chunkSrc, chunkDst := sha256.New(), sha256.New()
	inChunk := 0
	closeChunk := func() {
		if inChunk == 0 {
			return
		}
		rep.Chunks++
		if string(chunkSrc.Sum(nil)) != string(chunkDst.Sum(nil)) {
			rep.ChunksDiffering++
		}
		chunkSrc.Reset()
		chunkDst.Reset()
		inChunk = 0
	}
	addDiff := func(d Diff) {
		if len(rep.Diffs) < opts.MaxDiffs {
			rep.Diffs = append(rep.Diffs, d)
		}
	}
	nk := len(p.keys)
	for n := 0; !ss.done || !ts.done; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var c int
		switch {
		case ss.done:
			c = 1
		case ts.done:
			c = -1
		default:
			c = p.compareKeys(ss.cur, ts.cur)
		}
		switch {
		case c < 0: // only in the source
			writeRow(chunkSrc, ss.cur)
			rep.Missing++
			addDiff(Diff{Kind: Missing, Key: p.keyText(ss.cur)})
			if err := ss.next(); err != nil {
				return err
			}
		case c > 0: // only in the target
			writeRow(chunkDst, ts.cur)
			rep.Extra++
			addDiff(Diff{Kind: Extra, Key: p.keyText(ts.cur)})
			if err := ts.next(); err != nil {
				return err
			}
		default:
			writeRow(chunkSrc, ss.cur)
			writeRow(chunkDst, ts.cur)
			var d Diff
			for i := nk; i < len(ss.cur); i++ {
				if ss.cur[i] != ts.cur[i] {
					d.Columns = append(d.Columns, p.cols[i-nk].src.name)
					d.Source = append(d.Source, ss.cur[i].String())
					d.Target = append(d.Target, ts.cur[i].String())
				}
			}
			if len(d.Columns) > 0 {
				d.Kind, d.Key = Changed, p.keyText(ss.cur)
				rep.Changed++
				addDiff(d)
			}
			if err := ss.next(); err != nil {
				return err
			}
			if err := ts.next(); err != nil {
				return err
			}
		}
		inChunk++
		if inChunk >= opts.ChunkSize {
			closeChunk()
		}
	}
	closeChunk()
	rep.SourceRows, rep.TargetRows = ss.count, ts.count
	rep.SourceChecksum = hex.EncodeToString(ss.sum.Sum(nil))[:16]
	rep.TargetChecksum = hex.EncodeToString(ts.sum.Sum(nil))[:16]
	return nil
}
