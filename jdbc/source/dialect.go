package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
)

// tableID names a table: Catalog is the MySQL database, Schema the
// PostgreSQL schema (one of them is empty). Its String is the unquoted
// fully-qualified name used in source partitions: db.table on
// MySQL/MariaDB, schema.table on PostgreSQL.
type tableID = jdbc.TableID

// flavorSQL is everything the source's SQL differs in between flavors;
// nothing outside the flavor files (mysql.go, postgres.go) branches on the
// flavor. It extends the shared jdbc.Dialect (quoting, placeholders, table
// ids, error classes). A new flavor is a new file implementing it and a
// line in flavors.
type flavorSQL interface {
	jdbc.Dialect

	// sessionDSN returns the connection's DSN with the session set up for
	// the source: session time zone db.timezone (zoneName, zone), and
	// whatever else the flavor needs.
	sessionDSN(c *jdbc.Conn, zoneName string, zone *time.Location) (string, error)
	// reopenDSN is a DSN to retry opening with after err, if there is one
	// (a named zone the server does not know).
	reopenDSN(dsn string, zone *time.Location, err error) (string, bool)
	// bindTime turns a wall clock in db.timezone into the parameter that
	// compares correctly with the tracking columns.
	bindTime(wall time.Time) any
	// now reads the database's current time.
	now(ctx context.Context, db *sqlx.DB, zone *time.Location) (time.Time, error)
	// clockAndOldestTx returns the database's current time and a lower
	// bound of the start of the oldest transaction that may still write
	// (nil when there is none).
	clockAndOldestTx(ctx context.Context, db *sqlx.DB, zone *time.Location) (time.Time, *time.Time, error)
	// checkSafeWindowAccess makes sure clockAndOldestTx sees every open
	// transaction.
	checkSafeWindowAccess(ctx context.Context, db *sqlx.DB, zone *time.Location) error
	// trxSlack is how long after a statement took its clock or
	// auto-increment value its transaction may still be invisible to
	// clockAndOldestTx.
	trxSlack() time.Duration
	// listTablesSQL lists (schema or database, name, type) of the tables
	// catalog.pattern and schema.pattern select, ordered.
	listTablesSQL(c *sourceConfig) (string, []any)
	// listedTable is the table of a listTablesSQL row.
	listedTable(schemaName, name string) tableID
	// columnsSQL reads (name, nullable, auto-increment, primary-key
	// position) of a table's columns in ordinal order.
	columnsSQL(t tableID) (string, []any)
	// kind sets the Connect kind of a result column from its database type.
	kind(c *colDesc, prec, scale int64, hasDec bool, numericMapping string)
}

// flavors is the source's Flavor → flavorSQL table.
var flavors = map[jdbc.Flavor]func(jdbc.Dialect) flavorSQL{
	jdbc.MySQL:    func(d jdbc.Dialect) flavorSQL { return mysqlSQL{d} },
	jdbc.Postgres: func(d jdbc.Dialect) flavorSQL { return postgresSQL{d} },
}

// dialect is the source's SQL for one connection: its flavor's, quoting per
// quote.sql.identifiers, clocks in db.timezone.
type dialect struct {
	sql   flavorSQL
	quote bool
	zone  *time.Location
}

// newDialect returns the dialect of a flavor; a flavor the source has no
// dialect for is an error.
func newDialect(f jdbc.Flavor, quote bool, zone *time.Location) (dialect, error) {
	base, err := jdbc.DialectFor(f)
	if err != nil {
		return dialect{}, err
	}
	mk, ok := flavors[f]
	if !ok {
		return dialect{}, fmt.Errorf("the JDBC source has no dialect for database flavor %q", f)
	}
	return dialect{sql: mk(base), quote: quote, zone: zone}, nil
}

func (d dialect) quoter() jdbc.Quoter { return jdbc.Quoter{D: d.sql, Always: d.quote} }

func (d dialect) ident(s string) string { return d.quoter().Ident(s) }

// table is the table as written in SQL.
func (d dialect) table(t tableID) string { return d.quoter().Table(t) }

// quotedTable is the table quoted whatever quote.sql.identifiers says.
func (d dialect) quotedTable(t tableID) string {
	return jdbc.Quoter{D: d.sql, Always: true}.Table(t)
}

// placeholder returns the n-th (1-based) bind parameter.
func (d dialect) placeholder(n int) string { return d.sql.Placeholder(n) }

// bindTime turns an instant into the parameter that compares correctly with
// the tracking columns, whose zone-less values are wall clocks in db.timezone
// (the session time zone is db.timezone).
func (d dialect) bindTime(t time.Time) any { return d.sql.bindTime(t.In(d.zone)) }

// wallToInstant reads a zone-less value returned by the driver (wall clock
// carried in a UTC time.Time) as a wall clock in db.timezone.
func (d dialect) wallToInstant(t time.Time) time.Time { return wallToInstant(t, d.zone) }

func wallToInstant(t time.Time, zone *time.Location) time.Time {
	if zone == time.UTC {
		return t.UTC()
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone).UTC()
}

// dbNow returns the database's current time.
func (d dialect) dbNow(ctx context.Context, db *sqlx.DB) (time.Time, error) {
	return d.sql.now(ctx, db, d.zone)
}

// clockAndOldestTx returns the database's current time and a lower bound
// of the start of the oldest transaction that may still write (nil when
// there is none).
func (d dialect) clockAndOldestTx(ctx context.Context, db *sqlx.DB) (time.Time, *time.Time, error) {
	return d.sql.clockAndOldestTx(ctx, db, d.zone)
}

// checkSafeWindowAccess makes sure the safe windows can see every open
// transaction; without that the window would silently guard nothing, so
// the task refuses to start.
func (d dialect) checkSafeWindowAccess(ctx context.Context, db *sqlx.DB) error {
	return d.sql.checkSafeWindowAccess(ctx, db, d.zone)
}

// trxSlack: see flavorSQL.trxSlack.
func (d dialect) trxSlack() time.Duration { return d.sql.trxSlack() }

// missingTable reports whether err says the table does not exist.
func (d dialect) missingTable(err error) bool {
	return errors.Is(err, errTableMissing) || d.sql.Classify(err) == jdbc.ErrMissingTable
}

// transient reports whether an error is worth retrying: lost connections,
// deadlocks, lock timeouts, server shutdowns (jdbc.Dialect.Classify).
func (d dialect) transient(err error) bool { return d.sql.Classify(err) == jdbc.ErrTransient }

// openSource opens the source database with the session settings; log
// (nil: slog.Default) gets the connection's warnings, such as a PREFERRED
// TLS connection that fell back to plaintext.
func openSource(ctx context.Context, c *sourceConfig, log *slog.Logger) (*sqlx.DB, dialect, error) {
	conn, err := jdbc.ParseURL(c.url, c.user, c.pw)
	if err != nil {
		return nil, dialect{}, err
	}
	conn.Log = log
	d, err := newDialect(conn.Flavor, c.quote, c.zone)
	if err != nil {
		return nil, d, err
	}
	dsn, err := d.sql.sessionDSN(conn, c.zoneName, c.zone)
	if err != nil {
		return nil, d, err
	}
	sc := *conn
	sc.DSN = dsn
	db, err := sc.Open(ctx, c.attempts, c.backoff)
	if err != nil {
		if retry, ok := d.sql.reopenDSN(dsn, c.zone, err); ok {
			sc.DSN = retry
			db, err = sc.Open(ctx, c.attempts, c.backoff)
		}
	}
	if err != nil {
		return nil, d, err
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, d, nil
}

// listTables lists tables visible through catalog.pattern/schema.pattern
// and table.types, ordered by FQN.
func (d dialect) listTables(ctx context.Context, db *sqlx.DB, c *sourceConfig) ([]tableID, error) {
	types := map[string]bool{}
	for _, t := range c.tableTypes {
		switch strings.ToUpper(strings.TrimSpace(t)) {
		case "TABLE":
			types["BASE TABLE"] = true
			types["SYSTEM VERSIONED"] = true
		case "VIEW":
			types["VIEW"] = true
		case "SYSTEM TABLE":
			types["SYSTEM VIEW"] = true
		case "LOCAL TEMPORARY", "GLOBAL TEMPORARY":
			types["LOCAL TEMPORARY"] = true
			types["TEMPORARY"] = true
		}
	}
	q, args := d.sql.listTablesSQL(c)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []tableID
	for rows.Next() {
		var schemaName, name, typ string
		if err := rows.Scan(&schemaName, &name, &typ); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if !types[strings.ToUpper(typ)] {
			continue
		}
		out = append(out, d.sql.listedTable(schemaName, name))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}

// columnInfo is catalog metadata for one column.
type columnInfo struct {
	Name          string
	Nullable      bool
	AutoIncrement bool
	PKPos         int // 1-based position in the primary key, 0 if not part of it
}

// columns reads a table's columns from the catalog, in ordinal order.
func (d dialect) columns(ctx context.Context, db *sqlx.DB, t tableID) ([]columnInfo, error) {
	q, args := d.sql.columnsSQL(t)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t.String(), err)
	}
	defer rows.Close()
	var out []columnInfo
	for rows.Next() {
		var ci columnInfo
		var pk int64
		if err := rows.Scan(&ci.Name, &ci.Nullable, &ci.AutoIncrement, &pk); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", t.String(), err)
		}
		ci.PKPos = int(pk)
		out = append(out, ci)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t.String(), err)
	}
	return out, nil
}
