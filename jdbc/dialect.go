package jdbc

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Dialect is what both JDBC sides share of the SQL one flavor speaks:
// identifier quoting, bind placeholders, table ids and how its driver's
// errors are sorted. The source (jdbc/source) and the sink (sinks/jdbc)
// each build their own per-flavor dialect on top of it.
//
// A new flavor is a new file in this package implementing Dialect, one
// line in the dialects table below, and the matching files of each side.
type Dialect interface {
	// Flavor is the flavor this dialect speaks.
	Flavor() Flavor
	// QuoteIdent quotes an identifier unconditionally.
	QuoteIdent(s string) string
	// Placeholder is the n-th (1-based) bind parameter of a statement.
	Placeholder(n int) string
	// ParseTableID parses [catalog.][schema.]table as Confluent's TableId
	// parser does (dots inside quotes or backticks do not split), with the
	// parts the flavor has.
	ParseTableID(s string) (TableID, error)
	// TableParts are the parts of id that name the table in a statement,
	// outermost first.
	TableParts(id TableID) []string
	// FoldUnquoted is id as the catalog stores it when written unquoted.
	FoldUnquoted(id TableID) TableID
	// Classify sorts an error from the flavor's driver.
	Classify(err error) ErrorClass
}

// dialects is the Flavor → Dialect table.
var dialects = map[Flavor]Dialect{
	MySQL:    mysqlDialect{},
	Postgres: postgresDialect{},
}

// DialectFor returns the dialect of a flavor; a flavor without one is an
// error, never another flavor's dialect.
func DialectFor(f Flavor) (Dialect, error) {
	if d, ok := dialects[f]; ok {
		return d, nil
	}
	names := make([]string, 0, len(dialects))
	for f := range dialects {
		names = append(names, string(f))
	}
	slices.Sort(names)
	return nil, fmt.Errorf("no SQL dialect for database flavor %q (supported: %s)", f, strings.Join(names, ", "))
}

// Quoter writes identifiers and table names, quoting them when Always is
// set (quote.sql.identifiers=always) and leaving them as given otherwise.
type Quoter struct {
	D      Dialect
	Always bool
}

// Ident writes one identifier.
func (q Quoter) Ident(s string) string {
	if q.Always {
		return q.D.QuoteIdent(s)
	}
	return s
}

// Table writes a table name as the dialect qualifies it.
func (q Quoter) Table(id TableID) string {
	parts := q.D.TableParts(id)
	for i, p := range parts {
		parts[i] = q.Ident(p)
	}
	return strings.Join(parts, ".")
}

// mysqlDialect is MySQL and MariaDB: backtick quoting, ? placeholders,
// [database.]table names.
type mysqlDialect struct{}

func (mysqlDialect) Flavor() Flavor { return MySQL }

func (mysqlDialect) QuoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

func (mysqlDialect) Placeholder(int) string { return "?" }

func (mysqlDialect) ParseTableID(s string) (TableID, error) {
	return parseTableID(s, func(id *TableID, n int) []*string {
		switch n {
		case 1:
			return []*string{&id.Name}
		case 2:
			return []*string{&id.Catalog, &id.Name}
		}
		return nil
	}, "table name %q has %d dot-separated parts, but MySQL/MariaDB tables are [database.]table: set table.name.format (or route the topic with RegexRouter) so the name has at most one dot")
}

func (mysqlDialect) TableParts(id TableID) []string { return id.parts() }

func (mysqlDialect) FoldUnquoted(id TableID) TableID { return id }

func (mysqlDialect) Classify(err error) ErrorClass { return classifyMySQL(err) }

// postgresDialect is PostgreSQL: double-quote quoting, $n placeholders,
// [database.][schema.]table names.
type postgresDialect struct{}

func (postgresDialect) Flavor() Flavor { return Postgres }

func (postgresDialect) QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func (postgresDialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (postgresDialect) ParseTableID(s string) (TableID, error) {
	return parseTableID(s, func(id *TableID, n int) []*string {
		switch n {
		case 1:
			return []*string{&id.Name}
		case 2:
			return []*string{&id.Schema, &id.Name}
		case 3:
			return []*string{&id.Catalog, &id.Schema, &id.Name}
		}
		return nil
	}, "table name %q has %d dot-separated parts, expected [database.][schema.]table: set table.name.format")
}

// TableParts leaves out the database: a session reaches only the database
// it is connected to.
func (postgresDialect) TableParts(id TableID) []string {
	id.Catalog = ""
	return id.parts()
}

// FoldUnquoted lower-cases: PostgreSQL folds unquoted identifiers.
func (postgresDialect) FoldUnquoted(id TableID) TableID {
	return TableID{Catalog: strings.ToLower(id.Catalog), Schema: strings.ToLower(id.Schema), Name: strings.ToLower(id.Name)}
}

func (postgresDialect) Classify(err error) ErrorClass { return classifyPostgres(err) }
