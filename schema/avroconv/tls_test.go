package avroconv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/internal/tlsstore"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

func tool(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(args[0]); err != nil {
		t.Skipf("%s not installed", args[0])
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// TestRegistryTLS: a converter configured with Confluent's
// schema.registry.ssl.* keys (a PKCS12 trust store from keytool, a PKCS12
// client key store from openssl) and basic.auth.user.info talks to a
// registry (ours) behind an https listener that requires a client
// certificate from the test CA and a password; the same converter without
// the key store, or trusting another CA, is refused.
func TestRegistryTLS(t *testing.T) {
	reg, err := registry.NewServer(context.Background(), registry.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	dir := t.TempDir()
	ca, err := tlsstore.NewCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	srvCert, _ := ca.Issue("registry", "127.0.0.1")
	cli, _ := ca.Issue("worker")
	other, _ := tlsstore.NewCA(dir, "other")
	pair, err := tls.LoadX509KeyPair(srvCert.CertFile, srvCert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	https := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "sr-user" || p != "sr-pass" {
			http.Error(w, `{"error_code":401,"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		reg.Handler().ServeHTTP(w, r)
	}))
	https.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	https.StartTLS()
	defer https.Close()

	trust := filepath.Join(dir, "trust.p12")
	tool(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", ca.CertFile, "-keystore", trust, "-storetype", "PKCS12", "-storepass", "trustpw")
	keys := filepath.Join(dir, "client.p12")
	tool(t, "openssl", "pkcs12", "-export", "-in", cli.CertFile, "-inkey", cli.KeyFile, "-name", "worker", "-out", keys, "-passout", "pass:keypw1")
	props := func(kv ...string) map[string]string {
		m := map[string]string{"schema.registry.url": https.URL, "basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": "sr-user:sr-pass",
			"schema.registry.ssl.truststore.type": "PKCS12", "schema.registry.ssl.truststore.location": trust, "schema.registry.ssl.truststore.password": "trustpw",
			"schema.registry.ssl.keystore.type": "PKCS12", "schema.registry.ssl.keystore.location": keys, "schema.registry.ssl.keystore.password": "keypw1"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	s := schema.NewStructSchema("row", schema.Field{Name: "id", Schema: schema.Int32Schema})
	roundTrip := func(p map[string]string) error {
		c, err := FromMap(p, false, nil)
		if err != nil {
			return err
		}
		row := schema.NewStruct(s)
		if err := row.Set("id", int32(7)); err != nil {
			t.Fatal(err)
		}
		b, err := c.FromConnect("orders", nil, s, row)
		if err != nil {
			return err
		}
		_, v, err := c.ToConnect("orders", nil, b)
		if err != nil {
			return err
		}
		if got := v.(*schema.Struct).Get("id"); got != int32(7) {
			t.Fatalf("round trip: id %v", got)
		}
		return nil
	}
	if err := roundTrip(props()); err != nil {
		t.Fatalf("with certificate and password: %v", err)
	}
	for _, c := range []struct {
		name string
		p    map[string]string
		want string
	}{
		{"no client certificate", props("schema.registry.ssl.keystore.location", "-", "schema.registry.ssl.keystore.type", "-"), "certificate"},
		{"another CA", props("schema.registry.ssl.truststore.type", "PEM", "schema.registry.ssl.truststore.location", other.CertFile), "unknown authority"},
		{"no password", props("basic.auth.user.info", "-", "basic.auth.credentials.source", "-"), "Unauthorized"},
		{"wrong trust store password", props("schema.registry.ssl.truststore.password", "wrong-pw"), "schema.registry.ssl.truststore.password"},
	} {
		err := roundTrip(c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
