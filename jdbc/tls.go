package jdbc

// TLS parameters of JDBC URLs, as the Java drivers name them, so a
// connection.url that encrypts and verifies under Kafka Connect does the same
// here.
//
// MySQL Connector/J (jdbc:mysql://): sslMode=DISABLED|PREFERRED|REQUIRED|
// VERIFY_CA|VERIFY_IDENTITY (default PREFERRED), the older useSSL,
// requireSSL and verifyServerCertificate, trustCertificateKeyStoreUrl /
// …Password / …Type and clientCertificateKeyStoreUrl / …Password / …Type
// (JKS, PKCS12; PEM too).
//
// MariaDB Connector/J (jdbc:mariadb://): sslMode=disable|trust|verify-ca|
// verify-full (default disable), serverSslCert (a PEM file of the server's
// certificate or its CA), keyStore / keyStorePassword / keyStoreType, and
// the older useSsl with trustServerCertificate and
// disableSslHostnameVerification.
//
// pgjdbc (jdbc:postgresql://): sslmode, sslrootcert, sslcert, sslkey and
// sslpassword are libpq's and pgx reads them; ssl=true (without sslmode)
// means verify-full as in pgjdbc, and
// sslfactory=org.postgresql.ssl.NonValidatingFactory means require.

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// TLS modes of a MySQL connection, in Connector/J's words.
const (
	sslDisabled       = "DISABLED"
	sslPreferred      = "PREFERRED"
	sslRequired       = "REQUIRED"
	sslVerifyCA       = "VERIFY_CA"
	sslVerifyIdentity = "VERIFY_IDENTITY"
)

// urlTLS is what a connection.url asked for.
type urlTLS struct {
	mode     string      // one of the ssl* modes
	explicit bool        // the URL named a mode (else the driver's default applies)
	config   *tls.Config // nil for DISABLED
}

// param returns the first of names present in q (case-insensitively, as
// the Java drivers read their properties).
func param(q url.Values, names ...string) (string, string, bool) {
	for _, n := range names {
		for k, vs := range q {
			if strings.EqualFold(k, n) && len(vs) > 0 {
				return k, strings.TrimSpace(vs[len(vs)-1]), true
			}
		}
	}
	return "", "", false
}

func isTrue(v string) bool {
	return strings.EqualFold(v, "true") || v == "1" || strings.EqualFold(v, "yes")
}

// storePath reads a key store URL: file:/p, file:///p or a plain path.
func storePath(key, v string) (string, error) {
	if strings.HasPrefix(v, "file:") {
		u, err := url.Parse(v)
		if err != nil {
			return "", fmt.Errorf("connection.url %s: %w", key, err)
		}
		if u.Path != "" {
			return u.Path, nil
		}
		return u.Opaque, nil
	}
	if strings.Contains(v, "://") || strings.HasPrefix(v, "classpath:") {
		return "", fmt.Errorf("connection.url %s=%s: only file: URLs and paths are supported", key, v)
	}
	return v, nil
}

// mysqlURLTLS reads the TLS parameters of a jdbc:mysql:// or
// jdbc:mariadb:// URL for a server at host.
func mysqlURLTLS(q url.Values, mariadb bool, host string) (*urlTLS, error) {
	t := &urlTLS{mode: sslPreferred}
	if mariadb {
		t.mode = sslDisabled
	}
	if k, v, ok := param(q, "sslMode", "ssl-mode"); ok {
		t.explicit = true
		switch strings.ToUpper(strings.ReplaceAll(v, "-", "_")) {
		case "DISABLED", "DISABLE":
			t.mode = sslDisabled
		case "PREFERRED":
			t.mode = sslPreferred
		case "REQUIRED", "TRUST":
			t.mode = sslRequired
		case "VERIFY_CA":
			t.mode = sslVerifyCA
		case "VERIFY_IDENTITY", "VERIFY_FULL":
			t.mode = sslVerifyIdentity
		default:
			return nil, fmt.Errorf("connection.url %s=%s: want DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY (MariaDB: disable, trust, verify-ca, verify-full)", k, v)
		}
	} else if _, v, ok := param(q, "useSSL", "useSsl"); ok {
		// Connector/J's legacy properties.
		t.explicit = true
		_, req, _ := param(q, "requireSSL")
		_, verify, verifySet := param(q, "verifyServerCertificate")
		_, trustAll, _ := param(q, "trustServerCertificate")
		_, noHost, _ := param(q, "disableSslHostnameVerification")
		switch {
		case !isTrue(v):
			t.mode = sslDisabled
		case mariadb && isTrue(trustAll):
			t.mode = sslRequired
		case mariadb && isTrue(noHost):
			t.mode = sslVerifyCA
		case mariadb:
			t.mode = sslVerifyIdentity
		case verifySet && isTrue(verify):
			t.mode = sslVerifyCA
		case isTrue(req):
			t.mode = sslRequired
		default:
			t.mode = sslPreferred
		}
	}
	if t.mode == sslDisabled {
		return t, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	trust := tlsstore.Store{}
	if k, v, ok := param(q, "trustCertificateKeyStoreUrl", "trustStore"); ok && v != "" {
		p, err := storePath(k, v)
		if err != nil {
			return nil, err
		}
		tk, typ, _ := param(q, "trustCertificateKeyStoreType", "trustStoreType")
		pk, pw, _ := param(q, "trustCertificateKeyStorePassword", "trustStorePassword")
		trust = tlsstore.Store{Type: typ, Location: p, Password: pw, Names: names(k, tk, pk)}
	} else if k, v, ok := param(q, "serverSslCert"); ok && v != "" {
		p, err := storePath(k, v)
		if err != nil {
			return nil, err
		}
		trust = tlsstore.Store{Type: tlsstore.PEM, Location: p, Names: names(k, "", "")}
		if strings.HasPrefix(v, "-----BEGIN") {
			trust = tlsstore.Store{Type: tlsstore.PEM, Inline: v, Names: tlsstore.Names{Inline: "connection.url " + k}}
		}
	}
	pool, err := trust.Pool()
	if err != nil {
		return nil, err
	}
	if k, v, ok := param(q, "clientCertificateKeyStoreUrl", "keyStore"); ok && v != "" {
		p, err := storePath(k, v)
		if err != nil {
			return nil, err
		}
		tk, typ, _ := param(q, "clientCertificateKeyStoreType", "keyStoreType")
		pk, pw, _ := param(q, "clientCertificateKeyStorePassword", "keyStorePassword")
		_, keyPw, _ := param(q, "keyPassword")
		cert, err := tlsstore.Store{Type: typ, Location: p, Password: pw, KeyPassword: keyPw, Names: names(k, tk, pk)}.KeyPair()
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{*cert}
	}
	switch t.mode {
	case sslPreferred, sslRequired:
		tc.InsecureSkipVerify = true //nolint:gosec // Connector/J's PREFERRED/REQUIRED (MariaDB's trust) encrypt without checking the certificate
	case sslVerifyCA:
		tlsstore.VerifyChainOnly(tc, pool, "connection.url sslMode=VERIFY_CA")
	case sslVerifyIdentity:
		tc.RootCAs = pool
	}
	t.config = tc
	return t, nil
}

func names(loc, typ, pass string) tlsstore.Names {
	n := tlsstore.Names{Location: "connection.url " + loc}
	if typ != "" {
		n.Type = "connection.url " + typ
	}
	if pass != "" {
		n.Password = "connection.url " + pass
	}
	return n
}

// pgURLTLS rewrites pgjdbc's TLS parameters of a jdbc:postgresql:// URL into
// libpq's, which pgx reads: ssl=true → sslmode=verify-full (pgjdbc's meaning)
// unless sslmode is set, sslfactory=…NonValidatingFactory → require. A DER
// sslkey (pgjdbc's .pk8 default format) is refused: pgx reads PEM.
func pgURLTLS(q url.Values) error {
	_, ssl, sslSet := param(q, "ssl")
	fk, factory, _ := param(q, "sslfactory")
	_, mode, modeSet := param(q, "sslmode")
	for _, k := range []string{"ssl", "sslfactory", "sslhostnameverifier", "sslfactoryarg", "sslpasswordcallback", "sslResponseTimeout"} {
		for qk := range q {
			if strings.EqualFold(qk, k) {
				q.Del(qk)
			}
		}
	}
	switch factory {
	case "", "org.postgresql.ssl.LibPQFactory", "org.postgresql.ssl.DefaultJavaSSLFactory":
	case "org.postgresql.ssl.NonValidatingFactory":
		if !modeSet || mode == "verify-ca" || mode == "verify-full" {
			mode, modeSet = "require", true
		}
	default:
		return fmt.Errorf("connection.url %s=%s is not supported: use sslmode with sslrootcert, sslcert and sslkey", fk, factory)
	}
	if !modeSet && sslSet {
		if isTrue(ssl) {
			mode, modeSet = "verify-full", true
		} else {
			mode, modeSet = "disable", true
		}
	}
	if modeSet {
		q.Set("sslmode", strings.ToLower(mode))
	}
	if k, v, ok := param(q, "sslkey"); ok && v != "" {
		b, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("connection.url %s: %w", k, err)
		}
		if !strings.Contains(string(b), "-----BEGIN") {
			return fmt.Errorf("connection.url %s=%s: the key is DER (pgjdbc's .pk8 format); convert it to PEM (openssl pkcs8 -inform DER -in key.pk8 -out key.pem -nocrypt)", k, v)
		}
	}
	return nil
}

// openDB opens the pool with the TLS the URL asked for. After the first
// connection, a PREFERRED connection that found no TLS on the server says
// so in the log.
func (c *Conn) openDB() (*sqlx.DB, error) {
	if c.Driver != "mysql" || c.tls == nil || c.tls.config == nil {
		return sqlx.Open(c.Driver, c.DSN)
	}
	cfg, err := mysql.ParseDSN(c.DSN)
	if err != nil {
		return nil, err
	}
	cfg.TLS = c.tls.config.Clone()
	cfg.AllowFallbackToPlaintext = c.tls.mode == sslPreferred
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(conn), "mysql"), nil
}

// checkTLS runs after the first successful ping.
func (c *Conn) checkTLS(ctx context.Context, db *sqlx.DB) error {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	switch c.Driver {
	case "mysql":
		if c.tls == nil || c.tls.config == nil {
			return nil
		}
		var name, cipher string
		if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("read Ssl_cipher: %w", err)
		}
		if cipher == "" && c.tls.explicit {
			log.Warn("connection.url sslMode=PREFERRED: the server offers no TLS; the connection runs in plaintext", "host", c.Host, "port", c.Port)
		}
	case "pgx":
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		encrypted := true
		_ = conn.Raw(func(dc any) error {
			if sc, ok := dc.(*stdlib.Conn); ok {
				_, encrypted = sc.Conn().PgConn().Conn().(*tls.Conn)
			}
			return nil
		})
		if !encrypted && strings.Contains(c.DSN, "sslmode=prefer") {
			log.Warn("connection.url sslmode=prefer: the server offers no TLS; the connection runs in plaintext", "host", c.Host, "port", c.Port)
		}
	}
	return nil
}
