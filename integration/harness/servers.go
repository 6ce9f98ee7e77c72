package harness

import (
	"context"
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/internal/dbserver"
)

// The server types and functions are internal/dbserver's, under the names
// the tests have always used.
type (
	Options          = dbserver.Options
	Kind             = dbserver.Kind
	Database         = dbserver.Database
	MariaDBInstance  = dbserver.MariaDBInstance
	PostgresInstance = dbserver.PostgresInstance
)

// Server kinds and the MariaDB CDC account.
const (
	KindMariaDB        = dbserver.KindMariaDB
	KindPostgres       = dbserver.KindPostgres
	MariaDBCDCUser     = dbserver.MariaDBCDCUser
	MariaDBCDCPassword = dbserver.MariaDBCDCPassword
)

// StartMariaDB starts a MariaDB server (dbserver.StartMariaDB).
func StartMariaDB(ctx context.Context, o Options) (*MariaDBInstance, error) {
	return dbserver.StartMariaDB(ctx, o)
}

// StartPostgres starts a PostgreSQL server (dbserver.StartPostgres).
func StartPostgres(ctx context.Context, o Options) (*PostgresInstance, error) {
	return dbserver.StartPostgres(ctx, o)
}

// SweepStale removes servers left behind by dead test binaries.
func SweepStale() { dbserver.SweepStale() }

// ProcessesUsing lists the pids of live processes whose
// command line mentions dir (dbserver.ProcessesUsing).
func ProcessesUsing(dir string) []int { return dbserver.ProcessesUsing(dir) }

// dbName makes a unique, valid database name from a test name.
func dbName(test string, n int64) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return fmt.Sprintf("t%d_%s", n, s)
}
