package mysql

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	drv "github.com/go-sql-driver/mysql"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// querier is what a *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ErrConfiguration marks a server setting that prevents capture; the message
// names the setting to change.
var ErrConfiguration = errors.New("server configuration")

// ErrPositionPurged means the stored binlog position is no longer on the
// server.
var ErrPositionPurged = errors.New("binlog position no longer available")

// openDB opens the SQL pool used for information_schema and snapshots.
// Sessions run in UTC with utf8mb4 so TIMESTAMP values and strings arrive in
// the forms the converters expect.
func openDB(s *settings) (*sql.DB, error) {
	cfg := drv.NewConfig()
	cfg.User = s.user
	cfg.Passwd = s.password
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(s.host, strconv.Itoa(s.port))
	cfg.Timeout = s.connectTimeout
	cfg.Loc = time.UTC
	cfg.ParseTime = false
	cfg.InterpolateParams = false
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	cfg.Collation = "utf8mb4_general_ci"
	if s.tls != nil {
		cfg.TLS = s.tls.Clone()
		cfg.AllowFallbackToPlaintext = s.sslMode == "preferred"
	}
	c, err := drv.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", KeyHostname, KeyPort, err)
	}
	db := sql.OpenDB(c)
	db.SetMaxIdleConns(4)
	db.SetConnMaxLifetime(10 * time.Minute)
	return db, nil
}

// binlogTLS is the TLS config for the replication connection: the SQL
// pool's, or none when preferred found no TLS on the server.
func binlogTLS(s *settings, si *serverInfo) *tls.Config {
	if s.tls == nil || si.noTLS {
		return nil
	}
	return s.tls.Clone()
}

// serverInfo is what the task learns about the server at start.
type serverInfo struct {
	flavor   string // gmysql.MySQLFlavor or gmysql.MariaDBFlavor
	version  string
	charsets map[uint64]string // collation id → character set
	noTLS    bool              // database.ssl.mode=preferred and the server offers no TLS
}

// checkServer verifies the binlog settings CDC needs and detects the flavor.
func checkServer(ctx context.Context, db *sql.DB) (*serverInfo, error) {
	si := &serverInfo{flavor: gmysql.MySQLFlavor, charsets: map[uint64]string{}}
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&si.version); err != nil {
		err = fmt.Errorf("connect to the server (%s/%s/%s): %w", KeyHostname, KeyPort, KeyUser, err)
		var me *drv.MySQLError
		if errors.As(err, &me) || tlsstore.IsCertificateError(err) {
			return nil, err // access denied, a certificate that does not verify: retrying will not help
		}
		return nil, connector.Retriable(err)
	}
	if strings.Contains(strings.ToLower(si.version), "mariadb") {
		si.flavor = gmysql.MariaDBFlavor
	}
	vars := map[string]string{}
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','binlog_row_metadata','gtid_mode')")
	if err != nil {
		return nil, fmt.Errorf("read server variables: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read server variables: %w", err)
		}
		vars[strings.ToLower(k)] = strings.ToUpper(v)
	}
	rows.Close()
	var problems []string
	if vars["log_bin"] != "ON" && vars["log_bin"] != "1" {
		problems = append(problems, "binary logging is off: start the server with log_bin (e.g. --log-bin=mysql-bin)")
	}
	if f := vars["binlog_format"]; f != "ROW" {
		problems = append(problems, fmt.Sprintf("binlog_format is %q: set binlog_format=ROW", f))
	}
	if f := vars["binlog_row_image"]; f != "FULL" {
		problems = append(problems, fmt.Sprintf("binlog_row_image is %q: set binlog_row_image=FULL", f))
	}
	if f, ok := vars["binlog_row_metadata"]; !ok {
		problems = append(problems, "the server has no binlog_row_metadata setting (it needs MariaDB 10.5+ or MySQL 8.0.1+ with binlog_row_metadata=FULL)")
	} else if f != "FULL" {
		problems = append(problems, fmt.Sprintf("binlog_row_metadata is %q: set binlog_row_metadata=FULL so the binlog carries column names, signedness and primary keys", f))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfiguration, strings.Join(problems, "; "))
	}
	crows, err := db.QueryContext(ctx, "SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL AND CHARACTER_SET_NAME IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("read collations: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var id uint64
		var cs string
		if err := crows.Scan(&id, &cs); err != nil {
			return nil, fmt.Errorf("read collations: %w", err)
		}
		si.charsets[id] = cs
	}
	return si, crows.Err()
}

// tableInfo is information_schema's view of one table.
type tableInfo struct {
	db, name string
	cols     []infoColumn
	byName   map[string]*infoColumn
	pk       []string
	charset  string
	comment  string
}

// catalog caches tableInfo per table; entries are dropped on DDL.
type catalog struct {
	db     *sql.DB
	flavor string
	mu     sync.Mutex
	cache  map[string]*tableInfo // db.table → info (nil: table does not exist)
}

func newCatalog(db *sql.DB, flavor string) *catalog {
	return &catalog{db: db, flavor: flavor, cache: map[string]*tableInfo{}}
}

// info returns the cached information for a table, loading it if needed. A
// table that does not exist gives (nil, nil).
func (c *catalog) info(ctx context.Context, db, table string) (*tableInfo, error) {
	key := db + "." + table
	c.mu.Lock()
	ti, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return ti, nil
	}
	ti, err := loadTableInfo(ctx, c.db, c.flavor, db, table)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.cache[key] = ti
	c.mu.Unlock()
	return ti, nil
}

// invalidate forgets a table, or every table of db when table is "".
func (c *catalog) invalidate(db, table string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if table != "" {
		delete(c.cache, db+"."+table)
		return
	}
	for k := range c.cache {
		if strings.HasPrefix(k, db+".") {
			delete(c.cache, k)
		}
	}
}

var jsonCheckRe = regexp.MustCompile("(?i)^\\s*json_valid\\(\\s*`((?:[^`]|``)+)`\\s*\\)\\s*$")

// loadTableInfo reads one table's columns, primary key and defaults.
func loadTableInfo(ctx context.Context, q querier, flavor, db, table string) (*tableInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, DATA_TYPE, COLUMN_TYPE,
		CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_SET_NAME, COLUMN_KEY, EXTRA, COLUMN_COMMENT
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, db, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", db, table, err)
	}
	ti := &tableInfo{db: db, name: table, byName: map[string]*infoColumn{}}
	for rows.Next() {
		var ic infoColumn
		var def, charset sql.NullString
		var nullable string
		var charLen, prec, scale, dtp sql.NullInt64
		if err := rows.Scan(&ic.Name, &ic.Position, &def, &nullable, &ic.DataType, &ic.ColumnType, &charLen, &prec, &scale, &dtp, &charset, &ic.Key, &ic.Extra, &ic.Comment); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns of %s.%s: %w", db, table, err)
		}
		ic.Nullable = strings.EqualFold(nullable, "YES")
		if def.Valid {
			d := def.String
			if flavor != gmysql.MariaDBFlavor && !isNumericLiteral(d) && !strings.HasPrefix(strings.ToLower(d), "current_timestamp") && !strings.HasPrefix(d, "b'") {
				// MySQL reports literal defaults unquoted; MariaDB quotes them.
				d = "'" + strings.ReplaceAll(d, "'", "''") + "'"
			}
			ic.Default = &d
		}
		if charset.Valid {
			s := charset.String
			ic.Charset = &s
		}
		ic.CharMaxLen = nullInt(charLen)
		ic.NumPrec = nullInt(prec)
		ic.NumScale = nullInt(scale)
		ic.DTPrec = nullInt(dtp)
		ti.cols = append(ti.cols, ic)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", db, table, err)
	}
	if len(ti.cols) == 0 {
		return nil, nil
	}
	for i := range ti.cols {
		ti.byName[ti.cols[i].Name] = &ti.cols[i]
	}
	prows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, db, table)
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s.%s: %w", db, table, err)
	}
	for prows.Next() {
		var n string
		if err := prows.Scan(&n); err != nil {
			prows.Close()
			return nil, fmt.Errorf("read primary key of %s.%s: %w", db, table, err)
		}
		ti.pk = append(ti.pk, n)
	}
	prows.Close()
	if flavor == gmysql.MariaDBFlavor {
		crows, err := q.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
			WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, db, table)
		if err == nil {
			for crows.Next() {
				var clause string
				if crows.Scan(&clause) == nil {
					if m := jsonCheckRe.FindStringSubmatch(clause); m != nil {
						if ic := ti.byName[strings.ReplaceAll(m[1], "``", "`")]; ic != nil {
							ic.JSONCheck = true
						}
					}
				}
			}
			crows.Close()
		}
	}
	var coll, comment sql.NullString
	err = q.QueryRowContext(ctx, `SELECT t.TABLE_COLLATION, t.TABLE_COMMENT FROM information_schema.TABLES t
		WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?`, db, table).Scan(&coll, &comment)
	if err == nil {
		ti.comment = comment.String
		if coll.Valid {
			ti.charset, _, _ = strings.Cut(coll.String, "_")
		}
	}
	return ti, nil
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// columns turns the info into snapshot columns and primary-key indexes.
func (ti *tableInfo) columns() ([]column, []int) {
	cols := make([]column, len(ti.cols))
	for i, ic := range ti.cols {
		cols[i] = columnFromInfo(ic)
	}
	return cols, pkIndexes(cols, ti.pk)
}

func pkIndexes(cols []column, names []string) []int {
	var pk []int
	for _, n := range names {
		for i := range cols {
			if cols[i].name == n {
				pk = append(pk, i)
				break
			}
		}
	}
	if len(pk) != len(names) {
		return nil
	}
	return pk
}

// binlogFiles lists the binlog files the server still has.
func binlogFiles(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("SHOW BINARY LOGS: %w", err)
		}
		out = append(out, asString(vals[0]))
	}
	return out, rows.Err()
}

// currentPosition reads the server's current binlog position and GTID set.
func currentPosition(ctx context.Context, q querier, flavor string) (file string, pos uint32, gtids string, err error) {
	rows, err := q.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil {
		rows, err = q.QueryContext(ctx, "SHOW BINARY LOG STATUS")
		if err != nil {
			return "", 0, "", fmt.Errorf("read binlog position: %w", err)
		}
	}
	cols, _ := rows.Columns()
	found := false
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return "", 0, "", fmt.Errorf("read binlog position: %w", err)
		}
		file = asString(vals[0])
		p, _ := strconv.ParseUint(asString(vals[1]), 10, 32)
		pos = uint32(p)
		if flavor != gmysql.MariaDBFlavor && len(vals) >= 5 && vals[4] != nil {
			gtids = strings.ReplaceAll(asString(vals[4]), "\n", "")
		}
		found = true
	}
	rows.Close()
	if !found {
		return "", 0, "", fmt.Errorf("%w: SHOW MASTER STATUS returned nothing: binary logging is off", ErrConfiguration)
	}
	if flavor == gmysql.MariaDBFlavor {
		gtids, err = gtidAt(ctx, q, file, pos)
	}
	return file, pos, gtids, err
}

// gtidAt returns MariaDB's GTID position matching a binlog file/offset.
func gtidAt(ctx context.Context, q querier, file string, pos uint32) (string, error) {
	var g sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", file, pos).Scan(&g); err != nil {
		return "", fmt.Errorf("BINLOG_GTID_POS(%s, %d): %w", file, pos, err)
	}
	return g.String, nil
}

// listTables returns the captured base tables with their estimated row counts.
func listTables(ctx context.Context, q querier, f *filters) ([]tableRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES
		WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []tableRef
	for rows.Next() {
		var r tableRef
		if err := rows.Scan(&r.db, &r.name, &r.estimate); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if f.table(r.db, r.name) {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

type tableRef struct {
	db, name string
	estimate int64
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
