package jdbcsink

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
	"github.com/tributary-cdc/tributary/schema"
)

// dialect is what differs between MySQL/MariaDB and PostgreSQL.
type dialect interface {
	flavor() jdbc.Flavor
	// quoteIdent quotes an identifier unconditionally.
	quoteIdent(s string) string
	// param writes the n-th (1-based) bind placeholder.
	param(b *strings.Builder, n int)
	// readTable reads a table's columns, primary key and unique indexes;
	// nil, nil when the table does not exist.
	readTable(ctx context.Context, db sqlx.QueryerContext, id tableID) (*tableMeta, error)
	// columnType is the DDL type of a column for auto.create/auto.evolve.
	columnType(s *schema.Schema, key bool, keyLen int) (string, error)
	// literal renders a converted value as an SQL literal (DEFAULT clauses).
	literal(v any, colType string) string
	// upsertSuffix appends the conflict clause after VALUES.
	upsertSuffix(b *strings.Builder, keys, nonKeys []string)
	// truncateSQL empties a table inside a transaction.
	truncateSQL(table string) string
	// classify sorts an error from the driver.
	classify(err error) errClass
}

// maxBindParams is the bind-parameter limit of one statement on both
// PostgreSQL and MySQL (a 16-bit count in their protocols).
const maxBindParams = 65535

func newDialect(c *jdbc.Conn, quote bool) dialect {
	if c.Flavor == jdbc.Postgres {
		return &postgresDialect{quote: quote}
	}
	return &mysqlDialect{quote: quote}
}

// quoter quotes identifiers according to quote.sql.identifiers.
type quoter struct {
	d      dialect
	always bool
}

func (q quoter) ident(s string) string {
	if q.always {
		return q.d.quoteIdent(s)
	}
	return s
}

func (q quoter) table(id tableID) string {
	var parts []string
	if id.catalog != "" && q.d.flavor() == jdbc.MySQL {
		parts = append(parts, q.ident(id.catalog))
	}
	if id.schema != "" {
		parts = append(parts, q.ident(id.schema))
	}
	parts = append(parts, q.ident(id.name))
	return strings.Join(parts, ".")
}

// literal helpers shared by both dialects.

func quoteString(s string, backslash bool) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			b.WriteString("''")
		case c == '\\' && backslash:
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func genericLiteral(v any, mysql bool) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if mysql {
			if x {
				return "1"
			}
			return "0"
		}
		if x {
			return "TRUE"
		}
		return "FALSE"
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return quoteString(strconv.FormatFloat(x, 'g', -1, 64), mysql)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return quoteString(x, mysql)
	case []byte:
		if mysql {
			return "X'" + hex.EncodeToString(x) + "'"
		}
		return `'\x` + hex.EncodeToString(x) + `'`
	case time.Time:
		return "'" + x.Format("2006-01-02 15:04:05.999999") + "'"
	}
	return quoteString(fmt.Sprint(v), mysql)
}

// timeColumnPrecision picks fractional digits for temporal columns.
func isTemporalSemantic(name string) bool {
	switch name {
	case schema.DateName, schema.TimeName, schema.TimestampName,
		schema.DebeziumDate, schema.DebeziumTime, schema.DebeziumMicroTime, schema.DebeziumNanoTime,
		schema.DebeziumTimestamp, schema.DebeziumMicroTimestamp, schema.DebeziumNanoTimestamp,
		schema.DebeziumZonedTimestamp, schema.DebeziumZonedTime:
		return true
	}
	return false
}

// decimalPrecision returns the precision parameter Debezium adds, or 0.
func decimalPrecision(s *schema.Schema) int {
	if v, ok := s.Param(schema.DecimalPrecisionParam); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// bitsLength returns the length parameter of io.debezium.data.Bits.
func bitsLength(s *schema.Schema) int {
	if v, ok := s.Param("length"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

func unsupportedType(s *schema.Schema) error {
	return fmt.Errorf("%s type doesn't have a mapping to the SQL database column type", s)
}
