package postgres

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startErr(t *testing.T, cfg map[string]string, log *slog.Logger) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	task := NewTask()
	err := task.Start(ctx, cfg, connector.TaskContext{Connector: "pg", Logger: log, Offsets: &memOffsets{}, Metrics: connector.NopMetrics{}})
	if err == nil {
		task.Stop()
	}
	return err
}

// TestTLS runs the connector against a PostgreSQL server with TLS on whose
// certificate names 127.0.0.1 only: verify-full with the CA and a client
// certificate snapshots and streams, and the server reports the replication
// connection encrypted with our client certificate (pg_stat_ssl joined with
// pg_stat_replication); a wrong CA and a wrong host name (localhost) fail
// the start with a certificate error that is not retried, while verify-ca
// accepts the host name it does not check.
func TestTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	srv, db := harness.TLSPostgres(t, "127.0.0.1")
	c := pgConn(t, db)
	mustExec(t, c, "CREATE TABLE items (id int PRIMARY KEY, name text)", "INSERT INTO items VALUES (1, 'a')")
	otherCA, err := tlsstore.NewCA(t.TempDir(), "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(db, "database.sslmode", "verify-full", "database.sslrootcert", srv.TLS.CAFile,
		"database.sslcert", srv.TLS.ClientCert, "database.sslkey", srv.TLS.ClientKey, "slot.drop.on.stop", "true")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.public.items") >= 1 })
	mustExec(t, c, "INSERT INTO items VALUES (2, 'b')")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.public.items") >= 2 })

	rows, err := c.Query(ctx, `SELECT s.ssl, coalesce(s.cipher, ''), coalesce(s.client_dn, '') FROM pg_stat_replication r JOIN pg_stat_ssl s ON s.pid = r.pid`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var ssl bool
		var cipher, dn string
		if err := rows.Scan(&ssl, &cipher, &dn); err != nil {
			t.Fatal(err)
		}
		n++
		t.Logf("replication connection: ssl=%v cipher=%s client_dn=%s", ssl, cipher, dn)
		if !ssl || cipher == "" || !strings.Contains(dn, "CN=client") {
			t.Errorf("replication connection: ssl=%v cipher=%q client_dn=%q, want encrypted with our client certificate", ssl, cipher, dn)
		}
	}
	if rows.Err() != nil || n != 1 {
		t.Fatalf("%d replication connections (%v), want 1", n, rows.Err())
	}
	h.stop()

	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"wrong CA", baseConfig(db, "database.sslmode", "verify-ca", "database.sslrootcert", otherCA.CertFile, "slot.name", "tls_wrong_ca"), "unknown authority"},
		{"wrong host", baseConfig(db, "database.sslmode", "verify-full", "database.sslrootcert", srv.TLS.CAFile, "database.hostname", "localhost", "slot.name", "tls_wrong_host"), "localhost"},
	} {
		err := startErr(t, tc.cfg, testLogger(t))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: start error %v, want a certificate error mentioning %q", tc.name, err, tc.want)
		}
		if errors.Is(err, connector.ErrRetriable) {
			t.Errorf("%s: a certificate error is retriable: %v", tc.name, err)
		}
	}
	if err := startErr(t, baseConfig(db, "database.sslmode", "verify-ca", "database.sslrootcert", srv.TLS.CAFile,
		"database.hostname", "localhost", "slot.name", "tls_ca_only", "slot.drop.on.stop", "true"), testLogger(t)); err != nil {
		t.Errorf("verify-ca with a host name the certificate does not name: %v", err)
	}
}

// TestTLSPlainServer: prefer against the package's server, which has no
// TLS, says in the log that it runs in plaintext; require fails.
func TestTLSPlainServer(t *testing.T) {
	db := harness.Postgres(t)
	var buf syncBuf
	if err := startErr(t, baseConfig(db, "database.sslmode", "prefer", "slot.drop.on.stop", "true"), slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "plaintext") {
		t.Errorf("prefer against a server without TLS logged no fallback:\n%s", buf.String())
	}
	if err := startErr(t, baseConfig(db, "database.sslmode", "require", "slot.name", "tls_require"), testLogger(t)); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("require against a server without TLS: %v", err)
	}
}
