package kafka

import (
	"strings"
	"testing"
)

// TestTLSStoreKeys checks the TLS keys as Kafka's Java client names them:
// JKS/PKCS12 stores and encrypted keys are refused naming the key, never
// read half-way, and a PEM truststore without its type is refused (Kafka's
// default type is JKS).
func TestTLSStoreKeys(t *testing.T) {
	base := map[string]string{"bootstrap.servers": "b:9093", "security.protocol": "SSL"}
	for _, c := range []struct {
		extra map[string]string
		key   string
	}{
		{map[string]string{"ssl.truststore.type": "JKS", "ssl.truststore.location": "/x.jks"}, "ssl.truststore.type"},
		{map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/x.p12"}, "ssl.keystore.type"},
		{map[string]string{"ssl.truststore.location": "/x.pem"}, "ssl.truststore.location"},
		{map[string]string{"ssl.key.password": "k"}, "ssl.key.password"},
		{map[string]string{"ssl.endpoint.identification.algorithm": "ldap"}, "ssl.endpoint.identification.algorithm"},
		{map[string]string{"ssl.truststore.certificates": "not a certificate"}, "ssl.truststore"},
	} {
		props := map[string]string{}
		for k, v := range base {
			props[k] = v
		}
		for k, v := range c.extra {
			props[k] = v
		}
		_, err := ClientOpts(props)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: err = %v, want one naming %s", c.extra, err, c.key)
		}
	}
}
