package kafka

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// tlsConfig builds the client TLS settings from Kafka's Java client keys:
//
//   - ssl.truststore.type (PEM, PKCS12 or JKS; Kafka's default JKS, and a
//     JKS/PKCS12 type reads either format) with ssl.truststore.location and
//     ssl.truststore.password, or ssl.truststore.certificates (the PEM text
//     itself); librdkafka's ssl.ca.location is read too. Without any, the
//     system's roots are used.
//   - ssl.keystore.type with ssl.keystore.location, ssl.keystore.password
//     and ssl.key.password for client certificates (mTLS), or PEM text in
//     ssl.keystore.key with ssl.keystore.certificate.chain; librdkafka's
//     ssl.certificate.location and ssl.key.location too. Encrypted PEM
//     keys (ssl.key.password with a PEM key) are refused.
//   - ssl.endpoint.identification.algorithm: "https" (Kafka's default)
//     checks the broker's host name; empty checks the certificate chain
//     only, as Kafka does.
func tlsConfig(props map[string]string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	trust := tlsstore.Store{Type: props["ssl.truststore.type"], Location: props["ssl.truststore.location"],
		Password: props["ssl.truststore.password"], Inline: props["ssl.truststore.certificates"],
		Names: tlsstore.Names{Type: "ssl.truststore.type", Location: "ssl.truststore.location",
			Password: "ssl.truststore.password", Inline: "ssl.truststore.certificates"}}
	if !trust.Configured() && props["ssl.ca.location"] != "" {
		trust = tlsstore.Store{Type: tlsstore.PEM, Location: props["ssl.ca.location"], Names: tlsstore.Names{Location: "ssl.ca.location"}}
	}
	pool, err := trust.Pool()
	if err != nil {
		return nil, err
	}
	tc.RootCAs = pool
	cert, err := clientCertificate(props)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	// Kafka: an empty ssl.endpoint.identification.algorithm turns host name
	// checks off, but the chain is still verified against the truststore.
	if v, set := props["ssl.endpoint.identification.algorithm"]; set && strings.TrimSpace(v) == "" {
		tlsstore.VerifyChainOnly(tc, pool, "kafka TLS")
	} else if v := strings.ToLower(strings.TrimSpace(v)); set && v != "https" {
		return nil, fmt.Errorf("ssl.endpoint.identification.algorithm: unsupported value %q (https, or empty to skip host name checks)", v)
	}
	return tc, nil
}

// clientCertificate reads the client's key and certificate chain, if any.
func clientCertificate(props map[string]string) (*tls.Certificate, error) {
	ks := tlsstore.Store{Type: props["ssl.keystore.type"], Location: props["ssl.keystore.location"],
		Password: props["ssl.keystore.password"], KeyPassword: props["ssl.key.password"],
		Names: tlsstore.Names{Type: "ssl.keystore.type", Location: "ssl.keystore.location",
			Password: "ssl.keystore.password", KeyPassword: "ssl.key.password", Inline: "ssl.keystore.key / ssl.keystore.certificate.chain"}}
	if strings.TrimSpace(props["ssl.keystore.key"]) != "" || strings.TrimSpace(props["ssl.keystore.certificate.chain"]) != "" {
		ks.Location = ""
		ks.Inline = props["ssl.keystore.key"] + "\n" + props["ssl.keystore.certificate.chain"]
	}
	if !ks.Configured() && (props["ssl.certificate.location"] != "" || props["ssl.key.location"] != "") {
		c, err := tls.LoadX509KeyPair(props["ssl.certificate.location"], props["ssl.key.location"])
		if err != nil {
			return nil, fmt.Errorf("ssl.certificate.location / ssl.key.location: %w", err)
		}
		return &c, nil
	}
	if strings.TrimSpace(props["ssl.key.password"]) != "" && !ks.Configured() {
		return nil, fmt.Errorf("ssl.key.password: set without a key store (ssl.keystore.location)")
	}
	return ks.KeyPair()
}
