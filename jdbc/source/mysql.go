package source

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/jdbc"
)

// mysqlSQL is the source's SQL on MySQL and MariaDB.
type mysqlSQL struct{ jdbc.Dialect }

// sessionDSN sets time_zone, and a long net_write_timeout: a streamed
// result set may wait on the consumer between polls.
func (mysqlSQL) sessionDSN(c *jdbc.Conn, zoneName string, zone *time.Location) (string, error) {
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
}

// reopenDSN: a named zone unknown to the server (zone tables not loaded)
// is replaced by today's offset.
func (mysqlSQL) reopenDSN(dsn string, zone *time.Location, err error) (string, bool) {
	if zone == time.UTC || !strings.Contains(err.Error(), "time zone") {
		return "", false
	}
	cfg, _ := mysql.ParseDSN(dsn)
	cfg.Params["time_zone"] = "'" + fixedOffset(zone) + "'"
	return cfg.FormatDSN(), true
}

// bindTime hands go-sql-driver the wall clock: it formats in its loc (UTC).
func (mysqlSQL) bindTime(w time.Time) any {
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
}

// now reads NOW(6), a wall clock in the session time zone.
func (mysqlSQL) now(ctx context.Context, db *sqlx.DB, zone *time.Location) (time.Time, error) {
	var t time.Time
	if err := db.QueryRowContext(ctx, "SELECT NOW(6)").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	return wallToInstant(t, zone), nil
}

// trxSlack: a statement takes NOW() when it starts, but InnoDB lists its
// transaction only from its first row access.
func (mysqlSQL) trxSlack() time.Duration { return mysqlTrxSlack }

// checkSafeWindowAccess: SHOW ENGINE INNODB STATUS needs PROCESS, and is
// tried once.
func (d mysqlSQL) checkSafeWindowAccess(ctx context.Context, db *sqlx.DB, zone *time.Location) error {
	if _, _, err := d.clockAndOldestTx(ctx, db, zone); err != nil {
		return fmt.Errorf("timestamp.safe.window.enable / incrementing.safe.window.enable: %w (GRANT PROCESS ON *.* TO the connector's user)", err)
	}
	return nil
}

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

var (
	innodbTrxRE    = regexp.MustCompile(`^---TRANSACTION [^,]*, ACTIVE (?:\(PREPARED\) )?(\d+) sec`)
	innodbThreadRE = regexp.MustCompile(`^(?:MySQL|MariaDB) thread id (\d+),`)
)

// clockAndOldestTx reads the transaction list of SHOW ENGINE INNODB STATUS
// (always current, unlike information_schema.innodb_trx, a cache that is
// not refreshed while it is read more often than every 100 ms), skipping
// this session. "ACTIVE N sec" has second precision: the start is taken as
// now - (N+1) s. Needs the PROCESS privilege.
func (mysqlSQL) clockAndOldestTx(ctx context.Context, db *sqlx.DB, zone *time.Location) (time.Time, *time.Time, error) {
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
	now = wallToInstant(now, zone)
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

// listTablesSQL lists the URL's database, or catalog.pattern.
func (mysqlSQL) listTablesSQL(c *sourceConfig) (string, []any) {
	var q string
	var args []any
	q = "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE "
	if c.catalogPattern != nil {
		q += "table_schema LIKE ?"
		args = append(args, *c.catalogPattern)
	} else {
		// The URL's database; without one, every user database.
		q += "(table_schema = DATABASE() OR (DATABASE() IS NULL AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')))"
	}
	q += " ORDER BY table_schema, table_name"
	return q, args
}

func (mysqlSQL) listedTable(schemaName, name string) tableID {
	return tableID{Catalog: schemaName, Name: name}
}

func (mysqlSQL) columnsSQL(t tableID) (string, []any) {
	return `SELECT c.column_name, c.is_nullable = 'YES', c.extra LIKE '%auto_increment%',
		            COALESCE(k.ordinal_position, 0)
		       FROM information_schema.columns c
		       LEFT JOIN information_schema.key_column_usage k
		         ON k.table_schema = c.table_schema AND k.table_name = c.table_name
		        AND k.column_name = c.column_name AND k.constraint_name = 'PRIMARY'
		      WHERE c.table_schema = ? AND c.table_name = ?
		      ORDER BY c.ordinal_position`, []any{t.Catalog, t.Name}
}

func (mysqlSQL) kind(c *colDesc, prec, scale int64, hasDec bool, _ string) {
	c.mysqlKind(prec, scale, hasDec)
}

func (c *colDesc) mysqlKind(prec, scale int64, hasDec bool) {
	t := c.DBType
	unsigned := strings.HasPrefix(t, "UNSIGNED ")
	t = strings.TrimPrefix(t, "UNSIGNED ")
	switch t {
	case "TINYINT":
		c.Kind = pick(unsigned, kInt16, kInt8)
	case "SMALLINT":
		c.Kind = pick(unsigned, kInt32, kInt16)
	case "MEDIUMINT", "INT", "INTEGER":
		c.Kind = pick(unsigned, kInt64, kInt32)
	case "BIGINT":
		c.Kind = kInt64
	case "BIT":
		c.Kind = kInt8
	case "FLOAT":
		c.Kind = kFloat32
	case "DOUBLE", "REAL":
		c.Kind = kFloat64
	case "DECIMAL", "NUMERIC":
		// Connector/J reports DECIMAL, which numeric.mapping leaves alone.
		c.Kind, c.Scale = kDecimal, int32(scale)
		c.setPrecision(prec, hasDec)
	case "CHAR", "VARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET", "JSON":
		c.Kind = kString
	case "BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "GEOMETRY", "VECTOR":
		c.Kind = kBytes
	case "DATE", "YEAR":
		c.Kind, c.zoneLess = kDate, true
	case "TIME":
		c.Kind, c.zoneLess = kTime, true
	case "DATETIME", "TIMESTAMP":
		c.Kind, c.zoneLess = kTimestamp, true
	default:
		c.Kind = kSkip
	}
}
