package rest

// TLS for https listeners and for worker-to-worker calls, from Kafka's
// ssl.* keys as Connect's SSLUtils reads them: the keys prefixed with
// listeners.https. when any such key is set, else the plain ssl.* keys
// (all or nothing, as AbstractConfig.valuesWithPrefixAllOrNothing).

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/tributary-cdc/tributary/internal/tlsstore"
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
		tlsstore.VerifyChainOnly(cfg, pool, "worker TLS")
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

// store is the key store (key) or trust store as tlsstore reads it.
func (s sslSettings) store(trust bool) tlsstore.Store {
	if trust {
		return tlsstore.Store{Type: s.get(KeySSLTruststoreType), Location: s.get(KeySSLTruststoreLocation),
			Password: s.vals[KeySSLTruststorePassword], Inline: s.vals[KeySSLTruststoreCerts],
			Names: tlsstore.Names{Type: s.name(KeySSLTruststoreType), Location: s.name(KeySSLTruststoreLocation),
				Password: s.name(KeySSLTruststorePassword), Inline: s.name(KeySSLTruststoreCerts)}}
	}
	st := tlsstore.Store{Type: s.get(KeySSLKeystoreType), Location: s.get(KeySSLKeystoreLocation),
		Password: s.vals[KeySSLKeystorePassword], KeyPassword: s.vals[KeySSLKeyPassword],
		Names: tlsstore.Names{Type: s.name(KeySSLKeystoreType), Location: s.name(KeySSLKeystoreLocation),
			Password: s.name(KeySSLKeystorePassword), KeyPassword: s.name(KeySSLKeyPassword), Inline: s.name(KeySSLKeystoreKey)}}
	if key := s.vals[KeySSLKeystoreKey]; strings.TrimSpace(key) != "" {
		st.Inline = key + "\n" + s.vals[KeySSLKeystoreChain]
	}
	return st
}

// keyPair loads the key store (nil when none is configured).
func (s sslSettings) keyPair() (*tls.Certificate, error) {
	st := s.store(false)
	if st.Inline != "" && strings.ToUpper(st.Type) != tlsstore.PEM {
		return nil, fmt.Errorf("%s needs %s=PEM", s.name(KeySSLKeystoreKey), s.name(KeySSLKeystoreType))
	}
	return st.KeyPair()
}

// trustPool loads the trust store (nil when none is configured).
func (s sslSettings) trustPool() (*x509.CertPool, error) {
	st := s.store(true)
	if strings.TrimSpace(st.Inline) != "" && strings.ToUpper(st.Type) != tlsstore.PEM {
		return nil, fmt.Errorf("%s needs %s=PEM", s.name(KeySSLTruststoreCerts), s.name(KeySSLTruststoreType))
	}
	return st.Pool()
}
