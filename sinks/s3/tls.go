package s3

import (
	"crypto/tls"
	"net/http"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// TLS keys of the store client. Confluent's S3 sink has none (it uses the
// JVM's trust store); these are Tributary's, named as Kafka's ssl.* keys
// behind an s3. prefix, as schema.registry.ssl.* are for the registry
// client. They matter for an https store.url with a private CA or one that
// wants client certificates (MinIO, Ceph).
const (
	KeySSLTruststoreLocation = "s3.ssl.truststore.location"
	KeySSLTruststorePassword = "s3.ssl.truststore.password"
	KeySSLTruststoreType     = "s3.ssl.truststore.type"
	KeySSLKeystoreLocation   = "s3.ssl.keystore.location"
	KeySSLKeystorePassword   = "s3.ssl.keystore.password"
	KeySSLKeystoreType       = "s3.ssl.keystore.type"
	KeySSLKeyPassword        = "s3.ssl.key.password"
)

func defineTLS(d *config.Def) *config.Def {
	for _, k := range []struct{ name, doc string }{
		{KeySSLTruststoreLocation, "Tributary's: trust store with the CAs that verify an https store.url (PEM, PKCS12 or JKS); empty uses the system roots."},
		{KeySSLTruststorePassword, "Tributary's: password of s3.ssl.truststore.location."},
		{KeySSLTruststoreType, "Tributary's: PEM, PKCS12 or JKS (default: JKS or PKCS12, whichever the file is)."},
		{KeySSLKeystoreLocation, "Tributary's: key store with a client certificate for the store (PEM: unencrypted key and chain in one file, PKCS12 or JKS)."},
		{KeySSLKeystorePassword, "Tributary's: password of s3.ssl.keystore.location."},
		{KeySSLKeystoreType, "Tributary's: PEM, PKCS12 or JKS."},
		{KeySSLKeyPassword, "Tributary's: password of the key entry of a JKS key store (default: the store's)."},
	} {
		typ := config.String
		if strings.HasSuffix(k.name, "password") {
			typ = config.Password
		}
		d.Define(config.Key{Name: k.name, Type: typ, Default: "", Importance: config.Low, Group: groupS3, Doc: k.doc})
	}
	return d
}

// storeTLS is the HTTP transport for the store; nil without TLS keys.
func storeTLS(v *config.Values) (http.RoundTripper, error) {
	trust := tlsstore.Store{Type: v.String(KeySSLTruststoreType), Location: v.String(KeySSLTruststoreLocation), Password: v.String(KeySSLTruststorePassword),
		Names: tlsstore.Names{Type: KeySSLTruststoreType, Location: KeySSLTruststoreLocation, Password: KeySSLTruststorePassword}}
	keys := tlsstore.Store{Type: v.String(KeySSLKeystoreType), Location: v.String(KeySSLKeystoreLocation), Password: v.String(KeySSLKeystorePassword),
		KeyPassword: v.String(KeySSLKeyPassword), Names: tlsstore.Names{Type: KeySSLKeystoreType, Location: KeySSLKeystoreLocation,
			Password: KeySSLKeystorePassword, KeyPassword: KeySSLKeyPassword}}
	if !trust.Configured() && !keys.Configured() {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	pool, err := trust.Pool()
	if err != nil {
		return nil, err
	}
	tc.RootCAs = pool
	cert, err := keys.KeyPair()
	if err != nil {
		return nil, err
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return tr, nil
}
