package jdbcsink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
	"github.com/tributary-cdc/tributary/schema"
)

// postgresDialect is PostgreSQL.
type postgresDialect struct {
	quote bool
}

func (d *postgresDialect) flavor() jdbc.Flavor { return jdbc.Postgres }

func (d *postgresDialect) quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func (d *postgresDialect) param(b *strings.Builder, n int) {
	b.WriteByte('$')
	b.WriteString(strconv.Itoa(n))
}

func (d *postgresDialect) columnType(s *schema.Schema, key bool, _ int) (string, error) {
	switch s.Name {
	case schema.DecimalName:
		scale, err := schema.DecimalScale(s)
		if err != nil {
			return "", err
		}
		if p := decimalPrecision(s); p > 0 && p <= 1000 && scale >= 0 && int(scale) <= p {
			return fmt.Sprintf("NUMERIC(%d,%d)", p, scale), nil
		}
		return "DECIMAL", nil
	case schema.DebeziumVariableScaleDec:
		return "NUMERIC", nil
	case schema.DateName, schema.DebeziumDate:
		return "DATE", nil
	case schema.TimeName:
		return "TIME", nil
	case schema.DebeziumTime:
		return "TIME(3)", nil
	case schema.DebeziumMicroTime, schema.DebeziumNanoTime:
		return "TIME(6)", nil
	case schema.DebeziumZonedTime:
		return "TIMETZ", nil
	case schema.TimestampName:
		return "TIMESTAMP", nil
	case schema.DebeziumTimestamp:
		return "TIMESTAMP(3)", nil
	case schema.DebeziumMicroTimestamp, schema.DebeziumNanoTimestamp:
		return "TIMESTAMP(6)", nil
	case schema.DebeziumZonedTimestamp:
		return "TIMESTAMPTZ", nil
	case schema.DebeziumYear:
		return "INTEGER", nil
	case schema.DebeziumJSON:
		if s.Type == schema.TypeString {
			return "JSONB", nil
		}
	case schema.DebeziumUUID:
		if s.Type == schema.TypeString {
			return "UUID", nil
		}
	case schema.DebeziumXML:
		if s.Type == schema.TypeString {
			return "XML", nil
		}
	case schema.DebeziumInterval:
		if s.Type == schema.TypeString {
			return "INTERVAL", nil
		}
	case schema.DebeziumBits:
		if s.Type == schema.TypeBytes {
			if n := bitsLength(s); n > 0 {
				return fmt.Sprintf("BIT VARYING(%d)", n), nil
			}
			return "BIT VARYING", nil
		}
	}
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16:
		return "SMALLINT", nil
	case schema.TypeInt32:
		return "INTEGER", nil
	case schema.TypeInt64:
		return "BIGINT", nil
	case schema.TypeFloat32:
		return "REAL", nil
	case schema.TypeFloat64:
		return "DOUBLE PRECISION", nil
	case schema.TypeBoolean:
		return "BOOLEAN", nil
	case schema.TypeString:
		return "TEXT", nil
	case schema.TypeBytes:
		return "BYTEA", nil
	case schema.TypeArray:
		if key {
			return "", fmt.Errorf("%s cannot be a primary-key column", s)
		}
		if pgArrayElement(s.ValueSchema) {
			et, err := d.columnType(s.ValueSchema, false, 0)
			if err == nil {
				return et + "[]", nil
			}
		}
		return "JSONB", nil
	case schema.TypeMap, schema.TypeStruct:
		if key {
			return "", fmt.Errorf("%s cannot be a primary-key column", s)
		}
		return "JSONB", nil
	}
	return "", unsupportedType(s)
}

// pgArrayElement reports whether an array of s becomes a PostgreSQL array
// column (primitive elements); other arrays become JSONB.
func pgArrayElement(s *schema.Schema) bool {
	return s != nil && s.Type.IsPrimitive() && s.Name != schema.DebeziumVariableScaleDec
}

func (d *postgresDialect) literal(v any, _ string) string { return genericLiteral(v, false) }

func (d *postgresDialect) upsertSuffix(b *strings.Builder, keys, nonKeys []string) {
	b.WriteString(" ON CONFLICT (")
	b.WriteString(strings.Join(keys, ","))
	if len(nonKeys) == 0 {
		b.WriteString(") DO NOTHING")
		return
	}
	b.WriteString(") DO UPDATE SET ")
	for i, c := range nonKeys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c)
		b.WriteString("=EXCLUDED.")
		b.WriteString(c)
	}
}

func (d *postgresDialect) truncateSQL(table string) string { return "TRUNCATE TABLE " + table }

func (d *postgresDialect) readTable(ctx context.Context, db sqlx.QueryerContext, id tableID) (*tableMeta, error) {
	var sch any
	if id.schema != "" {
		sch = id.schema
	}
	rows, err := db.QueryxContext(ctx, `SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, a.atthasdef,
		CASE WHEN t.typname = 'numeric' AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 ELSE -1 END,
		c.relkind::text
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
	WHERE n.nspname = COALESCE($1::text, current_schema()) AND c.relname = $2 AND c.relkind IN ('r','p','v','m','f')
	ORDER BY a.attnum`, sch, id.name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", id, err)
	}
	m := &tableMeta{id: id}
	for rows.Next() {
		c := &colMeta{}
		var kind string
		if err := rows.Scan(&c.name, &c.dataType, &c.fullType, &c.nullable, &c.hasDefault, &c.scale, &kind); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns of %s: %w", id, err)
		}
		m.view = kind == "v" || kind == "m"
		m.cols = append(m.cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", id, err)
	}
	if len(m.cols) == 0 {
		return nil, nil
	}
	rows, err = db.QueryxContext(ctx, `SELECT i.indexrelid::bigint, i.indisprimary, a.attname
	FROM pg_catalog.pg_index i
	JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
	WHERE n.nspname = COALESCE($1::text, current_schema()) AND c.relname = $2 AND i.indisunique AND i.indpred IS NULL
	ORDER BY i.indexrelid, a.attnum`, sch, id.name)
	if err != nil {
		return nil, fmt.Errorf("read indexes of %s: %w", id, err)
	}
	byIndex := map[int64]int{}
	for rows.Next() {
		var idx int64
		var primary bool
		var col string
		if err := rows.Scan(&idx, &primary, &col); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read indexes of %s: %w", id, err)
		}
		addUniqueColumn(m, byIndex, idx, col, primary)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read indexes of %s: %w", id, err)
	}
	m.index()
	return m, nil
}

func (d *postgresDialect) classify(err error) errClass {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "40001",                                         // serialization failure
			pe.Code == "40P01",                                         // deadlock
			pe.Code == "55P03",                                         // lock not available
			pe.Code == "53300",                                         // too many connections
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutdown, crash, cannot connect now
			return errRetriable
		case pe.Code == "42P01", pe.Code == "42703": // undefined table, undefined column
			return errSchema
		}
		return errData
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return errRetriable
	}
	return classifyGeneric(err)
}
