package registry

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// TLS keys of the registry client, as Confluent's SchemaRegistryClientConfig
// names them (Kafka's ssl.* keys behind the schema.registry. prefix; in a
// converter config they follow key.converter. / value.converter.).
const (
	KeySSLTruststoreLocation = "schema.registry.ssl.truststore.location"
	KeySSLTruststorePassword = "schema.registry.ssl.truststore.password"
	KeySSLTruststoreType     = "schema.registry.ssl.truststore.type"
	KeySSLTruststoreCerts    = "schema.registry.ssl.truststore.certificates"
	KeySSLKeystoreLocation   = "schema.registry.ssl.keystore.location"
	KeySSLKeystorePassword   = "schema.registry.ssl.keystore.password"
	KeySSLKeystoreType       = "schema.registry.ssl.keystore.type"
	KeySSLKeyPassword        = "schema.registry.ssl.key.password"
	KeySSLKeystoreKey        = "schema.registry.ssl.keystore.key"
	KeySSLKeystoreChain      = "schema.registry.ssl.keystore.certificate.chain"
	KeySSLEndpointIDAlg      = "schema.registry.ssl.endpoint.identification.algorithm"
)

// TLSKeys lists the keys TLSConfig reads.
var TLSKeys = []string{KeySSLTruststoreLocation, KeySSLTruststorePassword, KeySSLTruststoreType, KeySSLTruststoreCerts,
	KeySSLKeystoreLocation, KeySSLKeystorePassword, KeySSLKeystoreType, KeySSLKeyPassword, KeySSLKeystoreKey, KeySSLKeystoreChain,
	KeySSLEndpointIDAlg}

// TLSConfig builds the client's TLS settings for https registry URLs from
// the schema.registry.ssl.* keys; nil when none is set (the system roots
// then verify the registry). Store types are PEM, PKCS12 or JKS (default
// JKS, either binary format read); the trust store verifies the registry,
// the key store is the client certificate; an empty
// schema.registry.ssl.endpoint.identification.algorithm skips only the host
// name check.
func TLSConfig(props map[string]string) (*tls.Config, error) {
	set := false
	for _, k := range TLSKeys {
		if _, ok := props[k]; ok {
			set = true
		}
	}
	if !set {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	trust := tlsstore.Store{Type: props[KeySSLTruststoreType], Location: props[KeySSLTruststoreLocation], Password: props[KeySSLTruststorePassword],
		Inline: props[KeySSLTruststoreCerts], Names: tlsstore.Names{Type: KeySSLTruststoreType, Location: KeySSLTruststoreLocation,
			Password: KeySSLTruststorePassword, Inline: KeySSLTruststoreCerts}}
	pool, err := trust.Pool()
	if err != nil {
		return nil, err
	}
	tc.RootCAs = pool
	ks := tlsstore.Store{Type: props[KeySSLKeystoreType], Location: props[KeySSLKeystoreLocation], Password: props[KeySSLKeystorePassword],
		KeyPassword: props[KeySSLKeyPassword], Names: tlsstore.Names{Type: KeySSLKeystoreType, Location: KeySSLKeystoreLocation,
			Password: KeySSLKeystorePassword, KeyPassword: KeySSLKeyPassword, Inline: KeySSLKeystoreKey}}
	if strings.TrimSpace(props[KeySSLKeystoreKey]) != "" {
		ks.Location, ks.Inline = "", props[KeySSLKeystoreKey]+"\n"+props[KeySSLKeystoreChain]
	}
	cert, err := ks.KeyPair()
	if err != nil {
		return nil, err
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	if v, ok := props[KeySSLEndpointIDAlg]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "":
			tlsstore.VerifyChainOnly(tc, pool, "schema registry TLS")
		case "https":
		default:
			return nil, fmt.Errorf("%s: unsupported value %q (https, or empty to skip the host name check)", KeySSLEndpointIDAlg, v)
		}
	}
	return tc, nil
}
