package source

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/jdbc"
)

// postgresSQL is the source's SQL on PostgreSQL.
type postgresSQL struct{ jdbc.Dialect }

// pgAppName tags the source's PostgreSQL sessions; the safe-window guards
// ignore sessions so tagged (they only read).
const pgAppName = "tributary-jdbc-source"

// sessionDSN sets timezone and an application_name that the
// open-transaction guards recognise and skip.
func (postgresSQL) sessionDSN(c *jdbc.Conn, zoneName string, zone *time.Location) (string, error) {
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

func (postgresSQL) reopenDSN(string, *time.Location, error) (string, bool) { return "", false }

// bindTime: pgx binds timestamptz as the instant and timestamp as t's wall
// clock.
func (postgresSQL) bindTime(w time.Time) any { return w }

func (postgresSQL) now(ctx context.Context, db *sqlx.DB, _ *time.Location) (time.Time, error) {
	var t time.Time
	if err := db.QueryRowContext(ctx, "SELECT CURRENT_TIMESTAMP").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	return t.UTC(), nil
}

// trxSlack is 0: pg_stat_activity lists a transaction from its start.
func (postgresSQL) trxSlack() time.Duration { return 0 }

// clockAndOldestTx reads pg_stat_activity.xact_start of client sessions in
// this database, skipping this session and the source's own (tagged)
// sessions. All transactions count, not only those already holding an
// xid: a row written later in a transaction takes now() = xact_start as its
// timestamp.
func (postgresSQL) clockAndOldestTx(ctx context.Context, db *sqlx.DB, _ *time.Location) (time.Time, *time.Time, error) {
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

// checkSafeWindowAccess: PostgreSQL shows other users' xact_start in
// pg_stat_activity only to superusers and members of pg_read_all_stats.
func (postgresSQL) checkSafeWindowAccess(ctx context.Context, db *sqlx.DB, _ *time.Location) error {
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

// listTablesSQL lists the connected database's schemas (schema.pattern, or
// all but the system ones).
func (postgresSQL) listTablesSQL(c *sourceConfig) (string, []any) {
	var q string
	var args []any
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
	return q, args
}

func (postgresSQL) listedTable(schemaName, name string) tableID {
	return tableID{Schema: schemaName, Name: name}
}

func (postgresSQL) columnsSQL(t tableID) (string, []any) {
	return `SELECT a.attname, NOT a.attnotnull,
		            (a.attidentity <> '' OR COALESCE(pg_get_expr(ad.adbin, ad.adrelid), '') LIKE 'nextval(%'),
		            COALESCE((SELECT k.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) WHERE k.attnum = a.attnum), 0)
		       FROM pg_attribute a
		       JOIN pg_class cl ON cl.oid = a.attrelid
		       JOIN pg_namespace n ON n.oid = cl.relnamespace
		       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		       LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
		      WHERE n.nspname = $1 AND cl.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
		      ORDER BY a.attnum`, []any{t.Schema, t.Name}
}

func (postgresSQL) kind(c *colDesc, prec, scale int64, hasDec bool, numericMapping string) {
	c.postgresKind(prec, scale, hasDec, numericMapping)
}

func (c *colDesc) postgresKind(prec, scale int64, hasDec bool, mapping string) {
	switch c.DBType {
	case "INT2":
		c.Kind = kInt16
	case "INT4":
		c.Kind = kInt32
	case "INT8", "OID":
		c.Kind = kInt64
	case "FLOAT4":
		c.Kind = kFloat32
	case "FLOAT8":
		c.Kind = kFloat64
	case "BOOL", "BIT":
		c.Kind = kBool
	case "NUMERIC":
		// typmod -1 (NUMERIC without precision) reads as 65535/65531.
		if !hasDec || prec > 1000 {
			prec, scale = 0, 0
		}
		c.numericKind(prec, scale, mapping)
	case "TEXT", "VARCHAR", "BPCHAR", "CHAR", "NAME", "JSON", "JSONB", "UUID", "XML", "CITEXT":
		c.Kind = kString
	case "BYTEA":
		c.Kind = kBytes
	case "DATE":
		c.Kind, c.zoneLess = kDate, true
	case "TIME", "TIMETZ":
		c.Kind, c.zoneLess = kTime, true
	case "TIMESTAMP":
		c.Kind, c.zoneLess = kTimestamp, true
	case "TIMESTAMPTZ":
		c.Kind = kTimestamp
	default:
		c.Kind = kSkip
	}
}
