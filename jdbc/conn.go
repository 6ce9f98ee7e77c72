package jdbc

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// Flavor is the SQL dialect family of a connection.
type Flavor string

// Supported flavors.
const (
	MySQL    Flavor = "mysql" // MySQL and MariaDB
	Postgres Flavor = "postgres"
)

// Conn describes how to reach a database, parsed from Connect's
// connection.url (a JDBC URL or a native DSN) plus connection.user and
// connection.password, which win over credentials in the URL.
type Conn struct {
	Flavor   Flavor
	Driver   string // database/sql driver name: "mysql" or "pgx"
	DSN      string // native DSN for Driver
	Database string
	Host     string
	Port     int
	User     string
	// Log receives the warning of a PREFERRED connection that fell back
	// to plaintext; nil uses slog.Default().
	Log *slog.Logger

	tls *urlTLS // MySQL URLs: the TLS the URL asked for (tls.go)
}

// ParseURL parses a connection.url. Accepted forms:
//
//	jdbc:mysql://host:port/db?user=u&password=p
//	jdbc:mariadb://host:port/db?user=u&password=p
//	jdbc:postgresql://host:port/db?user=u&password=p
//	mysql://u:p@host:port/db, postgres://u:p@host:port/db (URLs)
//	u:p@tcp(host:port)/db (go-sql-driver/mysql DSN)
//	host=… dbname=… (libpq keyword/value DSN)
func ParseURL(raw, user, password string) (*Conn, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, fmt.Errorf("connection.url: empty")
	}
	s = strings.TrimPrefix(s, "jdbc:")
	switch {
	case strings.HasPrefix(s, "mysql://"), strings.HasPrefix(s, "mariadb://"):
		return parseMySQLURL(s, user, password)
	case strings.HasPrefix(s, "postgresql://"), strings.HasPrefix(s, "postgres://"):
		return parsePostgresURL(s, user, password)
	case strings.Contains(s, "@tcp(") || strings.Contains(s, "@unix(") || strings.HasPrefix(s, "tcp("):
		cfg, err := mysql.ParseDSN(s)
		if err != nil {
			return nil, fmt.Errorf("connection.url: %w", config.RedactURLError(err))
		}
		return mysqlConn(cfg, user, password), nil
	case strings.Contains(s, "dbname=") || strings.Contains(s, "host="):
		dsn := s
		if user != "" {
			dsn += " user=" + QuoteKV(user)
		}
		if password != "" {
			dsn += " password=" + QuoteKV(password)
		}
		return &Conn{Flavor: Postgres, Driver: "pgx", DSN: dsn}, nil
	}
	return nil, fmt.Errorf("connection.url: unsupported URL %q (expected jdbc:mysql://, jdbc:mariadb://, jdbc:postgresql:// or a native DSN)", redactURL(raw))
}

// QuoteKV quotes a value for a libpq key=value connection string.
func QuoteKV(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func parseMySQLURL(s, user, password string) (*Conn, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("connection.url: %w", config.RedactURLError(err))
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	host := u.Host
	if u.Port() == "" {
		host += ":3306"
	}
	cfg.Addr = host
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	q := u.Query()
	if v := q.Get("user"); v != "" {
		cfg.User = v
	}
	if v := q.Get("password"); v != "" {
		cfg.Passwd = v
	}
	cfg.User, cfg.Passwd = overlay(cfg.User, cfg.Passwd, user, password)
	t, err := mysqlURLTLS(q, strings.HasPrefix(s, "mariadb://"), u.Hostname())
	if err != nil {
		return nil, err
	}
	c := mysqlConn(cfg, "", "")
	c.tls = t
	return c, nil
}

func mysqlConn(cfg *mysql.Config, user, password string) *Conn {
	cfg.User, cfg.Passwd = overlay(cfg.User, cfg.Passwd, user, password)
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false
	cfg.InterpolateParams = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	host, port := splitHostPort(cfg.Addr, 3306)
	return &Conn{Flavor: MySQL, Driver: "mysql", DSN: cfg.FormatDSN(), Database: cfg.DBName, Host: host, Port: port, User: cfg.User}
}

func parsePostgresURL(s, user, password string) (*Conn, error) {
	u, err := url.Parse(strings.Replace(s, "postgresql://", "postgres://", 1))
	if err != nil {
		return nil, fmt.Errorf("connection.url: %w", config.RedactURLError(err))
	}
	q := u.Query()
	var uname, pw string
	if u.User != nil {
		uname = u.User.Username()
		pw, _ = u.User.Password()
	}
	if v := q.Get("user"); v != "" {
		uname = v
	}
	if v := q.Get("password"); v != "" {
		pw = v
	}
	q.Del("user")
	q.Del("password")
	if err := pgURLTLS(q); err != nil {
		return nil, err
	}
	// JDBC-only parameters libpq does not know.
	for _, k := range []string{"currentSchema", "ApplicationName", "loggerLevel", "stringtype", "reWriteBatchedInserts"} {
		q.Del(k)
	}
	uname, pw = overlay(uname, pw, user, password)
	if uname != "" {
		if pw != "" {
			u.User = url.UserPassword(uname, pw)
		} else {
			u.User = url.User(uname)
		}
	}
	if u.Port() == "" && u.Host != "" {
		u.Host += ":5432"
	}
	u.RawQuery = q.Encode()
	host, port := splitHostPort(u.Host, 5432)
	return &Conn{Flavor: Postgres, Driver: "pgx", DSN: u.String(), Database: strings.TrimPrefix(u.Path, "/"), Host: host, Port: port, User: uname}, nil
}

func overlay(u, p, user, password string) (string, string) {
	if user != "" {
		u = user
	}
	if password != "" {
		p = password
	}
	return u, p
}

func splitHostPort(addr string, def int) (string, int) {
	host, port := addr, def
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = addr[:i]
		fmt.Sscanf(addr[i+1:], "%d", &port)
	}
	return host, port
}

// redactURL hides every password inside a connection URL or DSN (userinfo
// and password parameters).
func redactURL(s string) string { return config.RedactURL(s) }

// Open opens the database with sqlx, retrying attempts times with backoff
// (connection.attempts / connection.backoff.ms), and checks it with a ping.
func (c *Conn) Open(ctx context.Context, attempts int, backoff time.Duration) (*sqlx.DB, error) {
	if attempts < 1 {
		attempts = 1
	}
	var last error
	for i := 0; i < attempts; i++ {
		db, err := c.openDB()
		if err == nil {
			if err = db.PingContext(ctx); err == nil {
				if err = c.checkTLS(ctx, db); err == nil {
					return db, nil
				}
			}
			db.Close()
		}
		last = err
		if tlsstore.IsCertificateError(err) {
			break // the server's certificate does not verify: retrying will not help
		}
		if i+1 < attempts {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
		}
	}
	return nil, fmt.Errorf("connect to %s database %q at %s:%d: %w", c.Flavor, c.Database, c.Host, c.Port, last)
}
