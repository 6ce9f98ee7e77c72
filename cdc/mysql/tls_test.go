package mysql

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// syncBuf is a log sink tests can read.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startTaskErr(t *testing.T, cfg map[string]string, log *slog.Logger) (*Task, error) {
	t.Helper()
	task := Plugin{}.NewTask().(*Task)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := task.Start(ctx, cfg, connector.TaskContext{Connector: "test", Logger: log, Offsets: &memOffsets{}, Metrics: connector.NopMetrics{}})
	if err == nil {
		t.Cleanup(func() { task.Stop() })
	}
	return task, err
}

func keytool(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(args[0]); err != nil {
		t.Skipf("%s not installed", args[0])
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// TestTLS runs the connector against a MariaDB server with TLS on, whose
// certificate names 127.0.0.1 only: with verify_identity and a JKS trust
// store (keytool) and a PKCS12 client key store (openssl) it snapshots and
// streams, and the server reports its binlog dump session encrypted; a
// wrong CA and a wrong host name (localhost) are refused clearly, while
// verify_ca accepts the host name it does not check.
func TestTLS(t *testing.T) {
	srv, db := harness.TLSMariaDB(t, "127.0.0.1")
	db.User, db.Password = harness.MariaDBCDCUser, harness.MariaDBCDCPassword
	root, err := srv.CreateDatabase(context.Background(), "tls_admin")
	if err != nil {
		t.Fatal(err)
	}
	admin := root.Open(t)
	mustExec(t, admin, "CREATE TABLE `"+db.Name+"`.m (id INT PRIMARY KEY, v VARCHAR(20))")
	mustExec(t, admin, "INSERT INTO `"+db.Name+"`.m VALUES (1, 'one')")

	dir := t.TempDir()
	trust := filepath.Join(dir, "trust.jks")
	keytool(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", srv.TLS.CAFile, "-keystore", trust, "-storetype", "JKS", "-storepass", "trustpw")
	keys := filepath.Join(dir, "client.p12")
	keytool(t, "openssl", "pkcs12", "-export", "-in", srv.TLS.ClientCert, "-inkey", srv.TLS.ClientKey, "-name", "client", "-out", keys, "-passout", "pass:keypw1")
	otherCA, err := tlsstore.NewCA(dir, "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	tlsKeys := []string{"database.ssl.mode", "verify_identity", "database.ssl.truststore", trust, "database.ssl.truststore.password", "trustpw",
		"database.ssl.keystore", keys, "database.ssl.keystore.password", "keypw1"}

	topic := "tls." + db.Name + ".m"
	task := startTask(t, testConfig(db, "tls", tlsKeys...), &memOffsets{})
	c := &collector{t: t, task: task}
	c.pollUntil(20*time.Second, "snapshot", func() bool { return c.count(topic) >= 1 })
	mustExec(t, admin, "INSERT INTO `"+db.Name+"`.m VALUES (2, 'two')")
	c.pollUntil(20*time.Second, "streamed insert", func() bool { return c.count(topic) >= 2 })

	// The server's view: the binlog dump session and the SQL sessions of
	// the cdc user are encrypted.
	var sessions []struct {
		Command string `db:"PROCESSLIST_COMMAND"`
		Cipher  string `db:"VARIABLE_VALUE"`
	}
	if err := admin.Select(&sessions, `SELECT t.PROCESSLIST_COMMAND, s.VARIABLE_VALUE FROM performance_schema.threads t
		JOIN performance_schema.status_by_thread s ON s.THREAD_ID = t.THREAD_ID
		WHERE s.VARIABLE_NAME = 'Ssl_cipher' AND t.PROCESSLIST_USER = ?`, harness.MariaDBCDCUser); err != nil {
		t.Fatal(err)
	}
	t.Logf("cdc sessions: %+v", sessions)
	dump := false
	for _, s := range sessions {
		if s.Cipher == "" {
			t.Errorf("session %q of the cdc user is not encrypted", s.Command)
		}
		dump = dump || strings.HasPrefix(s.Command, "Binlog Dump")
	}
	if !dump {
		t.Fatalf("no binlog dump session of the cdc user found: %+v", sessions)
	}
	task.Stop()

	// Fails clearly: a trust store of another CA, and a host name the
	// certificate does not name.
	for _, c := range []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"wrong CA", testConfig(db, "tls2", "database.ssl.mode", "verify_ca", "database.ssl.truststore", otherCA.CertFile), "certificate signed by unknown authority"},
		{"wrong host", testConfig(db, "tls3", "database.ssl.mode", "verify_identity", "database.ssl.truststore", srv.TLS.CAFile, "database.hostname", "localhost"), "localhost"},
	} {
		_, err := startTaskErr(t, c.cfg, discardLogger())
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: start error %v, want a certificate error mentioning %q", c.name, err, c.want)
		}
		if errors.Is(err, connector.ErrRetriable) {
			t.Errorf("%s: a certificate error is retriable: %v", c.name, err)
		}
	}
	// verify_ca checks the chain only: localhost is fine.
	task = startTask(t, testConfig(db, "tls4", "database.ssl.mode", "verify_ca", "database.ssl.truststore", srv.TLS.CAFile, "database.hostname", "localhost"), &memOffsets{})
	c = &collector{t: t, task: task}
	c.pollUntil(20*time.Second, "verify_ca snapshot", func() bool { return c.count("tls4."+db.Name+".m") >= 2 })
}

// TestTLSPlainServer: against the package's server, which has no TLS,
// preferred says in the log that it runs in plaintext, and required fails.
func TestTLSPlainServer(t *testing.T) {
	db := harness.MariaDB(t)
	var buf syncBuf
	log := slog.New(slog.NewTextHandler(&buf, nil))
	if _, err := startTaskErr(t, testConfig(db, "plain1", "database.ssl.mode", "preferred"), log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "plaintext") {
		t.Errorf("preferred against a server without TLS logged no fallback:\n%s", buf.String())
	}
	if _, err := startTaskErr(t, testConfig(db, "plain2", "database.ssl.mode", "required"), discardLogger()); err == nil || !strings.Contains(strings.ToLower(err.Error()), "tls") {
		t.Errorf("required against a server without TLS: %v", err)
	}
}

// TestSSLModeNames: Debezium's MariaDbConnector names the modes as the
// MariaDB driver does (default disable), its MySqlConnector as Connector/J
// (default preferred); both sets are read under either class.
func TestSSLModeNames(t *testing.T) {
	base := func(class string, kv ...string) map[string]string {
		m := map[string]string{"connector.class": class, "database.hostname": "db", "database.user": "u", "topic.prefix": "p"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		cfg  map[string]string
		want string
	}{
		{base(Class), "preferred"},
		{base(MariaDBClass), "disabled"},
		{base(MariaDBClass, "database.ssl.mode", "trust"), "required"},
		{base(MariaDBClass, "database.ssl.mode", "verify-ca"), "verify_ca"},
		{base(MariaDBClass, "database.ssl.mode", "verify-full"), "verify_identity"},
		{base(Class, "database.ssl.mode", "verify_identity"), "verify_identity"},
		{base(MariaDBClass, "database.ssl.mode", "disable"), "disabled"},
	} {
		s, err := parseSettings(c.cfg)
		if err != nil {
			t.Fatalf("%v: %v", c.cfg, err)
		}
		if s.sslMode != c.want || (s.tls == nil) != (c.want == "disabled") {
			t.Errorf("%v: mode %s (tls %v), want %s", c.cfg, s.sslMode, s.tls != nil, c.want)
		}
	}
}
