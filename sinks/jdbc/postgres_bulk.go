package jdbcsink

import (
	"database/sql"
	"math"
	"strconv"
	"strings"
	"time"
)

// PostgreSQL's bulk statements (Debezium's JDBC sink writes the same):
//
//	INSERT INTO t (k,a,b) SELECT u.c1,u.c2::jsonb,u.c3 FROM UNNEST($1::bigint[],$2::text[],$3::numeric[]) AS u(c1,c2,c3)
//	ON CONFLICT (k) DO UPDATE SET a=EXCLUDED.a,b=EXCLUDED.b
//	DELETE FROM t WHERE k = ANY($1::bigint[])
//
// One parameter per column whatever the rows, so the statement is parsed,
// planned and prepared once per column set instead of once per row count,
// and a batch binds 5 arrays instead of 15,000 scalars.
//
// Every value binds as it binds one by one. The driver (pgx) sends a string
// parameter as text for the server's input function of the column's type,
// so string values travel in a text[] and are cast to the column's type
// without its modifiers (a cast to varchar(64) or bit(8) would truncate;
// the INSERT's assignment then checks the modifiers and fails as it does
// for a scalar parameter). Other values bind in an array of the column's
// own type, each element encoded by the same codec as the scalar would be,
// and only for the types whose codec the driver has built in; a column
// mixing strings and other values, or another type, leaves the batch to
// the multi-row statements.

// pgBulkMinRows is the fewest rows written with UNNEST: below it the
// multi-row VALUES statements are faster (BenchmarkPostgresBulkPaths on
// bench/load's table, 2 shared cores: 16-row batches 42k rows/s multi-row,
// 38k UNNEST; 32-row 60k/75k; 3000-row 114k/153k). COPY into a temporary
// table then INSERT … SELECT measured no faster at 3000 rows (154k, the
// same server CPU per row) and half as fast at 64 (the temporary table's
// per-transaction truncation), so there is no COPY path.
const pgBulkMinRows = 32

// pgBulkTyped is, by pg_type name, the Go value kinds (as the common
// conversions produce them) that bind in an array of the column's own type;
// 0 for the types that take strings only that way.
func pgBulkTyped(typname string) pgBulkKinds {
	switch typname {
	case "int2", "int4", "int8", "numeric":
		return kindInt
	case "float4", "float8":
		return kindFloat
	case "bool":
		return kindBool
	case "bytea":
		return kindBytes
	case "timestamp", "timestamptz":
		return kindTime
	}
	return 0
}

// pgBulkKinds is a set of Go value kinds.
type pgBulkKinds uint8

const (
	kindInt pgBulkKinds = 1 << iota
	kindFloat
	kindBool
	kindBytes
	kindTime
	kindString
	kindOther
)

func goKind(v any) pgBulkKinds {
	switch x := v.(type) {
	case int64:
		return kindInt
	case uint64:
		if x > math.MaxInt64 {
			return kindOther // the driver refuses it; let the row path say so
		}
		return kindInt
	case float64:
		return kindFloat
	case bool:
		return kindBool
	case []byte:
		return kindBytes
	case time.Time:
		return kindTime
	case string:
		return kindString
	}
	return kindOther
}

// pgBulkColumn builds column c's array argument and the expression that
// reads it out of UNNEST's column name; ok=false when the column cannot
// bind in bulk.
func pgBulkColumn(c bulkCol, rows int, val func(r int) any) (arg any, arrayType string, cast string, ok bool) {
	if c.meta == nil || c.meta.castType == "" {
		return nil, "", "", false
	}
	var kinds pgBulkKinds
	for r := 0; r < rows; r++ {
		if v := val(r); v != nil {
			kinds |= goKind(v)
		}
	}
	switch {
	case kinds == 0 || kinds == kindString:
		arrayType = "text[]"
		switch c.meta.castType {
		case "text":
		case "bit", "bit[]":
			// A bare bit is bit(1): a cast to it would cut the value. As
			// varying bits it keeps its length for the assignment to check.
			cast = "bit varying" + strings.TrimPrefix(c.meta.castType, "bit")
		default:
			cast = c.meta.castType
		}
	case kinds&(kinds-1) == 0 && pgBulkTyped(c.meta.dataType)&kinds != 0:
		arrayType = c.meta.castType + "[]"
	default:
		return nil, "", "", false
	}
	a := make([]any, rows)
	for r := range a {
		a[r] = val(r)
	}
	return a, arrayType, cast, true
}

// bulkWriteSQL is INSERT INTO t (…) SELECT … FROM UNNEST(…) [ON CONFLICT …].
func (d *postgresDialect) bulkWriteSQL(w *sqlWriter, table string, cols []bulkCol, nKey int, upsert bool, rows int, val func(r, c int) any) ([]any, bool) {
	if rows < pgBulkMinRows {
		return nil, false
	}
	args := make([]any, len(cols))
	arrays := make([]string, len(cols))
	casts := make([]string, len(cols))
	for i, c := range cols {
		var ok bool
		if args[i], arrays[i], casts[i], ok = pgBulkColumn(c, rows, func(r int) any { return val(r, i) }); !ok {
			return nil, false
		}
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.ident
	}
	w.WriteString("INSERT INTO ")
	w.WriteString(table)
	w.WriteString(" (")
	w.WriteString(strings.Join(names, ","))
	w.WriteString(") SELECT ")
	for i := range cols {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("u.c")
		w.WriteString(strconv.Itoa(i + 1))
		if casts[i] != "" {
			w.WriteString("::")
			w.WriteString(casts[i])
		}
	}
	w.WriteString(" FROM UNNEST(")
	for i := range cols {
		if i > 0 {
			w.WriteByte(',')
		}
		w.param()
		w.WriteString("::")
		w.WriteString(arrays[i])
	}
	w.WriteString(") AS u(")
	for i := range cols {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("c")
		w.WriteString(strconv.Itoa(i + 1))
	}
	w.WriteByte(')')
	if upsert {
		onConflict(w, names[:nKey], names[nKey:])
	}
	return args, true
}

// bulkDeleteSQL is DELETE FROM t WHERE k = ANY($1::type[]) for a one-column
// key (as the IN list, an index scan); a composite key keeps the multi-row
// row-value IN list, which the planner also reads as index lookups.
func (d *postgresDialect) bulkDeleteSQL(w *sqlWriter, table string, keys []bulkCol, rows int, val func(r, c int) any) ([]any, bool) {
	if rows < pgBulkMinRows || len(keys) != 1 || keys[0].meta == nil || strings.HasSuffix(keys[0].meta.castType, "]") {
		return nil, false
	}
	arg, arrayType, cast, ok := pgBulkColumn(keys[0], rows, func(r int) any { return val(r, 0) })
	if !ok {
		return nil, false
	}
	w.WriteString("DELETE FROM ")
	w.WriteString(table)
	w.WriteString(" WHERE ")
	w.WriteString(keys[0].ident)
	w.WriteString(" = ANY(")
	w.param()
	w.WriteString("::")
	w.WriteString(arrayType)
	if cast != "" {
		w.WriteString("::")
		w.WriteString(cast)
		w.WriteString("[]")
	}
	w.WriteByte(')')
	return []any{arg}, true
}

// writeConns is 2 connections at the server's default isolation (READ
// COMMITTED; an upsert or delete locks only its rows, and the writers'
// rows differ). As on MariaDB, the server writes each statement on one
// thread while the sink waits: BenchmarkWriteConns, 2 shared cores, 80k
// rows/s on one connection, 106k on two or three; fully loaded, 81k on one,
// 77k on two.
func (d *postgresDialect) writeConns() (int, sql.IsolationLevel) { return 2, sql.LevelDefault }
