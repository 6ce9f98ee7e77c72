package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// tlsConfig builds the client TLS settings from Kafka's Java client keys:
//
//   - ssl.truststore.type=PEM with ssl.truststore.location (a PEM file of CA
//     certificates) or ssl.truststore.certificates (the PEM text itself);
//     librdkafka's ssl.ca.location is read too. Without any, the system's
//     roots are used.
//   - ssl.keystore.type=PEM for client certificates (mTLS):
//     ssl.keystore.location (one PEM file holding the PKCS#8 private key
//     and the certificate chain) or ssl.keystore.key with
//     ssl.keystore.certificate.chain; librdkafka's ssl.certificate.location
//     and ssl.key.location too. Encrypted keys (ssl.key.password) are not
//     supported and are refused.
//   - ssl.endpoint.identification.algorithm: "https" (Kafka's default)
//     checks the broker's host name; empty checks the certificate chain
//     only, as Kafka does.
//
// JKS and PKCS12 stores are refused with an error naming the key, never
// read half-way.
func tlsConfig(props map[string]string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, k := range []string{"ssl.truststore.type", "ssl.keystore.type"} {
		if v := strings.ToUpper(strings.TrimSpace(props[k])); v != "" && v != "PEM" {
			return nil, fmt.Errorf("%s=%s is not supported: convert the store to PEM and set %s=PEM (Kafka reads PEM stores too)", k, v, k)
		}
	}
	var caPEM []byte
	switch {
	case strings.TrimSpace(props["ssl.truststore.certificates"]) != "":
		caPEM = []byte(props["ssl.truststore.certificates"])
	case props["ssl.truststore.location"] != "":
		if strings.ToUpper(strings.TrimSpace(props["ssl.truststore.type"])) != "PEM" {
			return nil, errors.New("ssl.truststore.location: set ssl.truststore.type=PEM (JKS and PKCS12 truststores are not supported)")
		}
		b, err := os.ReadFile(props["ssl.truststore.location"])
		if err != nil {
			return nil, fmt.Errorf("ssl.truststore.location: %w", err)
		}
		caPEM = b
	case props["ssl.ca.location"] != "":
		b, err := os.ReadFile(props["ssl.ca.location"])
		if err != nil {
			return nil, fmt.Errorf("ssl.ca.location: %w", err)
		}
		caPEM = b
	}
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("ssl.truststore: no PEM certificate found")
		}
		tc.RootCAs = pool
	}
	if v := strings.TrimSpace(props["ssl.key.password"]); v != "" {
		return nil, errors.New("ssl.key.password: encrypted private keys are not supported; use an unencrypted PKCS#8 key in a file only the worker can read")
	}
	cert, ok, err := clientCertificate(props)
	if err != nil {
		return nil, err
	}
	if ok {
		tc.Certificates = []tls.Certificate{cert}
	}
	// Kafka: an empty ssl.endpoint.identification.algorithm turns host name
	// checks off, but the chain is still verified against the truststore.
	if v, set := props["ssl.endpoint.identification.algorithm"]; set && strings.TrimSpace(v) == "" {
		roots := tc.RootCAs
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("kafka TLS: broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			if err != nil {
				return fmt.Errorf("kafka TLS: broker certificate: %w", err)
			}
			return nil
		}
	} else if v := strings.ToLower(strings.TrimSpace(v)); set && v != "https" {
		return nil, fmt.Errorf("ssl.endpoint.identification.algorithm: unsupported value %q (https, or empty to skip host name checks)", v)
	}
	return tc, nil
}

// clientCertificate reads the client's key and certificate chain, if any.
func clientCertificate(props map[string]string) (tls.Certificate, bool, error) {
	switch {
	case strings.TrimSpace(props["ssl.keystore.key"]) != "" || strings.TrimSpace(props["ssl.keystore.certificate.chain"]) != "":
		c, err := tls.X509KeyPair([]byte(props["ssl.keystore.certificate.chain"]), []byte(props["ssl.keystore.key"]))
		if err != nil {
			return c, false, fmt.Errorf("ssl.keystore.key / ssl.keystore.certificate.chain: %w", err)
		}
		return c, true, nil
	case props["ssl.keystore.location"] != "":
		if strings.ToUpper(strings.TrimSpace(props["ssl.keystore.type"])) != "PEM" {
			return tls.Certificate{}, false, errors.New("ssl.keystore.location: set ssl.keystore.type=PEM (JKS and PKCS12 keystores are not supported)")
		}
		b, err := os.ReadFile(props["ssl.keystore.location"])
		if err != nil {
			return tls.Certificate{}, false, fmt.Errorf("ssl.keystore.location: %w", err)
		}
		var certs, keys []byte
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if strings.Contains(blk.Type, "PRIVATE KEY") {
				keys = append(keys, pem.EncodeToMemory(blk)...)
			} else {
				certs = append(certs, pem.EncodeToMemory(blk)...)
			}
		}
		c, err := tls.X509KeyPair(certs, keys)
		if err != nil {
			return c, false, fmt.Errorf("ssl.keystore.location: %w", err)
		}
		return c, true, nil
	case props["ssl.certificate.location"] != "" || props["ssl.key.location"] != "":
		c, err := tls.LoadX509KeyPair(props["ssl.certificate.location"], props["ssl.key.location"])
		if err != nil {
			return c, false, fmt.Errorf("ssl.certificate.location / ssl.key.location: %w", err)
		}
		return c, true, nil
	}
	return tls.Certificate{}, false, nil
}
