package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// TestTLSStoreKeys checks the refusals of the TLS keys as Kafka's Java
// client names them: each names the key at fault, a PEM truststore without
// its type is refused (Kafka's default type is JKS), and encrypted PEM keys
// are refused.
func TestTLSStoreKeys(t *testing.T) {
	p := newKafkaPKI(t)
	base := map[string]string{"bootstrap.servers": "b:9093", "security.protocol": "SSL"}
	for _, c := range []struct {
		extra map[string]string
		key   string
	}{
		{map[string]string{"ssl.truststore.type": "BKS", "ssl.truststore.location": p.ca.CertFile}, "ssl.truststore.type"},
		{map[string]string{"ssl.truststore.location": p.ca.CertFile}, "ssl.truststore.location"},
		{map[string]string{"ssl.truststore.type": "PKCS12", "ssl.truststore.location": p.truststore(t, "PKCS12"), "ssl.truststore.password": "wrong-pw"}, "ssl.truststore.password"},
		{map[string]string{"ssl.truststore.type": "JKS", "ssl.truststore.location": "/nonexistent.jks"}, "ssl.truststore.location"},
		{map[string]string{"ssl.key.password": "k"}, "ssl.key.password"},
		{map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": p.clientPEMStore(t), "ssl.key.password": "k"}, "ssl.key.password"},
		{map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": p.keystore(t, "PKCS12"), "ssl.keystore.password": "wrong-pw"}, "ssl.keystore.password"},
		{map[string]string{"ssl.endpoint.identification.algorithm": "ldap"}, "ssl.endpoint.identification.algorithm"},
		{map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": "not a certificate"}, "ssl.truststore.certificates"},
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
		if err != nil && strings.Contains(err.Error(), storePass) {
			t.Errorf("%v: error shows a password: %v", c.extra, err)
		}
	}
}

// TestTLSStores: PEM, PKCS12 and JKS key and trust stores made by openssl
// and keytool (the tools Kafka users make them with) give a client that
// completes a TLS handshake with a server requiring a client certificate
// from the same CA, and that refuses a server whose CA it does not trust.
func TestTLSStores(t *testing.T) {
	p := newKafkaPKI(t)
	srv := p.listen(t)
	for _, typ := range []string{"PEM", "PKCS12", "JKS"} {
		t.Run(typ, func(t *testing.T) {
			props := map[string]string{"ssl.truststore.type": typ, "ssl.keystore.type": typ}
			if typ == "PEM" {
				props["ssl.truststore.location"] = p.ca.CertFile
				props["ssl.keystore.location"] = p.clientPEMStore(t)
			} else {
				props["ssl.truststore.location"] = p.truststore(t, typ)
				props["ssl.truststore.password"] = storePass
				props["ssl.keystore.location"] = p.keystore(t, typ)
				props["ssl.keystore.password"] = storePass
				props["ssl.key.password"] = storePass
			}
			tc, err := tlsConfig(props)
			if err != nil {
				t.Fatal(err)
			}
			if err := handshake(srv, tc); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			// The same stores against a server from another CA: refused.
			other := newKafkaPKI(t).listen(t)
			if err := handshake(other, tc); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("a server from another CA was accepted: %v", err)
			}
		})
	}
	// Without a key store the server (which requires one) refuses us.
	tc, err := tlsConfig(map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": p.ca.CertFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(srv, tc); err == nil {
		t.Fatal("handshake without a client certificate succeeded")
	}
}

const storePass = "store-secret-pw"

type kafkaPKI struct {
	dir            string
	ca             *tlsstore.CA
	client, server *tlsstore.Issued
}

func newKafkaPKI(t *testing.T) *kafkaPKI {
	t.Helper()
	p := &kafkaPKI{dir: t.TempDir()}
	var err error
	if p.ca, err = tlsstore.NewCA(p.dir, "ca"); err != nil {
		t.Fatal(err)
	}
	if p.server, err = p.ca.Issue("broker", "127.0.0.1", "localhost"); err != nil {
		t.Fatal(err)
	}
	if p.client, err = p.ca.Issue("worker"); err != nil {
		t.Fatal(err)
	}
	return p
}

func tool(t *testing.T, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// clientPEMStore is Kafka's PEM key store: key and chain in one file.
func (p *kafkaPKI) clientPEMStore(t *testing.T) string {
	k, _ := os.ReadFile(p.client.KeyFile)
	c, _ := os.ReadFile(p.client.CertFile)
	out := filepath.Join(p.dir, "client-store.pem")
	if err := os.WriteFile(out, append(k, c...), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func (p *kafkaPKI) keystore(t *testing.T, typ string) string {
	p12 := filepath.Join(p.dir, "client.p12")
	tool(t, "openssl", "pkcs12", "-export", "-in", p.client.CertFile, "-inkey", p.client.KeyFile, "-name", "worker", "-out", p12, "-passout", "pass:"+storePass)
	if typ == "PKCS12" {
		return p12
	}
	out := filepath.Join(p.dir, "client.jks")
	os.Remove(out)
	tool(t, "keytool", "-importkeystore", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", storePass,
		"-destkeystore", out, "-deststoretype", "JKS", "-deststorepass", storePass, "-destkeypass", storePass, "-noprompt")
	return out
}

func (p *kafkaPKI) truststore(t *testing.T, typ string) string {
	out := filepath.Join(p.dir, "truststore."+strings.ToLower(typ))
	os.Remove(out)
	tool(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", p.ca.CertFile, "-keystore", out, "-storetype", typ, "-storepass", storePass)
	return out
}

// server listens with TLS, requiring a client certificate from p's CA.
func (p *kafkaPKI) listen(t *testing.T) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.server.CertFile, p.server.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if c.(*tls.Conn).Handshake() == nil {
					c.Write([]byte("ok"))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// handshake dials addr and reads the server's "ok" (sent only after it
// verified our certificate).
func handshake(addr string, tc *tls.Config) error {
	tc = tc.Clone()
	tc.ServerName = "127.0.0.1"
	c, err := tls.Dial("tcp", addr, tc)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil {
		return err
	}
	return nil
}
