// Package tlsstore loads key stores and trust stores the way Kafka's and
// JDBC drivers' users already have them: PEM files (or PEM text), PKCS12 and
// Java's JKS. It is shared plumbing for every TLS client and server of
// Tributary (Kafka clients, the REST API, database connections, the schema
// registry client, the S3 sink), so one store loads the same everywhere.
//
// Every error names the configuration key the failing value came from (the
// caller passes the names), and never contains a password.
//
// It also builds the two verification policies libpq and the MySQL drivers
// name: the full check (chain and host name, Go's default) and the chain-only
// check (VERIFY_CA, verify-ca, an empty ssl.endpoint.identification.algorithm),
// which never turns CA verification off.
package tlsstore

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Store types, as Kafka names them (ssl.keystore.type / ssl.truststore.type).
const (
	PEM    = "PEM"
	PKCS12 = "PKCS12"
	JKS    = "JKS"
)

// Names are the configuration keys a store's settings were read from; they
// appear in error messages. An empty name is shown as the field's role.
type Names struct {
	Type, Location, Password, KeyPassword, Inline string
}

// Store is one key store or trust store.
type Store struct {
	// Type is PEM, PKCS12 or JKS (any case). Empty reads JKS or PKCS12,
	// whichever the file is (Java's stores read each other's format too,
	// keystore.type.compat); a PEM file then needs Type=PEM, as in Kafka.
	Type string
	// Location is the store's file; empty when Inline is used or no store
	// is configured.
	Location string
	// Password opens a PKCS12/JKS store.
	Password string
	// KeyPassword opens a JKS private key entry (defaults to Password).
	// With PEM it would decrypt an encrypted key, which is refused.
	KeyPassword string
	// Inline is PEM text given in the configuration itself (Kafka's
	// ssl.keystore.key + ssl.keystore.certificate.chain, or
	// ssl.truststore.certificates); it needs Type PEM (or empty).
	Inline string
	// Names are the keys the values came from.
	Names Names
}

func (s Store) name(n, role string) string {
	if n != "" {
		return n
	}
	return role
}

// Configured reports whether a store is set at all.
func (s Store) Configured() bool {
	return strings.TrimSpace(s.Location) != "" || strings.TrimSpace(s.Inline) != ""
}

func (s Store) typ() (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s.Type))
	switch t {
	case "", PEM, PKCS12, JKS:
		return t, nil
	}
	return "", fmt.Errorf("%s: Invalid value %s: want PEM, PKCS12 or JKS", s.name(s.Names.Type, "store type"), t)
}

// KeyPair loads the private key and certificate chain; nil, nil when no key
// store is configured.
func (s Store) KeyPair() (*tls.Certificate, error) {
	typ, err := s.typ()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Inline) != "" {
		if typ != PEM && typ != "" {
			return nil, fmt.Errorf("%s needs %s=PEM", s.name(s.Names.Inline, "the PEM key"), s.name(s.Names.Type, "store type"))
		}
		if s.KeyPassword != "" {
			return nil, encryptedPEM(s.name(s.Names.KeyPassword, "key password"))
		}
		return PEMKeyPair([]byte(s.Inline), s.name(s.Names.Inline, "PEM key"))
	}
	loc := strings.TrimSpace(s.Location)
	if loc == "" {
		return nil, nil
	}
	locName := s.name(s.Names.Location, "key store")
	data, err := os.ReadFile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", locName, err)
	}
	keyPass := s.KeyPassword
	if keyPass == "" {
		keyPass = s.Password
	}
	if typ == PEM {
		if s.KeyPassword != "" {
			return nil, encryptedPEM(s.name(s.Names.KeyPassword, "key password"))
		}
		return PEMKeyPair(data, locName)
	}
	if isJKS(data) {
		return jksKeyPair(data, s.Password, keyPass, locName, s.name(s.Names.Password, "store password"))
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, s.Password)
	if err != nil {
		return nil, fmt.Errorf("%s: reading PKCS12 key store %s (check %s): %w", locName, loc, s.name(s.Names.Password, "the store password"), err)
	}
	c := &tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
	for _, ca := range chain {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return c, nil
}

func encryptedPEM(key string) error {
	return fmt.Errorf("%s: encrypted PEM private keys are not supported; use an unencrypted key in a file only the worker can read, or a PKCS12 key store", key)
}

// Pool loads the trusted certificates; nil, nil when no trust store is
// configured (callers then use the system roots).
func (s Store) Pool() (*x509.CertPool, error) {
	typ, err := s.typ()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Inline) != "" {
		if typ != PEM && typ != "" {
			return nil, fmt.Errorf("%s needs %s=PEM", s.name(s.Names.Inline, "the PEM certificates"), s.name(s.Names.Type, "store type"))
		}
		return PEMPool([]byte(s.Inline), s.name(s.Names.Inline, "PEM certificates"))
	}
	loc := strings.TrimSpace(s.Location)
	if loc == "" {
		return nil, nil
	}
	locName := s.name(s.Names.Location, "trust store")
	data, err := os.ReadFile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", locName, err)
	}
	if typ == PEM {
		return PEMPool(data, locName)
	}
	pool := x509.NewCertPool()
	passName := s.name(s.Names.Password, "the store password")
	if isJKS(data) {
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(data), []byte(s.Password)); err != nil {
			return nil, fmt.Errorf("%s: reading JKS trust store %s (check %s): %w", locName, loc, passName, err)
		}
		n := 0
		for _, a := range ks.Aliases() {
			e, err := ks.GetTrustedCertificateEntry(a)
			if err != nil {
				continue // a key entry: not a trust anchor
			}
			c, err := x509.ParseCertificate(e.Certificate.Content)
			if err != nil {
				return nil, fmt.Errorf("%s: entry %s: %w", locName, a, err)
			}
			pool.AddCert(c)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: the JKS trust store %s holds no trusted certificate entry", locName, loc)
		}
		return pool, nil
	}
	certs, err := pkcs12.DecodeTrustStore(data, s.Password)
	if err != nil {
		hint := ""
		if bytes.Contains(data, []byte("-----BEGIN")) {
			hint = fmt.Sprintf("; the file is PEM: set %s=PEM", s.name(s.Names.Type, "the store type"))
		}
		return nil, fmt.Errorf("%s: reading PKCS12 trust store %s (check %s%s): %w", locName, loc, passName, hint, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: the PKCS12 trust store %s holds no trusted certificate", locName, loc)
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

func isJKS(b []byte) bool { return len(b) >= 4 && bytes.Equal(b[:4], []byte{0xfe, 0xed, 0xfe, 0xed}) }

func jksKeyPair(data []byte, storePass, keyPass, key, passName string) (*tls.Certificate, error) {
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(storePass)); err != nil {
		return nil, fmt.Errorf("%s: reading JKS key store (check %s): %w", key, passName, err)
	}
	for _, a := range ks.Aliases() {
		if !ks.IsPrivateKeyEntry(a) {
			continue
		}
		e, err := ks.GetPrivateKeyEntry(a, []byte(keyPass))
		if err != nil {
			return nil, fmt.Errorf("%s: key entry %s (check the key password): %w", key, a, err)
		}
		pk, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("%s: key entry %s: %w", key, a, err)
		}
		c := &tls.Certificate{PrivateKey: pk}
		for _, cc := range e.CertificateChain {
			c.Certificate = append(c.Certificate, cc.Content)
		}
		if len(c.Certificate) == 0 {
			return nil, fmt.Errorf("%s: key entry %s has no certificate", key, a)
		}
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%s: key entry %s: %w", key, a, err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s: the JKS key store holds no private key entry", key)
}

// PEMKeyPair reads a private key and its certificate chain from PEM (in any
// order, one or more files concatenated). Encrypted private keys are refused
// (Go's standard library does not decrypt PKCS#8); key names the
// configuration key for errors.
func PEMKeyPair(data []byte, key string) (*tls.Certificate, error) {
	var c tls.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			c.Certificate = append(c.Certificate, b.Bytes)
		case b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "":
			return nil, encryptedPEM(key)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			pk, err := ParsePrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			c.PrivateKey = pk
		}
	}
	if c.PrivateKey == nil || len(c.Certificate) == 0 {
		return nil, fmt.Errorf("%s: want a PEM private key and its certificate chain", key)
	}
	var err error
	if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if _, err := tls.X509KeyPair(pemCerts(c.Certificate), pemKey(c.PrivateKey)); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return &c, nil
}

func pemCerts(ders [][]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return out
}

func pemKey(k crypto.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// ParsePrivateKey reads a DER private key: PKCS#8, PKCS#1 or SEC 1.
func ParsePrivateKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("unreadable private key (want PKCS#8, PKCS#1 or SEC 1)")
}

// PEMPool reads PEM certificates into a pool.
func PEMPool(data []byte, key string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM certificate found", key)
	}
	return pool, nil
}

// VerifyChainOnly makes cfg check the peer's certificate chain against roots
// (the system roots when nil) but not its host name: MySQL's VERIFY_CA,
// libpq's verify-ca, Kafka's empty ssl.endpoint.identification.algorithm.
// It sets InsecureSkipVerify only to replace Go's check with this one; the
// chain is always verified.
func VerifyChainOnly(cfg *tls.Config, roots *x509.CertPool, what string) {
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("%s: the server sent no certificate", what)
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
			return fmt.Errorf("%s: server certificate: %w", what, err)
		}
		return nil
	}
}

// IsCertificateError reports whether err (or an error it wraps) is a
// failed certificate check: unknown authority, wrong host name, expired,
// or an error of VerifyChainOnly. Retrying does not help with those.
func IsCertificateError(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		cve *tls.CertificateVerificationError
	)
	if errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &cve) {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "tls: failed to verify certificate")
}
