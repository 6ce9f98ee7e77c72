package source

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// TestTLS: the JDBC source reads through a connection.url that asks for
// full verification, from MariaDB and PostgreSQL servers with TLS on
// (certificate for 127.0.0.1 only), and the server reports its session
// encrypted; with a host name the certificate does not name the start fails
// with a certificate error.
func TestTLS(t *testing.T) {
	for _, kind := range []string{"mariadb", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var db *harness.Database
			var ca string
			var port int
			if kind == "mariadb" {
				srv, d := harness.TLSMariaDB(t, "127.0.0.1")
				db, ca, port = d, srv.TLS.CAFile, srv.Port
			} else {
				srv, d := harness.TLSPostgres(t, "127.0.0.1")
				db, ca, port = d, srv.TLS.CAFile, srv.Port
			}
			admin := db.Open(t)
			urlFor := func(host string) string {
				if kind == "mariadb" {
					return fmt.Sprintf("jdbc:mysql://%s:%d/%s?user=srcuser&password=srcpw&sslMode=VERIFY_IDENTITY&trustCertificateKeyStoreUrl=%s&trustCertificateKeyStoreType=PEM",
						host, port, db.Name, url.QueryEscape("file:"+ca))
				}
				return fmt.Sprintf("jdbc:postgresql://%s:%d/%s?user=srcuser&sslmode=verify-full&sslrootcert=%s", host, port, db.Name, url.QueryEscape(ca))
			}
			if kind == "mariadb" {
				admin.MustExec("CREATE USER 'srcuser'@'%' IDENTIFIED BY 'srcpw'")
				admin.MustExec("GRANT ALL ON *.* TO 'srcuser'@'%'")
			} else {
				admin.MustExec("CREATE ROLE srcuser LOGIN SUPERUSER")
			}
			admin.MustExec("CREATE TABLE tls_items (id INT PRIMARY KEY, name VARCHAR(20))")
			admin.MustExec("INSERT INTO tls_items VALUES (1, 'a'), (2, 'b')")
			cfg := map[string]string{"connector.class": "JdbcSourceConnector", "connection.url": urlFor("127.0.0.1"),
				"mode": "bulk", "table.whitelist": "tls_items", "topic.prefix": "tls-", "poll.interval.ms": "50"}
			task := startTask(t, cfg, nil)
			if recs := pollN(t, task, 2); len(recs) != 2 {
				t.Fatalf("%d records", len(recs))
			}
			var ciphers []string
			if kind == "mariadb" {
				admin.Select(&ciphers, `SELECT s.VARIABLE_VALUE FROM performance_schema.threads t
					JOIN performance_schema.status_by_thread s ON s.THREAD_ID = t.THREAD_ID
					WHERE s.VARIABLE_NAME = 'Ssl_cipher' AND t.PROCESSLIST_USER = 'srcuser'`)
			} else {
				admin.Select(&ciphers, `SELECT CASE WHEN s.ssl THEN s.cipher ELSE '' END FROM pg_stat_activity a
					JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.usename = 'srcuser'`)
			}
			if len(ciphers) == 0 {
				t.Fatal("no session of the source's user on the server")
			}
			for _, c := range ciphers {
				if c == "" {
					t.Errorf("a session of the source is not encrypted: %q", ciphers)
				}
			}
			task.Stop()

			cfg["connection.url"] = urlFor("localhost")
			cfg["connection.attempts"] = "1"
			bad := NewSourceTask()
			err := bad.Start(context.Background(), cfg, taskContext(t))
			if err == nil {
				bad.Stop()
			}
			if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "localhost") {
				t.Fatalf("wrong host name: %v, want a certificate error", err)
			}
		})
	}
}
