package verify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// flavor is the SQL family of a connection.
type flavor int

const (
	flavorMySQL flavor = iota
	flavorPostgres
)

func (f flavor) String() string {
	if f == flavorPostgres {
		return "postgres"
	}
	return "mysql"
}

// flavorOf tells MariaDB/MySQL from PostgreSQL by the sqlx driver name.
func flavorOf(db *sqlx.DB) (flavor, error) {
	switch strings.ToLower(db.DriverName()) {
	case "mysql", "mariadb":
		return flavorMySQL, nil
	case "pgx", "postgres", "postgresql", "pgx/v5", "pq":
		return flavorPostgres, nil
	}
	return 0, fmt.Errorf("verify: unsupported database driver %q (want mysql or pgx)", db.DriverName())
}

// column is one column of a table with its normalization class.
type column struct {
	name  string
	typ   string // database type name as the catalog reports it
	class class
}

// table is a table's identity and columns.
type table struct {
	flavor flavor
	schema string // "" = the connection's current database/schema
	name   string
	cols   []column
	pk     []string
}

func (t *table) String() string {
	if t.schema == "" {
		return t.name
	}
	return t.schema + "." + t.name
}

// quote quotes an identifier for t's flavor.
func (t *table) quote(id string) string {
	if t.flavor == flavorPostgres {
		return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
	}
	return "`" + strings.ReplaceAll(id, "`", "``") + "`"
}

// qualified is the quoted table name.
func (t *table) qualified() string {
	if t.schema == "" {
		return t.quote(t.name)
	}
	return t.quote(t.schema) + "." + t.quote(t.name)
}

// column finds a column by name, case-insensitively.
func (t *table) column(name string) (column, bool) {
	for _, c := range t.cols {
		if c.name == name {
			return c, true
		}
	}
	for _, c := range t.cols {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return column{}, false
}

// splitName splits "schema.table" (or "db.table"); a plain name has no
// schema. Quotes around the parts are removed.
func splitName(s string) (schema, name string) {
	s = strings.TrimSpace(s)
	unq := func(p string) string {
		p = strings.TrimSpace(p)
		if len(p) >= 2 && (p[0] == '"' && p[len(p)-1] == '"' || p[0] == '`' && p[len(p)-1] == '`') {
			return p[1 : len(p)-1]
		}
		return p
	}
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return unq(s[:i]), unq(s[i+1:])
	}
	return "", unq(s)
}

// loadTable reads a table's columns and primary key from the catalog.
func loadTable(ctx context.Context, conn *sql.Conn, f flavor, fullName string) (*table, error) {
	schema, name := splitName(fullName)
	if name == "" {
		return nil, errors.New("empty table name")
	}
	t := &table{flavor: f, schema: schema, name: name}
	var schemaArg any
	if schema != "" {
		schemaArg = schema
	}
	var colQuery, pkQuery string
	if f == flavorMySQL {
		colQuery = `SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`
		pkQuery = `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
			ORDER BY ORDINAL_POSITION`
	} else {
		colQuery = `SELECT a.attname, format_type(a.atttypid, a.atttypmod),
				CASE WHEN t.typtype = 'e' THEN 'enum' WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END
			FROM pg_attribute a
			JOIN pg_class c ON c.oid = a.attrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_type t ON t.oid = a.atttypid
			LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
			WHERE n.nspname = COALESCE($1::text, current_schema()) AND c.relname = $2
			  AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY a.attnum`
		pkQuery = `SELECT a.attname FROM pg_index i
			JOIN pg_class c ON c.oid = i.indrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE i.indisprimary AND n.nspname = COALESCE($1::text, current_schema()) AND c.relname = $2
			ORDER BY k.ord`
	}
	rows, err := conn.QueryContext(ctx, colQuery, schemaArg, name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t, err)
	}
	for rows.Next() {
		var c column
		var dataType string
		if err := rows.Scan(&c.name, &c.typ, &dataType); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns of %s: %w", t, err)
		}
		c.class = classify(f, c.typ, dataType)
		t.cols = append(t.cols, c)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("read columns of %s: %w", t, err)
	}
	rows.Close()
	if len(t.cols) == 0 {
		return nil, fmt.Errorf("table %s not found", t)
	}
	rows, err = conn.QueryContext(ctx, pkQuery, schemaArg, name)
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("read primary key of %s: %w", t, err)
		}
		t.pk = append(t.pk, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read primary key of %s: %w", t, err)
	}
	return t, nil
}

// orderExpr is the ORDER BY expression for key column c so that both
// systems return keys in the order compareKey expects: text by its UTF-8
// bytes, everything else naturally.
func (t *table) orderExpr(c column) string {
	q := t.quote(c.name)
	if !c.class.textOrdered() {
		return q
	}
	if t.flavor == flavorPostgres {
		if c.class == classUUID {
			return q
		}
		return q + ` COLLATE "C"`
	}
	return "CAST(CONVERT(" + q + " USING utf8mb4) AS BINARY)"
}

// session prepares a dedicated connection: UTC session time zone.
func session(ctx context.Context, conn *sql.Conn, f flavor) error {
	stmt := "SET time_zone = '+00:00'"
	if f == flavorPostgres {
		stmt = "SET TIME ZONE 'UTC'"
	}
	if _, err := conn.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("set session time zone: %w", err)
	}
	return nil
}
