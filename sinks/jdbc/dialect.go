package jdbcsink

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
	"github.com/tributary-cdc/tributary/schema"
)

// dialect is everything that differs between the flavors the sink writes
// to; nothing outside the dialect files (dialect.go, mysql.go, postgres.go)
// branches on the flavor. It extends the shared jdbc.Dialect (quoting,
// placeholders, table ids, error classes). A new flavor is a new file
// implementing it (embedding standardSQL for what it writes as standard
// SQL) and a line in newDialect.
type dialect interface {
	jdbc.Dialect

	// session returns c as every session of the sink opens it.
	session(c *jdbc.Conn) (*jdbc.Conn, error)
	// probe learns what the dialect needs of the server, once connected.
	probe(ctx context.Context, db sqlx.QueryerContext)
	// maxParams is the bind-parameter limit of one statement.
	maxParams() int
	// maxStatementBytes bounds the bytes of one statement's values; 0 = no
	// bound.
	maxStatementBytes() int

	// readTable reads a table's columns, primary key and unique indexes;
	// nil, nil when the table does not exist.
	readTable(ctx context.Context, db sqlx.QueryerContext, id tableID) (*tableMeta, error)
	// family sorts an existing column's type for the auto.evolve checks,
	// with its integer or float width in bits.
	family(cm *colMeta) (colFamily, int)
	// exactConflictKey tells whether an upsert needs a unique index on
	// exactly its key columns (else one on a subset of them suffices).
	exactConflictKey() bool

	// columnType is the DDL type of a column for auto.create/auto.evolve.
	columnType(s *schema.Schema, key bool, keyLen int) (string, error)
	// literal renders a converted value as an SQL literal (DEFAULT clauses).
	literal(v any, colType string) string
	// offsetsDDL creates the exactly-once offsets table.
	offsetsDDL(table string, c offsetCols) string

	// The statements, each written whole to w (its placeholders numbered
	// from 1): rows × the columns' values, in column order, for insertSQL,
	// upsertSQL and deleteSQL (keys only); non-key values, then key values
	// for updateSQL.
	insertSQL(w *sqlWriter, table string, cols []string, rows int)
	upsertSQL(w *sqlWriter, table string, keys, nonKeys []string, rows int)
	updateSQL(w *sqlWriter, table string, keys, nonKeys []string)
	deleteSQL(w *sqlWriter, table string, keys []string, rows int)
	// bulkWriteSQL writes to w an insert (upsert=true: an upsert) of rows
	// rows that binds one parameter per column, an array of the rows'
	// values, so that its text and plan do not grow with the rows, and
	// returns its arguments. val(r, c) is row r's value of cols[c]; the keys
	// are cols[:nKey]. ok=false leaves the rows to insertSQL/upsertSQL: too
	// few rows for it to pay, or values it cannot bind in bulk exactly as
	// they bind one by one.
	bulkWriteSQL(w *sqlWriter, table string, cols []bulkCol, nKey int, upsert bool, rows int, val func(r, c int) any) (args []any, ok bool)
	// bulkDeleteSQL is deleteSQL the same way (keys only).
	bulkDeleteSQL(w *sqlWriter, table string, keys []bulkCol, rows int, val func(r, c int) any) (args []any, ok bool)
	// writeConns is how many connections one table's batch may be written
	// on at once where that is safe (writeParallel), each its own
	// transaction over a range of the keys, and those transactions'
	// isolation level. 1 writes every batch in one transaction.
	writeConns() (int, sql.IsolationLevel)
	// truncateSQL empties a table inside a transaction.
	truncateSQL(table string) string
	// offsetsUpsertSQL stores rows of (connector, table, topic, partition,
	// offset), never moving a stored offset backwards.
	offsetsUpsertSQL(w *sqlWriter, table string, c offsetCols, rows int)
	// offsetsRowSQL creates the offsets row of (connector, table, topic,
	// partition) with offset -1 when missing, taking its exclusive lock at
	// once when it exists.
	offsetsRowSQL(w *sqlWriter, table string, c offsetCols)
	// offsetsLockSQL reads and locks the offset of (connector, table,
	// topic, partition) until the transaction ends.
	offsetsLockSQL(w *sqlWriter, table string, c offsetCols)

	// bind is the flavor's own conversion of values of s into bind
	// parameters; ok=false leaves s to the common conversions.
	bind(cc convCtx, s *schema.Schema) (f convFunc, ok bool, err error)
}

// newDialect returns the sink dialect of a connection's flavor; a flavor
// the sink has no dialect for is an error, never another flavor's dialect.
func newDialect(c *jdbc.Conn) (dialect, error) {
	base, err := jdbc.DialectFor(c.Flavor)
	if err != nil {
		return nil, err
	}
	mk, ok := sinkDialects[c.Flavor]
	if !ok {
		return nil, fmt.Errorf("the JDBC sink has no dialect for database flavor %q", c.Flavor)
	}
	return mk(standardSQL{base}), nil
}

// sinkDialects is the sink's Flavor → dialect table.
var sinkDialects = map[jdbc.Flavor]func(standardSQL) dialect{
	jdbc.MySQL:    func(s standardSQL) dialect { return &mysqlDialect{standardSQL: s} },
	jdbc.Postgres: func(s standardSQL) dialect { return &postgresDialect{standardSQL: s} },
}

// dialectNameFlavor is the flavor dialect.name asks for, as the sink's
// validation reads it: Confluent's PostgreSqlDatabaseDialect (any name
// starting PostgreSql) is PostgreSQL, any other name MySQL.
func dialectNameFlavor(name string) jdbc.Flavor {
	if strings.HasPrefix(name, "PostgreSql") {
		return jdbc.Postgres
	}
	return jdbc.MySQL
}

// tableID names a destination table.
type tableID = jdbc.TableID

// quoter quotes identifiers according to quote.sql.identifiers.
type quoter struct{ jdbc.Quoter }

func (q quoter) ident(s string) string   { return q.Ident(s) }
func (q quoter) table(id tableID) string { return q.Table(id) }

// bulkCol is a column of a bulk statement: its quoted name and what the
// catalog says of it.
type bulkCol struct {
	ident string
	meta  *colMeta
}

// offsetCols are the quoted columns of the exactly-once offsets table:
// key is connector, table_name, topic, kafka_partition.
type offsetCols struct {
	key    [4]string
	offset string
}

// sqlWriter builds one statement, numbering its placeholders.
type sqlWriter struct {
	strings.Builder
	d jdbc.Dialect
	n int // placeholders written so far
}

// param writes the next placeholder.
func (w *sqlWriter) param() {
	w.n++
	w.WriteString(w.d.Placeholder(w.n))
}

// each writes f of every column, sep between them.
func (w *sqlWriter) each(cols []string, sep string, f func(c string)) {
	for i, c := range cols {
		if i > 0 {
			w.WriteString(sep)
		}
		f(c)
	}
}

// assign writes c, eq and the next placeholder: c=?.
func (w *sqlWriter) assign(c, eq string) {
	w.WriteString(c)
	w.WriteString(eq)
	w.param()
}

// params writes n placeholders, comma-separated: ?,?.
func (w *sqlWriter) params(n int) {
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		w.param()
	}
}

// tuples writes rows parenthesised lists of width placeholders each,
// comma-separated: (?,?),(?,?).
func (w *sqlWriter) tuples(rows, width int) {
	for r := 0; r < rows; r++ {
		if r > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('(')
		w.params(width)
		w.WriteByte(')')
	}
}

// standardSQL is what both flavors write as standard SQL; a dialect embeds
// it and overrides what its flavor writes otherwise.
type standardSQL struct{ jdbc.Dialect }

func (standardSQL) session(c *jdbc.Conn) (*jdbc.Conn, error)             { return c, nil }
func (standardSQL) probe(context.Context, sqlx.QueryerContext)           {}
func (standardSQL) maxStatementBytes() int                               { return 0 }
func (standardSQL) writeConns() (int, sql.IsolationLevel)                { return 1, sql.LevelDefault }
func (standardSQL) truncateSQL(table string) string                      { return "TRUNCATE TABLE " + table }
func (standardSQL) bind(convCtx, *schema.Schema) (convFunc, bool, error) { return nil, false, nil }

// bulkWriteSQL and bulkDeleteSQL: standard SQL has no array parameters, so
// the multi-row statements do.
func (standardSQL) bulkWriteSQL(*sqlWriter, string, []bulkCol, int, bool, int, func(r, c int) any) ([]any, bool) {
	return nil, false
}
func (standardSQL) bulkDeleteSQL(*sqlWriter, string, []bulkCol, int, func(r, c int) any) ([]any, bool) {
	return nil, false
}

// maxParams is the limit of PostgreSQL and MySQL alike (a 16-bit count in
// their protocols).
func (standardSQL) maxParams() int { return 65535 }

// insertSQL is INSERT INTO t (c…) VALUES (…),(…).
func (standardSQL) insertSQL(w *sqlWriter, table string, cols []string, rows int) {
	w.WriteString("INSERT INTO ")
	w.WriteString(table)
	w.WriteString(" (")
	w.WriteString(strings.Join(cols, ","))
	w.WriteString(") VALUES ")
	w.Grow(rows * (len(cols)*4 + 3))
	w.tuples(rows, len(cols))
}

// updateSQL is UPDATE t SET v=?… WHERE k=? AND ….
func (standardSQL) updateSQL(w *sqlWriter, table string, keys, nonKeys []string) {
	w.WriteString("UPDATE ")
	w.WriteString(table)
	w.WriteString(" SET ")
	w.each(nonKeys, ",", func(c string) { w.assign(c, "=") })
	w.WriteString(" WHERE ")
	w.each(keys, " AND ", func(c string) { w.assign(c, "=") })
}

// deleteSQL is DELETE FROM t WHERE k IN (…) / (k1,k2) IN ((…),…).
func (standardSQL) deleteSQL(w *sqlWriter, table string, keys []string, rows int) {
	w.WriteString("DELETE FROM ")
	w.WriteString(table)
	w.WriteString(" WHERE ")
	if len(keys) == 1 {
		w.WriteString(keys[0])
		w.WriteString(" IN (")
		w.params(rows)
		w.WriteByte(')')
		return
	}
	w.WriteByte('(')
	w.WriteString(strings.Join(keys, ","))
	w.WriteString(") IN (")
	w.tuples(rows, len(keys))
	w.WriteByte(')')
}

// offsetsLockSQL is SELECT … FOR UPDATE.
func (standardSQL) offsetsLockSQL(w *sqlWriter, table string, c offsetCols) {
	fmt.Fprintf(w, "SELECT %s FROM %s WHERE ", c.offset, table)
	w.each(c.key[:], " AND ", func(k string) { w.assign(k, " = ") })
	w.WriteString(" FOR UPDATE")
}

// offsetsInsert writes INSERT INTO t [AS alias] (c…) VALUES of rows
// offsets rows.
func offsetsInsert(w *sqlWriter, table, alias string, c offsetCols, rows int) {
	w.WriteString("INSERT INTO ")
	w.WriteString(table)
	if alias != "" {
		w.WriteString(" AS ")
		w.WriteString(alias)
	}
	fmt.Fprintf(w, " (%s,%s) VALUES ", strings.Join(c.key[:], ","), c.offset)
	w.tuples(rows, 5)
}

// offsetsMissingRow writes INSERT INTO t (c…) VALUES (?,?,?,?,-1).
func offsetsMissingRow(w *sqlWriter, table string, c offsetCols) {
	fmt.Fprintf(w, "INSERT INTO %s (%s,%s) VALUES (", table, strings.Join(c.key[:], ","), c.offset)
	for range c.key {
		w.param()
		w.WriteByte(',')
	}
	w.WriteString("-1)")
}

// literal helpers shared by both dialects.

func quoteString(s string, backslash bool) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			b.WriteString("''")
		case c == '\\' && backslash:
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func genericLiteral(v any, mysql bool) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if mysql {
			if x {
				return "1"
			}
			return "0"
		}
		if x {
			return "TRUE"
		}
		return "FALSE"
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return quoteString(strconv.FormatFloat(x, 'g', -1, 64), mysql)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return quoteString(x, mysql)
	case []byte:
		if mysql {
			return "X'" + hex.EncodeToString(x) + "'"
		}
		return `'\x` + hex.EncodeToString(x) + `'`
	case time.Time:
		return "'" + x.Format("2006-01-02 15:04:05.999999") + "'"
	}
	return quoteString(fmt.Sprint(v), mysql)
}

// timeColumnPrecision picks fractional digits for temporal columns.
func isTemporalSemantic(name string) bool {
	switch name {
	case schema.DateName, schema.TimeName, schema.TimestampName,
		schema.DebeziumDate, schema.DebeziumTime, schema.DebeziumMicroTime, schema.DebeziumNanoTime,
		schema.DebeziumTimestamp, schema.DebeziumMicroTimestamp, schema.DebeziumNanoTimestamp,
		schema.DebeziumZonedTimestamp, schema.DebeziumZonedTime:
		return true
	}
	return false
}

// decimalPrecision returns the precision parameter Debezium adds, or 0.
func decimalPrecision(s *schema.Schema) int {
	if v, ok := s.Param(schema.DecimalPrecisionParam); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// bitsLength returns the length parameter of io.debezium.data.Bits.
func bitsLength(s *schema.Schema) int {
	if v, ok := s.Param("length"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

func unsupportedType(s *schema.Schema) error {
	return fmt.Errorf("%s type doesn't have a mapping to the SQL database column type", s)
}
