package source

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/tributary-cdc/tributary/jdbc"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector/config"
)

// tableID names a table: Catalog is the MySQL database, Schema the
// PostgreSQL schema (one of them is empty).
type tableID struct {
	Catalog, Schema, Name string
}

// FQN is the unquoted fully-qualified name used in source partitions:
// db.table on MySQL/MariaDB, schema.table on PostgreSQL.
func (t tableID) FQN() string {
	var parts []string
	for _, p := range []string{t.Catalog, t.Schema, t.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// dialect holds what differs between MySQL/MariaDB and PostgreSQL.
type dialect struct {
	flavor jdbc.Flavor
	quote  bool
	zone   *time.Location
}

func (d dialect) ident(s string) string {
	if !d.quote {
		return s
	}
	if d.flavor == jdbc.MySQL {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quotedFQN is the table as written in SQL.
func (d dialect) table(t tableID) string {
	var parts []string
	for _, p := range []string{t.Catalog, t.Schema, t.Name} {
		if p != "" {
			parts = append(parts, d.ident(p))
		}
	}
	return strings.Join(parts, ".")
}

// placeholder returns the n-th (1-based) bind parameter.
func (d dialect) placeholder(n int) string {
	if d.flavor == jdbc.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// bindTime turns an instant into the parameter that compares correctly with
// the tracking columns, whose zone-less values are wall clocks in db.timezone
// (the session time zone is db.timezone).
func (d dialect) bindTime(t time.Time) any {
	w := t.In(d.zone)
	if d.flavor == jdbc.MySQL {
		// go-sql-driver formats in its loc (UTC): hand it the wall clock.
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
	}
	// pgx binds timestamptz as the instant and timestamp as t's wall clock.
	return w
}

// wallToInstant reads a zone-less value returned by the driver (wall clock
// carried in a UTC time.Time) as a wall clock in db.timezone.
func (d dialect) wallToInstant(t time.Time) time.Time {
	if d.zone == time.UTC {
		return t.UTC()
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), d.zone).UTC()
}

// sessionDSN returns the connection's DSN with the session set up for the
// source: session time zone db.timezone, and on PostgreSQL an
// application_name that the open-transaction guards recognise and skip.
func sessionDSN(c *jdbc.Conn, zoneName string, zone *time.Location) (string, error) {
	switch c.Flavor {
	case jdbc.MySQL:
		cfg, err := mysql.ParseDSN(c.DSN)
		if err != nil {
			return "", fmt.Errorf("connection.url: %w", config.RedactURLError(err))
		}
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["time_zone"] = "'" + mysqlZone(zoneName, zone) + "'"
		// A streamed result set may wait on the consumer between polls.
		cfg.Params["net_write_timeout"] = "3600"
		return cfg.FormatDSN(), nil
	case jdbc.Postgres:
		tz := zoneName
		if zone == time.UTC {
			tz = "UTC"
		}
		if strings.Contains(c.DSN, "://") {
			u, err := url.Parse(c.DSN)
			if err != nil {
				return "", fmt.Errorf("connection.url: %w", config.RedactURLError(err))
			}
			q := u.Query()
			q.Set("timezone", tz)
			if q.Get("application_name") == "" {
				q.Set("application_name", pgAppName)
			}
			u.RawQuery = q.Encode()
			return u.String(), nil
		}
		return c.DSN + " timezone=" + jdbc.QuoteKV(tz) + " application_name=" + pgAppName, nil
	}
	return c.DSN, nil
}

// pgAppName tags the source's PostgreSQL sessions; the safe-window guards
// ignore sessions so tagged (they only read).
const pgAppName = "tributary-jdbc-source"

// mysqlZone renders db.timezone for SET time_zone: offsets as ±hh:mm (always
// available), named zones by name (needs the server's zone tables; the
// caller falls back to the current offset when that fails).
func mysqlZone(name string, zone *time.Location) string {
	if zone == time.UTC {
		return "+00:00"
	}
	if m := offsetZoneRE.FindStringSubmatch(strings.TrimSpace(name)); m != nil {
		return fixedOffset(zone)
	}
	return name
}

func fixedOffset(zone *time.Location) string {
	_, off := time.Now().In(zone).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%02d:%02d", sign, off/3600, (off%3600)/60)
}

// openSource opens the source database with the session settings.
func openSource(ctx context.Context, c *sourceConfig) (*sqlx.DB, dialect, error) {
	conn, err := jdbc.ParseURL(c.url, c.user, c.pw)
	if err != nil {
		return nil, dialect{}, err
	}
	d := dialect{flavor: conn.Flavor, quote: c.quote, zone: c.zone}
	dsn, err := sessionDSN(conn, c.zoneName, c.zone)
	if err != nil {
		return nil, d, err
	}
	sc := *conn
	sc.DSN = dsn
	db, err := sc.Open(ctx, c.attempts, c.backoff)
	if err != nil && conn.Flavor == jdbc.MySQL && c.zone != time.UTC && strings.Contains(err.Error(), "time zone") {
		// Named zone unknown to the server (zone tables not loaded): use
		// today's offset.
		cfg, _ := mysql.ParseDSN(dsn)
		cfg.Params["time_zone"] = "'" + fixedOffset(c.zone) + "'"
		sc.DSN = cfg.FormatDSN()
		db, err = sc.Open(ctx, c.attempts, c.backoff)
	}
	if err != nil {
		return nil, d, err
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, d, nil
}

// dbNow returns the database's current time.
func (d dialect) dbNow(ctx context.Context, db *sqlx.DB) (time.Time, error) {
	var t time.Time
	q := "SELECT CURRENT_TIMESTAMP"
	if d.flavor == jdbc.MySQL {
		q = "SELECT NOW(6)"
	}
	if err := db.QueryRowContext(ctx, q).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	if d.flavor == jdbc.MySQL {
		return d.wallToInstant(t), nil
	}
	return t.UTC(), nil
}

// clockAndOldestTx returns the database's current time and a lower bound
// of the start of the oldest transaction that may still write (nil when
// there is none).
//
// MySQL/MariaDB: the transaction list of SHOW ENGINE INNODB STATUS (always
// current, unlike information_schema.innodb_trx, a cache that is not
// refreshed while it is read more often than every 100 ms), skipping this
// session. "ACTIVE N sec" has second precision: the start is taken as
// now - (N+1) s. Needs the PROCESS privilege.
//
// PostgreSQL: pg_stat_activity.xact_start of client sessions in this
// database, skipping this session and the source's own (tagged) sessions.
// All transactions count, not only those already holding an xid: a row
// written later in a transaction takes now() = xact_start as its timestamp.
func (d dialect) clockAndOldestTx(ctx context.Context, db *sqlx.DB) (time.Time, *time.Time, error) {
	if d.flavor == jdbc.MySQL {
		return d.mysqlClockAndOldestTx(ctx, db)
	}
	var now time.Time
	var oldest sql.NullTime
	q := `SELECT clock_timestamp(), (SELECT min(xact_start) FROM pg_stat_activity
	      WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND datname = current_database()
	        AND backend_type = 'client backend' AND coalesce(application_name, '') <> '` + pgAppName + `')`
	if err := db.QueryRowContext(ctx, q).Scan(&now, &oldest); err != nil {
		return time.Time{}, nil, fmt.Errorf("read the database clock and open transactions: %w", err)
	}
	now = now.UTC()
	if oldest.Valid {
		t := oldest.Time.UTC()
		return now, &t, nil
	}
	return now, nil, nil
}

// checkSafeWindowAccess makes sure the safe windows can see every open
// transaction. PostgreSQL shows other users' xact_start in pg_stat_activity
// only to superusers and members of pg_read_all_stats; without that the
// window would silently guard nothing, so the task refuses to start.
// MySQL/MariaDB: SHOW ENGINE INNODB STATUS needs PROCESS, and is tried once.
func (d dialect) checkSafeWindowAccess(ctx context.Context, db *sqlx.DB) error {
	if d.flavor == jdbc.MySQL {
		if _, _, err := d.mysqlClockAndOldestTx(ctx, db); err != nil {
			return fmt.Errorf("timestamp.safe.window.enable / incrementing.safe.window.enable: %w (GRANT PROCESS ON *.* TO the connector's user)", err)
		}
		return nil
	}
	var user string
	var allowed bool
	q := `SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
	        OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')`
	if err := db.QueryRowContext(ctx, q).Scan(&user, &allowed); err != nil {
		return fmt.Errorf("timestamp.safe.window.enable / incrementing.safe.window.enable: check access to pg_stat_activity: %w", err)
	}
	if !allowed {
		return fmt.Errorf("timestamp.safe.window.enable / incrementing.safe.window.enable: user %q cannot see other sessions' transactions in pg_stat_activity, so the safe window would guard nothing: GRANT pg_read_all_stats TO %s (or turn the safe window off)", user, quoteIdent(user))
	}
	return nil
}

// quoteIdent quotes a PostgreSQL identifier for a message users paste.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

var (
	innodbTrxRE    = regexp.MustCompile(`^---TRANSACTION [^,]*, ACTIVE (?:\(PREPARED\) )?(\d+) sec`)
	innodbThreadRE = regexp.MustCompile(`^(?:MySQL|MariaDB) thread id (\d+),`)
)

func (d dialect) mysqlClockAndOldestTx(ctx context.Context, db *sqlx.DB) (time.Time, *time.Time, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("read open transactions: %w", err)
	}
	defer conn.Close()
	var now time.Time
	var self int64
	if err := conn.QueryRowContext(ctx, "SELECT NOW(6), CONNECTION_ID()").Scan(&now, &self); err != nil {
		return time.Time{}, nil, fmt.Errorf("read the database clock: %w", err)
	}
	now = d.wallToInstant(now)
	var typ, name, status string
	if err := conn.QueryRowContext(ctx, "SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &status); err != nil {
		return time.Time{}, nil, fmt.Errorf("read open transactions (SHOW ENGINE INNODB STATUS needs the PROCESS privilege): %w", err)
	}
	if !strings.Contains(status, "END OF INNODB MONITOR OUTPUT") {
		return time.Time{}, nil, fmt.Errorf("read open transactions: SHOW ENGINE INNODB STATUS output is truncated")
	}
	var oldest *time.Time
	active := -1 // seconds of the transaction whose lines are being read
	for _, line := range strings.Split(status, "\n") {
		if strings.HasPrefix(line, "---TRANSACTION ") {
			active = -1
			if m := innodbTrxRE.FindStringSubmatch(line); m != nil {
				active, _ = strconv.Atoi(m[1])
			}
			continue
		}
		if active < 0 {
			continue
		}
		if m := innodbThreadRE.FindStringSubmatch(line); m != nil {
			tid, _ := strconv.ParseInt(m[1], 10, 64)
			if tid != self {
				start := now.Add(-time.Duration(active+1) * time.Second)
				if oldest == nil || start.Before(*oldest) {
					oldest = &start
				}
			}
			active = -1
		}
	}
	return now, oldest, nil
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
	var q string
	var args []any
	if d.flavor == jdbc.MySQL {
		q = "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE "
		if c.catalogPattern != nil {
			q += "table_schema LIKE ?"
			args = append(args, *c.catalogPattern)
		} else {
			// The URL's database; without one, every user database.
			q += "(table_schema = DATABASE() OR (DATABASE() IS NULL AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')))"
		}
		q += " ORDER BY table_schema, table_name"
	} else {
		q = `SELECT table_schema, table_name, table_type FROM information_schema.tables
		      WHERE table_catalog = current_database()`
		if c.catalogPattern != nil {
			q += " AND table_catalog LIKE $1"
			args = append(args, *c.catalogPattern)
		}
		if c.schemaPattern != nil {
			q += fmt.Sprintf(" AND table_schema LIKE $%d", len(args)+1)
			args = append(args, *c.schemaPattern)
		} else {
			q += " AND table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg\\_toast%' AND table_schema NOT LIKE 'pg\\_temp%'"
		}
		q += " ORDER BY table_schema, table_name"
	}
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
		if d.flavor == jdbc.MySQL {
			out = append(out, tableID{Catalog: schemaName, Name: name})
		} else {
			out = append(out, tableID{Schema: schemaName, Name: name})
		}
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
	var q string
	var args []any
	if d.flavor == jdbc.MySQL {
		q = `SELECT c.column_name, c.is_nullable = 'YES', c.extra LIKE '%auto_increment%',
		            COALESCE(k.ordinal_position, 0)
		       FROM information_schema.columns c
		       LEFT JOIN information_schema.key_column_usage k
		         ON k.table_schema = c.table_schema AND k.table_name = c.table_name
		        AND k.column_name = c.column_name AND k.constraint_name = 'PRIMARY'
		      WHERE c.table_schema = ? AND c.table_name = ?
		      ORDER BY c.ordinal_position`
		args = []any{t.Catalog, t.Name}
	} else {
		q = `SELECT a.attname, NOT a.attnotnull,
		            (a.attidentity <> '' OR COALESCE(pg_get_expr(ad.adbin, ad.adrelid), '') LIKE 'nextval(%'),
		            COALESCE((SELECT k.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) WHERE k.attnum = a.attnum), 0)
		       FROM pg_attribute a
		       JOIN pg_class cl ON cl.oid = a.attrelid
		       JOIN pg_namespace n ON n.oid = cl.relnamespace
		       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		       LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
		      WHERE n.nspname = $1 AND cl.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
		      ORDER BY a.attnum`
		args = []any{t.Schema, t.Name}
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t.FQN(), err)
	}
	defer rows.Close()
	var out []columnInfo
	for rows.Next() {
		var ci columnInfo
		var pk int64
		if err := rows.Scan(&ci.Name, &ci.Nullable, &ci.AutoIncrement, &pk); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", t.FQN(), err)
		}
		ci.PKPos = int(pk)
		out = append(out, ci)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t.FQN(), err)
	}
	return out, nil
}
