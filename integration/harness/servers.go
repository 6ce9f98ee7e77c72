package harness

import (
	"context"
	"fmt"
	"strings"
	"testing"

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

// TLSFiles are the CA and certificate files of a server started with
// Options.TLS (dbserver.TLSFiles).
type TLSFiles = dbserver.TLSFiles

// TLSMariaDB starts a MariaDB server of the test's own with TLS on (a CA
// made for it, a server certificate for hosts or, when none, 127.0.0.1 and
// localhost) and creates a database on it. The server stops when the test
// ends. The server's TLS field has the CA file to trust. performance_schema
// is on, so a test can read each session's Ssl_cipher
// (performance_schema.status_by_thread).
func TLSMariaDB(t testing.TB, hosts ...string) (*MariaDBInstance, *Database) {
	t.Helper()
	s, err := dbserver.StartMariaDB(context.Background(), Options{TLS: true, TLSHosts: hosts, Settings: map[string]string{"performance-schema": "ON"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := s.CreateDatabase(context.Background(), dbName(t.Name(), suite.seq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

// TLSPostgres is TLSMariaDB for PostgreSQL (ssl=on, ssl_ca_file set so
// client certificates are verified when sent).
func TLSPostgres(t testing.TB, hosts ...string) (*PostgresInstance, *Database) {
	t.Helper()
	s, err := dbserver.StartPostgres(context.Background(), Options{TLS: true, TLSHosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := s.CreateDatabase(context.Background(), dbName(t.Name(), suite.seq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}
