package rest

// TLS for https listeners and for worker-to-worker calls, from Kafka's
// ssl.* keys as Connect's SSLUtils reads them: the keys prefixed with
// listeners.https. when any such key is set, else the plain ssl.* keys
// (all or nothing, as AbstractConfig.valuesWithPrefixAllOrNothing).

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// HTTPSPrefix prefixes the ssl.* keys of the https listeners.
const HTTPSPrefix = "listeners.https."

// SSL keys (Kafka's SslConfigs names).
const (
	KeySSLKeystoreType         = "ssl.keystore.type"
	KeySSLKeystoreLocation     = "ssl.keystore.location"
	KeySSLKeystorePassword     = "ssl.keystore.password"
	KeySSLKeyPassword          = "ssl.key.password"
	KeySSLKeystoreKey          = "ssl.keystore.key"
	KeySSLKeystoreChain        = "ssl.keystore.certificate.chain"
	KeySSLTruststoreType       = "ssl.truststore.type"
	KeySSLTruststoreLocation   = "ssl.truststore.location"
	KeySSLTruststorePassword   = "ssl.truststore.password"
	KeySSLTruststoreCerts      = "ssl.truststore.certificates"
	KeySSLClientAuth           = "ssl.client.auth"
	KeySSLEnabledProtocols     = "ssl.enabled.protocols"
	KeySSLProtocol             = "ssl.protocol"
	KeySSLCipherSuites         = "ssl.cipher.suites"
	KeySSLEndpointIDAlgorithm  = "ssl.endpoint.identification.algorithm"
	KeySSLKeymanagerAlgorithm  = "ssl.keymanager.algorithm"
	KeySSLTrustmanagerAlgoritm = "ssl.trustmanager.algorithm"
)

// sslSettings are the ssl.* values that apply to the https listeners, with
// the name each was read under (for errors).
type sslSettings struct {
	prefix string
	vals   map[string]string
}

func httpsSSL(worker map[string]string) sslSettings {
	s := sslSettings{vals: map[string]string{}}
	for k, v := range worker {
		if rest, ok := strings.CutPrefix(k, HTTPSPrefix); ok {
			s.prefix = HTTPSPrefix
			s.vals[rest] = v
		}
	}
	if s.prefix == "" {
		for k, v := range worker {
			if strings.HasPrefix(k, "ssl.") {
				s.vals[k] = v
			}
		}
	}
	return s
}

func (s sslSettings) get(k string) string  { return strings.TrimSpace(s.vals[k]) }
func (s sslSettings) name(k string) string { return s.prefix + k }

// serverTLS builds the https listeners' TLS config.
func (s sslSettings) serverTLS() (*tls.Config, error) {
	cfg, err := s.base()
	if err != nil {
		return nil, err
	}
	cert, err := s.keyPair()
	if err != nil {
		return nil, err
	}
	if cert == nil {
		return nil, fmt.Errorf("%s: an https listener needs a key store with the server's key and certificate (set %s, %s and %s)",
			s.name(KeySSLKeystoreLocation), s.name(KeySSLKeystoreType), s.name(KeySSLKeystoreLocation), s.name(KeySSLKeystorePassword))
	}
	cfg.Certificates = []tls.Certificate{*cert}
	pool, err := s.trustPool()
	if err != nil {
		return nil, err
	}
	switch mode := strings.ToLower(s.get(KeySSLClientAuth)); mode {
	case "", "none":
		cfg.ClientAuth = tls.NoClientCert
	case "requested", "required":
		if pool == nil {
			return nil, fmt.Errorf("%s=%s: client certificates are checked against a trust store; set %s", s.name(KeySSLClientAuth), mode, s.name(KeySSLTruststoreLocation))
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if mode == "required" {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	default:
		return nil, fmt.Errorf("%s: Invalid value %s: want required, requested or none", s.name(KeySSLClientAuth), mode)
	}
	return cfg, nil
}

// clientTLS builds the TLS config a worker uses to call another worker's
// https listener (Connect's createClientSideSslContextFactory): the trust
// store verifies the peer (the system roots when none is set), the key
// store is offered as client certificate, and an empty
// ssl.endpoint.identification.algorithm skips only the host name check.
func (s sslSettings) clientTLS() (*tls.Config, error) {
	cfg, err := s.base()
	if err != nil {
		return nil, err
	}
	cert, err := s.keyPair()
	if err != nil {
		return nil, err
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	pool, err := s.trustPool()
	if err != nil {
		return nil, err
	}
	cfg.RootCAs = pool
	alg, set := s.vals[KeySSLEndpointIDAlgorithm]
	switch alg = strings.ToLower(strings.TrimSpace(alg)); {
	case !set || alg == "https":
	case alg == "":
		// Verify the chain against the trust store, not the host name.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter})
			return err
		}
	default:
		return nil, fmt.Errorf("%s: Invalid value %s: want https or empty", s.name(KeySSLEndpointIDAlgorithm), alg)
	}
	return cfg, nil
}

// base reads the protocol and cipher keys.
func (s sslSettings) base() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if p := s.get(KeySSLEnabledProtocols); p != "" {
		var vs []uint16
		for _, name := range strings.Split(p, ",") {
			switch strings.TrimSpace(name) {
			case "TLSv1.2":
				vs = append(vs, tls.VersionTLS12)
			case "TLSv1.3":
				vs = append(vs, tls.VersionTLS13)
			case "":
			default:
				return nil, fmt.Errorf("%s: unsupported protocol %q: want TLSv1.2 and/or TLSv1.3", s.name(KeySSLEnabledProtocols), strings.TrimSpace(name))
			}
		}
		if len(vs) > 0 {
			cfg.MinVersion, cfg.MaxVersion = slices.Min(vs), slices.Max(vs)
		}
	}
	if p := s.get(KeySSLProtocol); p != "" && p != "TLS" && p != "TLSv1.2" && p != "TLSv1.3" {
		return nil, fmt.Errorf("%s: unsupported value %q: want TLS, TLSv1.2 or TLSv1.3", s.name(KeySSLProtocol), p)
	}
	if cs := s.get(KeySSLCipherSuites); cs != "" {
		byName := map[string]uint16{}
		for _, c := range tls.CipherSuites() {
			byName[c.Name] = c.ID
		}
		for _, name := range strings.Split(cs, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			id, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("%s: unsupported or insecure cipher suite %q", s.name(KeySSLCipherSuites), name)
			}
			cfg.CipherSuites = append(cfg.CipherSuites, id)
		}
	}
	for k, def := range map[string]string{KeySSLKeymanagerAlgorithm: "SunX509", KeySSLTrustmanagerAlgoritm: "PKIX"} {
		if v := s.get(k); v != "" && v != def {
			return nil, fmt.Errorf("%s: only %s is supported, got %s", s.name(k), def, v)
		}
	}
	for _, k := range []string{"ssl.provider", "ssl.secure.random.implementation", "ssl.engine.factory.class"} {
		if s.get(k) != "" {
			return nil, fmt.Errorf("%s is not supported for the REST API's TLS", s.name(k))
		}
	}
	return cfg, nil
}

// keyPair loads the key store (nil when none is configured).
func (s sslSettings) keyPair() (*tls.Certificate, error) {
	typ := strings.ToUpper(s.get(KeySSLKeystoreType))
	loc := s.get(KeySSLKeystoreLocation)
	if key := s.vals[KeySSLKeystoreKey]; strings.TrimSpace(key) != "" {
		if typ != "PEM" {
			return nil, fmt.Errorf("%s needs %s=PEM", s.name(KeySSLKeystoreKey), s.name(KeySSLKeystoreType))
		}
		return pemKeyPair([]byte(key+"\n"+s.vals[KeySSLKeystoreChain]), s.name(KeySSLKeystoreKey))
	}
	if loc == "" {
		return nil, nil
	}
	data, err := os.ReadFile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name(KeySSLKeystoreLocation), err)
	}
	storePass := s.vals[KeySSLKeystorePassword]
	keyPass := s.vals[KeySSLKeyPassword]
	if keyPass == "" {
		keyPass = storePass
	}
	switch typ {
	case "PEM":
		return pemKeyPair(data, s.name(KeySSLKeystoreLocation))
	case "", "JKS", "PKCS12":
		// Java's JKS and PKCS12 key stores each read the other format too
		// (keystore.type.compat), so the file's magic number decides.
		if isJKS(data) {
			return jksKeyPair(data, storePass, keyPass, s.name(KeySSLKeystoreLocation))
		}
		key, leaf, chain, err := pkcs12.DecodeChain(data, storePass)
		if err != nil {
			return nil, fmt.Errorf("%s: reading PKCS12 key store %s (check %s): %w", s.name(KeySSLKeystoreLocation), loc, s.name(KeySSLKeystorePassword), err)
		}
		c := &tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
		for _, ca := range chain {
			c.Certificate = append(c.Certificate, ca.Raw)
		}
		return c, nil
	default:
		return nil, fmt.Errorf("%s: Invalid value %s: want PEM, PKCS12 or JKS", s.name(KeySSLKeystoreType), typ)
	}
}

// trustPool loads the trust store (nil when none is configured).
func (s sslSettings) trustPool() (*x509.CertPool, error) {
	typ := strings.ToUpper(s.get(KeySSLTruststoreType))
	if inline := s.vals[KeySSLTruststoreCerts]; strings.TrimSpace(inline) != "" {
		if typ != "PEM" {
			return nil, fmt.Errorf("%s needs %s=PEM", s.name(KeySSLTruststoreCerts), s.name(KeySSLTruststoreType))
		}
		return pemPool([]byte(inline), s.name(KeySSLTruststoreCerts))
	}
	loc := s.get(KeySSLTruststoreLocation)
	if loc == "" {
		return nil, nil
	}
	data, err := os.ReadFile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name(KeySSLTruststoreLocation), err)
	}
	pass := s.vals[KeySSLTruststorePassword]
	switch typ {
	case "PEM":
		return pemPool(data, s.name(KeySSLTruststoreLocation))
	case "", "JKS", "PKCS12":
		pool := x509.NewCertPool()
		if isJKS(data) {
			ks := keystore.New()
			if err := ks.Load(bytes.NewReader(data), []byte(pass)); err != nil {
				return nil, fmt.Errorf("%s: reading JKS trust store %s (check %s): %w", s.name(KeySSLTruststoreLocation), loc, s.name(KeySSLTruststorePassword), err)
			}
			for _, a := range ks.Aliases() {
				e, err := ks.GetTrustedCertificateEntry(a)
				if err != nil {
					continue // a key entry: not a trust anchor
				}
				c, err := x509.ParseCertificate(e.Certificate.Content)
				if err != nil {
					return nil, fmt.Errorf("%s: entry %s: %w", s.name(KeySSLTruststoreLocation), a, err)
				}
				pool.AddCert(c)
			}
		} else {
			certs, err := pkcs12.DecodeTrustStore(data, pass)
			if err != nil {
				return nil, fmt.Errorf("%s: reading PKCS12 trust store %s (check %s): %w", s.name(KeySSLTruststoreLocation), loc, s.name(KeySSLTruststorePassword), err)
			}
			for _, c := range certs {
				pool.AddCert(c)
			}
		}
		return pool, nil
	default:
		return nil, fmt.Errorf("%s: Invalid value %s: want PEM, PKCS12 or JKS", s.name(KeySSLTruststoreType), typ)
	}
}

func isJKS(b []byte) bool { return len(b) >= 4 && bytes.Equal(b[:4], []byte{0xfe, 0xed, 0xfe, 0xed}) }

func jksKeyPair(data []byte, storePass, keyPass, key string) (*tls.Certificate, error) {
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(storePass)); err != nil {
		return nil, fmt.Errorf("%s: reading JKS key store: %w", key, err)
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

// pemKeyPair reads a private key and its certificate chain from PEM.
// Encrypted private keys are refused (Go's standard library does not
// decrypt PKCS#8).
func pemKeyPair(data []byte, key string) (*tls.Certificate, error) {
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
			return nil, fmt.Errorf("%s: encrypted PEM private keys are not supported; use an unencrypted key (protect the file) or a PKCS12 key store", key)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			pk, err := parsePrivateKey(b.Bytes)
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
	return &c, nil
}

func parsePrivateKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("unreadable PEM private key (want PKCS#8, PKCS#1 or SEC 1)")
}

func pemPool(data []byte, key string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM certificate found", key)
	}
	return pool, nil
}
