package jdbcsink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
)

// TestTLS: the sink writes through a connection.url that asks for full
// verification, to MariaDB and PostgreSQL servers with TLS on (certificate
// for 127.0.0.1 only); every session of its user is encrypted on the
// server's side (performance_schema.status_by_thread Ssl_cipher,
// pg_stat_ssl); with a host name the certificate does not name the start
// fails with a certificate error, not a retriable one.
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
					return fmt.Sprintf("jdbc:mariadb://%s:%d/%s?user=sinkuser&password=sinkpw&sslMode=verify-full&serverSslCert=%s", host, port, db.Name, url.QueryEscape(ca))
				}
				return fmt.Sprintf("jdbc:postgresql://%s:%d/%s?user=sinkuser&sslmode=verify-full&sslrootcert=%s", host, port, db.Name, url.QueryEscape(ca))
			}
			if kind == "mariadb" {
				admin.MustExec("CREATE USER 'sinkuser'@'%' IDENTIFIED BY 'sinkpw'")
				admin.MustExec("GRANT ALL ON *.* TO 'sinkuser'@'%'")
			} else {
				admin.MustExec("CREATE ROLE sinkuser LOGIN SUPERUSER")
			}
			task := startTask(t, sinkConfig(db, "connection.url", urlFor("127.0.0.1"), "table.name.format", "kv_tls", "auto.create", "true"), nil)
			mustPut(t, task, kvRec(0, 0, 1, "one"), kvRec(0, 1, 2, "two"))
			mustFlush(t, task)
			if got := query(t, admin, "SELECT COUNT(*) FROM kv_tls"); got[0][0] != "2" {
				t.Fatalf("rows: %v", got)
			}
			var sessions [][]string
			if kind == "mariadb" {
				sessions = query(t, admin, `SELECT t.PROCESSLIST_ID, s.VARIABLE_VALUE FROM performance_schema.threads t
					JOIN performance_schema.status_by_thread s ON s.THREAD_ID = t.THREAD_ID
					WHERE s.VARIABLE_NAME = 'Ssl_cipher' AND t.PROCESSLIST_USER = 'sinkuser'`)
			} else {
				sessions = query(t, admin, `SELECT a.pid::text, CASE WHEN s.ssl THEN s.cipher ELSE '' END FROM pg_stat_activity a
					JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.usename = 'sinkuser'`)
			}
			if len(sessions) == 0 {
				t.Fatal("no session of the sink's user on the server")
			}
			for _, s := range sessions {
				if s[1] == "" || s[1] == "NULL" {
					t.Errorf("session %s of the sink is not encrypted", s[0])
				}
			}
			task.Stop()

			bad := Plugin{}.NewTask().(*Task)
			err := bad.Start(context.Background(), sinkConfig(db, "connection.url", urlFor("localhost"), "table.name.format", "kv_tls",
				"connection.attempts", "1"), connector.TaskContext{Connector: "tls", Logger: testLogger(t), Metrics: connector.NopMetrics{}})
			if err == nil {
				bad.Stop()
			}
			if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "localhost") {
				t.Fatalf("wrong host name: %v, want a certificate error", err)
			}
			if errors.Is(err, connector.ErrRetriable) {
				t.Errorf("a certificate error is retriable: %v", err)
			}
		})
	}
}
