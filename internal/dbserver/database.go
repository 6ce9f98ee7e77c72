package dbserver

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Kind says which server a Database lives on.
type Kind string

// Server kinds.
const (
	KindMariaDB  Kind = "mariadb"
	KindPostgres Kind = "postgres"
)

// Database is one database on a harness server, with the credentials to
// reach it.
type Database struct {
	Kind     Kind
	Name     string
	Host     string
	Port     int
	User     string
	Password string
}

// DSN is the native DSN: a go-sql-driver/mysql DSN (with parseTime=true,
// loc=UTC) for MariaDB, a postgres:// URL for PostgreSQL.
func (d *Database) DSN() string {
	if d.Kind == KindMariaDB {
		cred := d.User
		if d.Password != "" {
			cred += ":" + d.Password
		}
		return fmt.Sprintf("%s@tcp(%s:%d)/%s?parseTime=true&loc=UTC", cred, d.Host, d.Port, d.Name)
	}
	u := &url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", d.Host, d.Port), Path: "/" + d.Name, RawQuery: "sslmode=disable"}
	if d.Password != "" {
		u.User = url.UserPassword(d.User, d.Password)
	} else {
		u.User = url.User(d.User)
	}
	return u.String()
}

// JDBCURL is the JDBC URL a Kafka Connect config would use
// (jdbc:mariadb://host:port/db?user=… or jdbc:postgresql://host:port/db?user=…).
func (d *Database) JDBCURL() string {
	q := url.Values{}
	q.Set("user", d.User)
	if d.Password != "" {
		q.Set("password", d.Password)
	}
	scheme := "postgresql"
	if d.Kind == KindMariaDB {
		scheme = "mariadb"
	}
	return fmt.Sprintf("jdbc:%s://%s:%d/%s?%s", scheme, d.Host, d.Port, d.Name, q.Encode())
}

// DriverName is the database/sql driver for DSN: "mysql" or "pgx".
func (d *Database) DriverName() string {
	if d.Kind == KindMariaDB {
		return "mysql"
	}
	return "pgx"
}

// Connect opens and pings the database.
func (d *Database) Connect(ctx context.Context) (*sqlx.DB, error) {
	db, err := sqlx.Open(d.DriverName(), d.DSN())
	if err != nil {
		return nil, fmt.Errorf("harness: open %s database %q: %w", d.Kind, d.Name, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("harness: ping %s database %q: %w", d.Kind, d.Name, err)
	}
	return db, nil
}

// TB is the part of testing.TB that Open needs; this package does not link
// Go's testing package, so the product binary can use it.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// Open connects to the database for a test and closes it on cleanup.
func (d *Database) Open(t TB) *sqlx.DB {
	t.Helper()
	db, err := d.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errorLines picks the lines of a tool's output that explain a failure:
// those mentioning an error, plus the last few.
func errorLines(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		u := strings.ToUpper(l)
		if strings.Contains(u, "ERROR") || strings.Contains(u, "FATAL") || strings.Contains(u, "FAILED") || strings.Contains(u, "CANNOT") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 20 {
		keep = keep[:20]
	}
	return strings.Join(append(keep, "…", lastLines(s, 8)), "\n")
}
