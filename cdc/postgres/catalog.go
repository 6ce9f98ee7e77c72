package postgres

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/jackc/pgx/v5"
)

// querier is what catalog reads need: a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// typeCache holds pg_type rows by OID. It is loaded in bulk at start and
// filled on demand for types created later (new enums, extensions).
type typeCache struct {
	mu    sync.Mutex
	types map[uint32]*pgType
}

func newTypeCache() *typeCache { return &typeCache{types: map[uint32]*pgType{}} }

type typeRow struct {
	oid, elem, base uint32
	name            string
	kind, category  string
	baseMod         int32
	labels          []string
}

const typeQuery = `SELECT t.oid, t.typname, t.typtype::text, t.typcategory::text, t.typelem, t.typbasetype, t.typtypmod,
  COALESCE((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '{}'::text[])
FROM pg_type t`

func scanTypes(rows pgx.Rows) ([]typeRow, error) {
	defer rows.Close()
	var out []typeRow
	for rows.Next() {
		var r typeRow
		if err := rows.Scan(&r.oid, &r.name, &r.kind, &r.category, &r.elem, &r.base, &r.baseMod, &r.labels); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// load reads every type of the database.
func (c *typeCache) load(ctx context.Context, conn querier) error {
	rows, err := conn.Query(ctx, typeQuery)
	if err != nil {
		return fmt.Errorf("read pg_type: %w", err)
	}
	rs, err := scanTypes(rows)
	if err != nil {
		return fmt.Errorf("read pg_type: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(rs)
	return nil
}

func (c *typeCache) add(rs []typeRow) {
	for _, r := range rs {
		t := c.types[r.oid]
		if t == nil {
			t = &pgType{oid: r.oid}
			c.types[r.oid] = t
		}
		t.name, t.baseMod, t.labels = r.name, r.baseMod, r.labels
		if r.kind != "" {
			t.kind = r.kind[0]
		}
		if r.category != "" {
			t.category = r.category[0]
		}
	}
	for _, r := range rs {
		t := c.types[r.oid]
		if r.elem != 0 {
			t.elem = c.types[r.elem]
		}
		if r.base != 0 {
			t.base = c.types[r.base]
		}
	}
}

// get returns the type of oid, querying the catalog when it is not cached.
func (c *typeCache) get(ctx context.Context, conn querier, oid uint32) (*pgType, error) {
	c.mu.Lock()
	t := c.types[oid]
	c.mu.Unlock()
	if t != nil && (t.elem != nil || t.category != 'A') && (t.base != nil || t.kind != 'd') {
		return t, nil
	}
	// Unknown, or an array/domain whose element/base is unknown: reload.
	if err := c.load(ctx, conn); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t = c.types[oid]; t == nil {
		return nil, fmt.Errorf("type oid %d not found in pg_type", oid)
	}
	return t, nil
}

// relInfo is what the catalog says about a relation.
type relInfo struct {
	schema, name string
	identity     byte
	notNull      map[string]bool
	defaults     map[string]string // column default expressions (pg_get_expr), when set
	pk           []string
	cols         []colDef // non-dropped, non-generated columns in attnum order
}

const relQuery = `SELECT n.nspname, c.relname, c.relreplident::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`

const colsQuery = `SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull, COALESCE(pg_get_expr(d.adbin, d.adrelid), '') FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`

const pkQuery = `SELECT a.attname FROM pg_index i
  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`

// relation reads a relation's name, columns, primary key and replica identity.
func relation(ctx context.Context, conn querier, oid uint32) (*relInfo, error) {
	ri := &relInfo{notNull: map[string]bool{}, defaults: map[string]string{}}
	var ident string
	if err := conn.QueryRow(ctx, relQuery, oid).Scan(&ri.schema, &ri.name, &ident); err != nil {
		return nil, fmt.Errorf("relation %d: %w", oid, err)
	}
	if ident != "" {
		ri.identity = ident[0]
	}
	rows, err := conn.Query(ctx, colsQuery, oid)
	if err != nil {
		return nil, fmt.Errorf("columns of %s.%s: %w", ri.schema, ri.name, err)
	}
	for rows.Next() {
		var c colDef
		if err := rows.Scan(&c.name, &c.oid, &c.typmod, &c.notNull, &c.defExpr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("columns of %s.%s: %w", ri.schema, ri.name, err)
		}
		ri.notNull[c.name] = c.notNull
		if c.defExpr != "" {
			ri.defaults[c.name] = c.defExpr
		}
		ri.cols = append(ri.cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of %s.%s: %w", ri.schema, ri.name, err)
	}
	rows, err = conn.Query(ctx, pkQuery, oid)
	if err != nil {
		return nil, fmt.Errorf("primary key of %s.%s: %w", ri.schema, ri.name, err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		ri.pk = append(ri.pk, n)
	}
	rows.Close()
	return ri, rows.Err()
}

// capturedTable is a table the snapshot reads.
type capturedTable struct {
	oid          uint32
	schema, name string
	estimate     int64
}

const tablesQuery = `SELECT c.oid, n.nspname, c.relname, GREATEST(c.reltuples, 0)::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname = $1 AND p.schemaname = n.nspname AND p.tablename = c.relname)
ORDER BY n.nspname, c.relname`

// publishedTables lists the captured tables of the publication, filtered.
func publishedTables(ctx context.Context, conn querier, pub string, f *filters) ([]capturedTable, error) {
	rows, err := conn.Query(ctx, tablesQuery, pub)
	if err != nil {
		return nil, fmt.Errorf("list tables of publication %s: %w", pub, err)
	}
	defer rows.Close()
	var out []capturedTable
	for rows.Next() {
		var t capturedTable
		if err := rows.Scan(&t.oid, &t.schema, &t.name, &t.estimate); err != nil {
			return nil, err
		}
		if f.table(t.schema, t.name) {
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Debezium 3.6.1 snapshots the tables in the order of
	// table.include.list (by the first entry each matches), by name
	// within an entry.
	sort.SliceStable(out, func(i, j int) bool {
		return f.tableRank(out[i].schema, out[i].name) < f.tableRank(out[j].schema, out[j].name)
	})
	return out, nil
}
