package jdbcsink

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/schema"
)

// postgresDialect is PostgreSQL.
type postgresDialect struct {
	standardSQL
}

// exactConflictKey is true: ON CONFLICT (k…) infers a unique index on
// exactly those columns.
func (d *postgresDialect) exactConflictKey() bool { return true }

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

// upsertSQL is INSERT … ON CONFLICT (k…) DO UPDATE SET c=EXCLUDED.c… (DO
// NOTHING when there is nothing else to set).
func (d *postgresDialect) upsertSQL(w *sqlWriter, table string, keys, nonKeys []string, rows int) {
	d.insertSQL(w, table, append(append([]string(nil), keys...), nonKeys...), rows)
	onConflict(w, keys, nonKeys)
}

// onConflict writes ON CONFLICT (k…) DO UPDATE SET c=EXCLUDED.c… / DO NOTHING.
func onConflict(w *sqlWriter, keys, nonKeys []string) {
	w.WriteString(" ON CONFLICT (")
	w.WriteString(strings.Join(keys, ","))
	if len(nonKeys) == 0 {
		w.WriteString(") DO NOTHING")
		return
	}
	w.WriteString(") DO UPDATE SET ")
	w.each(nonKeys, ",", func(c string) { w.WriteString(c + "=EXCLUDED." + c) })
}

func (d *postgresDialect) offsetsDDL(table string, c offsetCols) string {
	k := c.key
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
%s TEXT NOT NULL,
%s TEXT NOT NULL,
%s TEXT NOT NULL,
%s INTEGER NOT NULL,
%s BIGINT NOT NULL,
PRIMARY KEY(%s,%s,%s,%s))`, table, k[0], k[1], k[2], k[3], c.offset, k[0], k[1], k[2], k[3])
}

// offsetsUpsertSQL keeps the greater offset (GREATEST with EXCLUDED).
func (d *postgresDialect) offsetsUpsertSQL(w *sqlWriter, table string, c offsetCols, rows int) {
	offsetsInsert(w, table, "o", c, rows)
	fmt.Fprintf(w, " ON CONFLICT (%s) DO UPDATE SET %s = GREATEST(o.%s, EXCLUDED.%s)", strings.Join(c.key[:], ","), c.offset, c.offset, c.offset)
}

// offsetsRowSQL leaves an existing row alone; the SELECT … FOR UPDATE that
// follows locks it.
func (d *postgresDialect) offsetsRowSQL(w *sqlWriter, table string, c offsetCols) {
	offsetsMissingRow(w, table, c)
	fmt.Fprintf(w, " ON CONFLICT (%s) DO NOTHING", strings.Join(c.key[:], ","))
}

func (d *postgresDialect) readTable(ctx context.Context, db sqlx.QueryerContext, id tableID) (*tableMeta, error) {
	var sch any
	if id.Schema != "" {
		sch = id.Schema
	}
	rows, err := db.QueryxContext(ctx, `SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL), NOT a.attnotnull, a.atthasdef,
		CASE WHEN t.typname = 'numeric' AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 ELSE -1 END,
		c.relkind::text
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
	WHERE n.nspname = COALESCE($1::text, current_schema()) AND c.relname = $2 AND c.relkind IN ('r','p','v','m','f')
	ORDER BY a.attnum`, sch, id.Name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", id, err)
	}
	m := &tableMeta{id: id}
	for rows.Next() {
		c := &colMeta{}
		var kind string
		if err := rows.Scan(&c.name, &c.dataType, &c.fullType, &c.castType, &c.nullable, &c.hasDefault, &c.scale, &kind); err != nil {
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
	ORDER BY i.indexrelid, a.attnum`, sch, id.Name)
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

// family sorts a column by its pg_type name.
func (d *postgresDialect) family(cm *colMeta) (colFamily, int) {
	dt := cm.dataType
	switch dt {
	case "int2":
		return famInt, 16
	case "int4":
		return famInt, 32
	case "int8":
		return famInt, 64
	case "float4":
		return famFloat, 32
	case "float8":
		return famFloat, 64
	case "numeric":
		return famDecimal, 0
	case "bool":
		return famBool, 0
	case "text", "varchar", "bpchar", "json", "jsonb", "uuid", "xml", "citext", "name":
		return famString, 0
	case "bytea":
		return famBytes, 0
	case "date", "time", "timetz", "timestamp", "timestamptz", "interval":
		return famTemporal, 0
	}
	return famOther, 0
}

// bind is what PostgreSQL takes differently from the common conversions:
// Debezium's ±infinity timestamps as infinity, zoned timestamps as
// instants for TIMESTAMPTZ (a string it parses itself when Go cannot),
// zoned times as their string for TIMETZ, Bits as bit strings, and arrays
// of primitives as array literals.
func (d *postgresDialect) bind(cc convCtx, s *schema.Schema) (convFunc, bool, error) {
	switch s.Name {
	case schema.DebeziumTimestamp, schema.DebeziumMicroTimestamp, schema.DebeziumNanoTimestamp:
		common, _, err := cc.byName(s)
		if err != nil {
			return nil, true, err
		}
		return func(v any) (any, error) {
			if n, ok := toInt64(v); ok {
				switch n {
				case dbzPosInfinity:
					return "infinity", nil
				case dbzNegInfinity:
					return "-infinity", nil
				}
			}
			return common(v)
		}, true, nil
	case schema.DebeziumZonedTimestamp:
		return strConv(s, func(str string) (any, error) {
			t, err := time.Parse(time.RFC3339Nano, str)
			if err != nil {
				return str, nil // let PostgreSQL parse it (infinity, other ISO forms)
			}
			return t, nil // an instant, for TIMESTAMPTZ
		}), true, nil
	case schema.DebeziumZonedTime:
		return strConv(s, func(str string) (any, error) { return str, nil }), true, nil
	case schema.DebeziumBits:
		if s.Type != schema.TypeBytes {
			break
		}
		n := bitsLength(s)
		return func(v any) (any, error) {
			b, ok := v.([]byte)
			if !ok {
				return nil, badValue(v, s)
			}
			return bitString(b, n), nil
		}, true, nil
	}
	if s.Type == schema.TypeArray && pgArrayElement(s.ValueSchema) {
		if _, named, _ := cc.byName(s); named {
			return nil, false, nil // a semantic type's own conversion wins
		}
		elem, err := cc.converter(s.ValueSchema)
		if err != nil {
			return nil, true, err
		}
		zoned := s.ValueSchema.Name == schema.DebeziumZonedTimestamp
		return func(v any) (any, error) {
			a, ok := v.([]any)
			if !ok {
				return nil, badValue(v, s)
			}
			return pgArrayLiteral(a, elem, zoned)
		}, true, nil
	}
	return nil, false, nil
}
