package jdbc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

func tool(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(args[0]); err != nil {
		t.Skipf("%s not installed", args[0])
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

func openURL(t *testing.T, raw string) (*Conn, error) {
	t.Helper()
	c, err := ParseURL(raw, "", "")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := c.Open(ctx, 3, 10*time.Millisecond)
	if err != nil {
		return c, err
	}
	defer db.Close()
	switch c.Flavor {
	case MySQL:
		var name, cipher, user string
		if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
			return c, err
		}
		if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&user); err != nil {
			return c, err
		}
		if cipher == "" {
			return c, fmt.Errorf("connected as %s without TLS", user)
		}
	case Postgres:
		var ssl bool
		var dn string
		if err := db.QueryRowContext(ctx, "SELECT ssl, coalesce(client_dn, '') FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &dn); err != nil {
			return c, err
		}
		if !ssl {
			return c, errors.New("connected without TLS")
		}
		if strings.Contains(raw, "sslcert=") && !strings.Contains(dn, "CN=client") {
			return c, fmt.Errorf("client_dn %q: our client certificate was not sent", dn)
		}
	}
	return c, nil
}

// TestMySQLURLTLS: JDBC URLs with Connector/J's and MariaDB Connector/J's
// TLS parameters against a MariaDB server with TLS on, whose certificate
// names 127.0.0.1 only. The verifying modes connect encrypted (the server's
// Ssl_cipher), a JKS trust store and PKCS12 client key store (keytool,
// openssl) work, a user that REQUIRE SUBJECT '/CN=client' gets in only with
// the client certificate, and a wrong CA or a host name the certificate
// does not name fails with a certificate error.
func TestMySQLURLTLS(t *testing.T) {
	srv, db := harness.TLSMariaDB(t, "127.0.0.1")
	admin := db.Open(t)
	for _, q := range []string{
		"CREATE USER 'certuser'@'%' IDENTIFIED BY 'certpw' REQUIRE SUBJECT '/CN=client'",
		"GRANT ALL ON *.* TO 'certuser'@'%'",
		"CREATE USER 'app'@'%' IDENTIFIED BY 'apppw'",
		"GRANT ALL ON *.* TO 'app'@'%'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dir := t.TempDir()
	jks := filepath.Join(dir, "trust.jks")
	tool(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", srv.TLS.CAFile, "-keystore", jks, "-storetype", "JKS", "-storepass", "trustpw")
	p12 := filepath.Join(dir, "client.p12")
	tool(t, "openssl", "pkcs12", "-export", "-in", srv.TLS.ClientCert, "-inkey", srv.TLS.ClientKey, "-name", "client", "-out", p12, "-passout", "pass:keypw1")
	other, err := tlsstore.NewCA(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	at := func(host, scheme, user, pw, params string) string {
		return fmt.Sprintf("jdbc:%s://%s:%d/%s?user=%s&password=%s&%s", scheme, host, srv.Port, db.Name, user, pw, params)
	}
	ip := "127.0.0.1"
	fileURL := func(p string) string { return url.QueryEscape("file:" + p) }
	for _, c := range []struct {
		name, url, want string // want: "" = connects encrypted, else a text of the error
	}{
		{"Connector/J VERIFY_IDENTITY, JKS trust store, PKCS12 client cert", at(ip, "mysql", "certuser", "certpw",
			"sslMode=VERIFY_IDENTITY&trustCertificateKeyStoreUrl="+fileURL(jks)+"&trustCertificateKeyStorePassword=trustpw&trustCertificateKeyStoreType=JKS"+
				"&clientCertificateKeyStoreUrl="+fileURL(p12)+"&clientCertificateKeyStorePassword=keypw1&clientCertificateKeyStoreType=PKCS12"), ""},
		{"certificate user without a client certificate", at(ip, "mysql", "certuser", "certpw",
			"sslMode=VERIFY_IDENTITY&trustCertificateKeyStoreUrl="+fileURL(jks)+"&trustCertificateKeyStorePassword=trustpw"), "Access denied"},
		{"MariaDB verify-full, serverSslCert", at(ip, "mariadb", "app", "apppw", "sslMode=verify-full&serverSslCert="+url.QueryEscape(srv.TLS.CAFile)), ""},
		{"MariaDB trust", at(ip, "mariadb", "app", "apppw", "sslMode=trust"), ""},
		{"legacy useSSL+requireSSL", at(ip, "mysql", "app", "apppw", "useSSL=true&requireSSL=true&verifyServerCertificate=false"), ""},
		{"legacy useSSL+verifyServerCertificate, wrong CA", at(ip, "mysql", "app", "apppw", "useSSL=true&verifyServerCertificate=true&trustCertificateKeyStoreUrl="+url.QueryEscape(other.CertFile)+"&trustCertificateKeyStoreType=PEM"), "unknown authority"},
		{"VERIFY_CA, wrong CA", at(ip, "mysql", "app", "apppw", "sslMode=VERIFY_CA&trustCertificateKeyStoreUrl="+url.QueryEscape(other.CertFile)+"&trustCertificateKeyStoreType=PEM"), "unknown authority"},
		{"verify-full, wrong host name", at("localhost", "mariadb", "app", "apppw", "sslMode=verify-full&serverSslCert="+url.QueryEscape(srv.TLS.CAFile)), "localhost"},
		{"VERIFY_CA does not check the host name", at("localhost", "mysql", "app", "apppw", "sslMode=VERIFY_CA&trustCertificateKeyStoreUrl="+url.QueryEscape(srv.TLS.CAFile)+"&trustCertificateKeyStoreType=PEM"), ""},
		{"Connector/J default is PREFERRED", at(ip, "mysql", "app", "apppw", ""), ""},
		{"MariaDB default is disable", at(ip, "mariadb", "app", "apppw", ""), "without TLS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openURL(t, c.url)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("%v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "pw") && strings.Contains(err.Error(), "trustpw") {
				t.Fatalf("password in the error: %v", err)
			}
		})
	}
}

// TestPostgresURLTLS: pgjdbc's TLS parameters against a PostgreSQL server
// with TLS on (certificate for 127.0.0.1 only): verify-full with a client
// certificate (pg_stat_ssl shows it), ssl=true meaning verify-full,
// NonValidatingFactory, a wrong CA and a wrong host name.
func TestPostgresURLTLS(t *testing.T) {
	srv, db := harness.TLSPostgres(t, "127.0.0.1")
	other, err := tlsstore.NewCA(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	at := func(host, params string) string {
		return fmt.Sprintf("jdbc:postgresql://%s:%d/%s?user=postgres&%s", host, srv.Port, db.Name, params)
	}
	ca := url.QueryEscape(srv.TLS.CAFile)
	for _, c := range []struct{ name, url, want string }{
		{"verify-full with client certificate", at("127.0.0.1", "sslmode=verify-full&sslrootcert="+ca+"&sslcert="+url.QueryEscape(srv.TLS.ClientCert)+"&sslkey="+url.QueryEscape(srv.TLS.ClientKey)), ""},
		{"ssl=true is verify-full", at("localhost", "ssl=true&sslrootcert="+ca), "localhost"},
		{"ssl=true verifies against the CA", at("127.0.0.1", "ssl=true&sslrootcert="+ca), ""},
		{"NonValidatingFactory", at("localhost", "ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory"), ""},
		{"verify-ca, wrong CA", at("127.0.0.1", "sslmode=verify-ca&sslrootcert="+url.QueryEscape(other.CertFile)), "unknown authority"},
		{"verify-ca ignores the host name", at("localhost", "sslmode=verify-ca&sslrootcert="+ca), ""},
		{"sslmode=disable", at("127.0.0.1", "sslmode=disable"), "without TLS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openURL(t, c.url)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("%v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestURLTLSErrors: bad TLS parameters are refused naming the parameter,
// without the password.
func TestURLTLSErrors(t *testing.T) {
	der := filepath.Join(t.TempDir(), "key.pk8")
	if err := os.WriteFile(der, []byte{0x30, 0x82, 0x01}, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ url, want string }{
		{"jdbc:mysql://db/x?sslMode=MAYBE", "sslMode=MAYBE"},
		{"jdbc:mysql://db/x?sslMode=REQUIRED&trustCertificateKeyStoreUrl=classpath:trust.jks", "trustCertificateKeyStoreUrl"},
		{"jdbc:mysql://db/x?sslMode=VERIFY_CA&trustCertificateKeyStoreUrl=/nonexistent.jks&trustCertificateKeyStorePassword=sekrit-pw", "trustCertificateKeyStoreUrl"},
		{"jdbc:mariadb://db/x?sslMode=verify-full&keyStore=/nonexistent.p12&keyStorePassword=sekrit-pw", "keyStore"},
		{"jdbc:postgresql://db/x?ssl=true&sslfactory=com.example.Factory", "sslfactory"},
		{"jdbc:postgresql://db/x?sslmode=verify-full&sslkey=" + der, "DER"},
	} {
		_, err := ParseURL(c.url, "", "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.url, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "sekrit-pw") {
			t.Errorf("%s: password in the error: %v", c.url, err)
		}
	}
}

// TestPreferredFallbackLogged: an explicit PREFERRED (MySQL) or prefer
// (PostgreSQL) against a server without TLS connects in plaintext and says
// so in the log; a mode that requires TLS fails.
func TestPreferredFallbackLogged(t *testing.T) {
	ctx := context.Background()
	my, err := harness.StartMariaDB(ctx, harness.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer my.Close()
	pg, err := harness.StartPostgres(ctx, harness.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, c := range []struct{ url, required string }{
		{fmt.Sprintf("jdbc:mysql://127.0.0.1:%d/mysql?user=root&sslMode=PREFERRED", my.Port), fmt.Sprintf("jdbc:mysql://127.0.0.1:%d/mysql?user=root&sslMode=REQUIRED", my.Port)},
		{fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/postgres?user=postgres&sslmode=prefer", pg.Port), fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/postgres?user=postgres&sslmode=require", pg.Port)},
	} {
		conn, err := ParseURL(c.url, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		conn.Log = slog.New(slog.NewTextHandler(&buf, nil))
		db, err := conn.Open(ctx, 1, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		db.Close()
		if !strings.Contains(buf.String(), "plaintext") {
			t.Errorf("%s: no plaintext warning in the log: %q", c.url, buf.String())
		}
		conn, err = ParseURL(c.required, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if db, err := conn.Open(ctx, 1, 0); err == nil {
			db.Close()
			t.Errorf("%s: connected to a server without TLS", c.required)
		}
	}
}
