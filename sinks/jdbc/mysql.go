package jdbcsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
	"github.com/tributary-cdc/tributary/schema"
)

// mysqlDialect covers MySQL and MariaDB.
type mysqlDialect struct {
	standardSQL
	mariaDB   bool // MariaDB allows literal DEFAULTs on TEXT/BLOB/JSON; MySQL 8 wants (expr)
	maxPacket int  // max_allowed_packet in bytes, 0 until probed
}

// session runs every session in strict mode (mysqlStrictConn).
func (d *mysqlDialect) session(c *jdbc.Conn) (*jdbc.Conn, error) { return mysqlStrictConn(c) }

// probe tells MariaDB from MySQL and reads max_allowed_packet.
func (d *mysqlDialect) probe(ctx context.Context, db sqlx.QueryerContext) {
	d.mariaDB = mysqlIsMariaDB(ctx, db)
	d.maxPacket = mysqlMaxPacket(ctx, db)
}

// maxStatementBytes keeps a statement under max_allowed_packet (the driver
// interpolates parameters client-side).
func (d *mysqlDialect) maxStatementBytes() int { return d.maxPacket / 2 }

// writeConns is 2 connections at READ COMMITTED. The server runs each
// statement on one thread while the sink waits for it, so on a machine
// with a core to spare two writers each upserting half a 3000-row batch
// are faster (BenchmarkWriteConns, 2 cores shared with other work: 101k
// rows/s on one connection, 149k on two, 82–187k on three, the spread of
// the machine's load; fully loaded, 90k on one, 83k on two). READ
// COMMITTED takes no gap locks for the deletes of keys not in the table (a
// delete's gap lock on an empty table's supremum blocks every other
// writer's inserts, and two such deadlock); what remains, the next-key
// locks of duplicate-key checks, only make a writer wait for the one with
// the next range of keys, never in a cycle.
func (d *mysqlDialect) writeConns() (int, sql.IsolationLevel) { return 2, sql.LevelReadCommitted }

// exactConflictKey is false: ON DUPLICATE KEY fires on any unique index,
// so one on a subset of the key columns suffices.
func (d *mysqlDialect) exactConflictKey() bool { return false }

// bind stores io.debezium.data.Bits of 1 to 64 bits as the BIT(n) number
// (little-endian bytes); longer ones stay bytes.
func (d *mysqlDialect) bind(_ convCtx, s *schema.Schema) (convFunc, bool, error) {
	if s.Name != schema.DebeziumBits || s.Type != schema.TypeBytes {
		return nil, false, nil
	}
	if n := bitsLength(s); n < 1 || n > 64 {
		return nil, false, nil
	}
	return func(v any) (any, error) {
		b, ok := v.([]byte)
		if !ok {
			return nil, badValue(v, s)
		}
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		return u, nil
	}, true, nil
}

func (d *mysqlDialect) columnType(s *schema.Schema, key bool, keyLen int) (string, error) {
	switch s.Name {
	case schema.DecimalName:
		scale, err := schema.DecimalScale(s)
		if err != nil {
			return "", err
		}
		if scale < 0 {
			scale = 0
		}
		if scale > 30 {
			return "", fmt.Errorf("decimal scale %d exceeds MySQL's maximum of 30", scale)
		}
		p := decimalPrecision(s)
		if p == 0 || p > 65 || p < int(scale) {
			p = 65
		}
		return fmt.Sprintf("DECIMAL(%d,%d)", p, scale), nil
	case schema.DebeziumVariableScaleDec:
		return "DECIMAL(65,30)", nil
	case schema.DateName, schema.DebeziumDate:
		return "DATE", nil
	case schema.TimeName, schema.DebeziumTime:
		return "TIME(3)", nil
	case schema.DebeziumMicroTime, schema.DebeziumNanoTime, schema.DebeziumZonedTime:
		return "TIME(6)", nil
	case schema.TimestampName, schema.DebeziumTimestamp:
		return "DATETIME(3)", nil
	case schema.DebeziumMicroTimestamp, schema.DebeziumNanoTimestamp, schema.DebeziumZonedTimestamp:
		return "DATETIME(6)", nil
	case schema.DebeziumYear:
		return "INT", nil
	case schema.DebeziumUUID:
		if s.Type == schema.TypeString {
			return "CHAR(36)", nil
		}
	case schema.DebeziumJSON:
		if s.Type == schema.TypeString && !key {
			return "JSON", nil
		}
	case schema.DebeziumBits:
		if n := bitsLength(s); s.Type == schema.TypeBytes && n >= 1 && n <= 64 {
			return fmt.Sprintf("BIT(%d)", n), nil
		}
	}
	switch s.Type {
	case schema.TypeInt8:
		return "TINYINT", nil
	case schema.TypeInt16:
		return "SMALLINT", nil
	case schema.TypeInt32:
		return "INT", nil
	case schema.TypeInt64:
		return "BIGINT", nil
	case schema.TypeFloat32:
		return "FLOAT", nil
	case schema.TypeFloat64:
		return "DOUBLE", nil
	case schema.TypeBoolean:
		return "TINYINT", nil
	case schema.TypeString:
		if key {
			return fmt.Sprintf("VARCHAR(%d)", keyLen), nil
		}
		return "LONGTEXT", nil
	case schema.TypeBytes:
		if key {
			return fmt.Sprintf("VARBINARY(%d)", keyLen), nil
		}
		return "LONGBLOB", nil
	case schema.TypeArray, schema.TypeMap, schema.TypeStruct:
		if key {
			return "", fmt.Errorf("%s cannot be a primary-key column", s)
		}
		return "JSON", nil
	}
	return "", unsupportedType(s)
}

func (d *mysqlDialect) literal(v any, colType string) string {
	lit := genericLiteral(v, true)
	if !d.mariaDB && lit != "NULL" {
		switch {
		case strings.HasSuffix(colType, "TEXT"), strings.HasSuffix(colType, "BLOB"), colType == "JSON":
			return "(" + lit + ")"
		}
	}
	return lit
}

// upsertSQL is INSERT … ON DUPLICATE KEY UPDATE c=VALUES(c)… (the keys
// themselves when there is nothing else to set).
func (d *mysqlDialect) upsertSQL(w *sqlWriter, table string, keys, nonKeys []string, rows int) {
	d.insertSQL(w, table, append(append([]string(nil), keys...), nonKeys...), rows)
	w.WriteString(" ON DUPLICATE KEY UPDATE ")
	cols := nonKeys
	if len(cols) == 0 {
		cols = keys
	}
	w.each(cols, ",", func(c string) { w.WriteString(c + "=VALUES(" + c + ")") })
}

func (d *mysqlDialect) offsetsDDL(table string, c offsetCols) string {
	k := c.key
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
%s VARCHAR(190) NOT NULL,
%s VARCHAR(190) NOT NULL,
%s VARCHAR(190) NOT NULL,
%s INT NOT NULL,
%s BIGINT NOT NULL,
PRIMARY KEY(%s,%s,%s,%s))`, table, k[0], k[1], k[2], k[3], c.offset, k[0], k[1], k[2], k[3])
}

// offsetsUpsertSQL keeps the greater offset (GREATEST with VALUES()).
func (d *mysqlDialect) offsetsUpsertSQL(w *sqlWriter, table string, c offsetCols, rows int) {
	offsetsInsert(w, table, "", c, rows)
	fmt.Fprintf(w, " ON DUPLICATE KEY UPDATE %s = GREATEST(%s, VALUES(%s))", c.offset, c.offset, c.offset)
}

// offsetsRowSQL updates an existing row to itself: that takes the row's
// exclusive lock at once (INSERT IGNORE would take a shared one, and two
// owners upgrading it would deadlock).
func (d *mysqlDialect) offsetsRowSQL(w *sqlWriter, table string, c offsetCols) {
	offsetsMissingRow(w, table, c)
	fmt.Fprintf(w, " ON DUPLICATE KEY UPDATE %s = %s", c.offset, c.offset)
}

// truncateSQL uses DELETE: MySQL's TRUNCATE commits implicitly, which would
// break the one-transaction-per-batch rule.
func (d *mysqlDialect) truncateSQL(table string) string { return "DELETE FROM " + table }

func (d *mysqlDialect) readTable(ctx context.Context, db sqlx.QueryerContext, id tableID) (*tableMeta, error) {
	var cat any
	if id.Catalog != "" {
		cat = id.Catalog
	}
	var ttype sql.NullString
	err := sqlx.GetContext(ctx, db, &ttype,
		`SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`, cat, id.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", id, err)
	}
	m := &tableMeta{id: id, view: strings.Contains(strings.ToUpper(ttype.String), "VIEW")}
	rows, err := db.QueryxContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT IS NOT NULL, COALESCE(NUMERIC_SCALE, -1)
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, cat, id.Name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", id, err)
	}
	for rows.Next() {
		c := &colMeta{}
		var nullable string
		if err := rows.Scan(&c.name, &c.dataType, &c.fullType, &nullable, &c.hasDefault, &c.scale); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns of %s: %w", id, err)
		}
		c.dataType = strings.ToLower(c.dataType)
		c.fullType = strings.ToLower(c.fullType)
		c.nullable = strings.EqualFold(nullable, "YES")
		c.unsigned = strings.Contains(c.fullType, "unsigned")
		m.cols = append(m.cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", id, err)
	}
	if len(m.cols) == 0 {
		return nil, nil
	}
	rows, err = db.QueryxContext(ctx, `SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`, cat, id.Name)
	if err != nil {
		return nil, fmt.Errorf("read indexes of %s: %w", id, err)
	}
	byIndex := map[string]int{}
	for rows.Next() {
		var idx, col string
		if err := rows.Scan(&idx, &col); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read indexes of %s: %w", id, err)
		}
		addUniqueColumn(m, byIndex, idx, col, idx == "PRIMARY")
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read indexes of %s: %w", id, err)
	}
	m.index()
	return m, nil
}

// mysqlVersion tells MariaDB from MySQL.
func mysqlIsMariaDB(ctx context.Context, db sqlx.QueryerContext) bool {
	var v string
	if err := sqlx.GetContext(ctx, db, &v, "SELECT VERSION()"); err != nil {
		return true
	}
	return strings.Contains(strings.ToLower(v), "mariadb")
}

// mysqlMaxPacket reads max_allowed_packet (bytes), defaulting to 4 MiB.
func mysqlMaxPacket(ctx context.Context, db sqlx.QueryerContext) int {
	var v string
	if err := sqlx.GetContext(ctx, db, &v, "SELECT @@max_allowed_packet"); err != nil {
		return 4 << 20
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 4 << 20
	}
	return n
}

// mysqlStrictConn returns c with its DSN changed so that every session the
// pool opens runs in strict mode: the driver sends its DSN parameters as one
// SET on each new connection, and sql_mode there adds STRICT_ALL_TABLES to
// the session's starting modes (the server's global ones, or the value the
// DSN already asked for). An oversized value or a NULL into a NOT NULL column
// is then an error, not a truncation or an implicit default with a warning,
// whatever the server's default (what jdbcCompliantTruncation gives
// Confluent's sink through the MySQL JDBC driver).
func mysqlStrictConn(c *jdbc.Conn) (*jdbc.Conn, error) {
	cfg, err := mysql.ParseDSN(c.DSN)
	if err != nil {
		return nil, fmt.Errorf("strict sql_mode for the MySQL session: %w", err)
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	base := "@@SESSION.sql_mode"
	if v, ok := cfg.Params["sql_mode"]; ok {
		base = "(" + v + ")"
	}
	cfg.Params["sql_mode"] = "CONCAT_WS(',', NULLIF(" + base + ", ''), 'STRICT_ALL_TABLES')"
	out := *c
	out.DSN = cfg.FormatDSN()
	return &out, nil
}

// family sorts a column by its DATA_TYPE; unsigned integers are one
// width wider.
func (d *mysqlDialect) family(cm *colMeta) (colFamily, int) {
	dt := cm.dataType
	u := 0
	if cm.unsigned {
		u = 1
	}
	switch dt {
	case "tinyint":
		return famInt, []int{8, 16}[u]
	case "smallint":
		return famInt, []int{16, 32}[u]
	case "mediumint":
		return famInt, 32
	case "int", "integer":
		return famInt, []int{32, 64}[u]
	case "bigint":
		return famInt, 64
	case "year":
		return famInt, 32
	case "float":
		return famFloat, 32
	case "double", "real":
		return famFloat, 64
	case "decimal", "numeric":
		return famDecimal, 0
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json", "enum", "set":
		return famString, 0
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return famBytes, 0
	case "date", "time", "datetime", "timestamp":
		return famTemporal, 0
	}
	return famOther, 0
}
