package mysql

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// tlsConfig builds the TLS settings of database.ssl.mode (Debezium's, after
// MySQL Connector/J's sslMode) with the key and trust stores; nil for
// disabled. The same config serves the SQL pool and the binlog connection.
//
//   - preferred, required: encrypted, the certificate not checked (as in
//     Connector/J); preferred falls back to plaintext when the server has no
//     TLS (checked at start and logged).
//   - verify_ca: the chain is checked against the trust store (or the
//     system roots), not the host name.
//   - verify_identity: chain and host name (database.hostname).
func tlsConfig(v *config.Values, mode, host string) (*tls.Config, error) {
	if mode == "disabled" {
		for _, k := range []string{KeySSLKeystore, KeySSLTruststore} {
			if strings.TrimSpace(v.String(k)) != "" {
				return nil, config.KeyError{Key: k, Message: fmt.Sprintf("%s is set but %s=disabled: set %s to preferred, required, verify_ca or verify_identity", k, KeySSLMode, KeySSLMode)}
			}
		}
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	ks := tlsstore.Store{Type: storeType(v.String(KeySSLKeystore)), Location: v.String(KeySSLKeystore), Password: v.String(KeySSLKeystorePassword),
		Names: tlsstore.Names{Location: KeySSLKeystore, Password: KeySSLKeystorePassword, KeyPassword: KeySSLKeystorePassword}}
	cert, err := ks.KeyPair()
	if err != nil {
		return nil, err
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	ts := tlsstore.Store{Type: storeType(v.String(KeySSLTruststore)), Location: v.String(KeySSLTruststore), Password: v.String(KeySSLTruststorePass),
		Names: tlsstore.Names{Location: KeySSLTruststore, Password: KeySSLTruststorePass}}
	pool, err := ts.Pool()
	if err != nil {
		return nil, err
	}
	switch mode {
	case "preferred", "required":
		tc.InsecureSkipVerify = true //nolint:gosec // Connector/J's PREFERRED/REQUIRED encrypt without checking the certificate
	case "verify_ca":
		tlsstore.VerifyChainOnly(tc, pool, KeySSLMode+"=verify_ca")
	case "verify_identity":
		tc.RootCAs = pool
	}
	return tc, nil
}

// sslMode normalizes database.ssl.mode: Debezium's MariaDbConnector names
// the modes as MariaDB's driver does (disable, trust, verify-ca,
// verify-full; default disable), its MySqlConnector as Connector/J does
// (default preferred). Both sets are accepted under either class.
func sslMode(mode string, raw map[string]string) string {
	if _, set := raw[KeySSLMode]; !set && strings.Contains(strings.ToLower(raw["connector.class"]), "mariadb") {
		return "disabled"
	}
	switch mode {
	case "disable":
		return "disabled"
	case "trust":
		return "required"
	case "verify-ca":
		return "verify_ca"
	case "verify-full":
		return "verify_identity"
	}
	return mode
}

// storeType reads a PEM file as PEM and anything else as JKS/PKCS12
// (Debezium has no store type key; Java reads JKS and PKCS12 alike).
func storeType(path string) string {
	if strings.TrimSpace(path) == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err == nil && bytes.Contains(b, []byte("-----BEGIN ")) {
		return tlsstore.PEM
	}
	return "" // the loader reports an unreadable file naming the key
}

// checkTLS runs at start: with preferred it logs when the server offers no
// TLS (the SQL connections and the binlog stream then run in plaintext),
// and fails when another mode left the SQL connection unencrypted.
func (t *Task) checkTLS(ctx context.Context, db *sql.DB) error {
	if t.s.tls == nil {
		return nil
	}
	var name, cipher string
	err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read Ssl_cipher: %w", err)
	}
	if cipher == "" {
		if t.s.sslMode != "preferred" {
			return fmt.Errorf("%s=%s: the SQL connection is not encrypted", KeySSLMode, t.s.sslMode)
		}
		t.log.Warn("database.ssl.mode=preferred: the server offers no TLS; the SQL connections and the binlog stream run in plaintext", "host", t.s.host, "port", t.s.port)
		t.server.noTLS = true
		return nil
	}
	t.log.Info("TLS to the server", "mode", t.s.sslMode, "cipher", cipher)
	return nil
}
