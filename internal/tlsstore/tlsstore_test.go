package tlsstore

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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

// TestStores loads key and trust stores in each format, made by the tools
// users make them with (openssl, keytool), and checks what comes out: the
// key matches the leaf issued by the CA, and the trust pool verifies that
// leaf (and not one from another CA). Wrong passwords and encrypted PEM
// keys fail naming the key, never showing the password.
func TestStores(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("leaf", "127.0.0.1", "db.example")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewCA(dir, "other")
	otherLeaf, _ := other.Issue("other-leaf", "127.0.0.1")
	const pw = "store-pw-123"
	p12 := filepath.Join(dir, "leaf.p12")
	tool(t, "openssl", "pkcs12", "-export", "-in", leaf.CertFile, "-inkey", leaf.KeyFile, "-name", "leaf", "-out", p12, "-passout", "pass:"+pw)
	jks := filepath.Join(dir, "leaf.jks")
	tool(t, "keytool", "-importkeystore", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", pw,
		"-destkeystore", jks, "-deststoretype", "JKS", "-deststorepass", pw, "-destkeypass", pw, "-noprompt")
	trustP12 := filepath.Join(dir, "trust.p12")
	tool(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", ca.CertFile, "-keystore", trustP12, "-storetype", "PKCS12", "-storepass", pw)
	trustJKS := filepath.Join(dir, "trust.jks")
	tool(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", ca.CertFile, "-keystore", trustJKS, "-storetype", "JKS", "-storepass", pw)
	k, _ := os.ReadFile(leaf.KeyFile)
	c, _ := os.ReadFile(leaf.CertFile)
	pemStore := filepath.Join(dir, "leaf-store.pem")
	os.WriteFile(pemStore, append(c, k...), 0o600)

	for _, s := range []Store{
		{Type: "PEM", Location: pemStore},
		{Type: "pkcs12", Location: p12, Password: pw},
		{Type: "JKS", Location: jks, Password: pw},
		{Location: jks, Password: pw, KeyPassword: pw}, // no type: the magic number decides
		{Type: "JKS", Location: p12, Password: pw},     // Java's keystore.type.compat
		{Inline: string(k) + string(c)},
	} {
		cert, err := s.KeyPair()
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if cert.Leaf.Subject.CommonName != "leaf" || len(cert.Certificate) < 1 {
			t.Errorf("%+v: leaf %v, %d certificates", s, cert.Leaf.Subject, len(cert.Certificate))
		}
		if _, err := tls.X509KeyPair(pemCerts(cert.Certificate[:1]), pemKey(cert.PrivateKey)); err != nil {
			t.Errorf("%+v: key does not match the certificate: %v", s, err)
		}
	}
	for _, s := range []Store{
		{Type: "PEM", Location: ca.CertFile},
		{Type: "PKCS12", Location: trustP12, Password: pw},
		{Location: trustJKS, Password: pw},
		{Inline: string(mustRead(t, ca.CertFile))},
	} {
		pool, err := s.Pool()
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		verify := func(file string) error {
			_, err := firstCert(t, mustRead(t, file)).Verify(x509.VerifyOptions{Roots: pool})
			return err
		}
		if err := verify(leaf.CertFile); err != nil {
			t.Errorf("%+v: the CA's leaf does not verify: %v", s, err)
		}
		if err := verify(otherLeaf.CertFile); err == nil {
			t.Errorf("%+v: another CA's leaf verifies", s)
		}
	}
	names := Names{Type: "x.type", Location: "x.location", Password: "x.password", KeyPassword: "x.key.password"}
	for _, c := range []struct {
		s    Store
		want string
	}{
		{Store{Type: "PKCS12", Location: p12, Password: "wrong-secret", Names: names}, "x.password"},
		{Store{Type: "JKS", Location: jks, Password: "wrong-secret", Names: names}, "x.password"},
		{Store{Type: "PEM", Location: pemStore, KeyPassword: "wrong-secret", Names: names}, "x.key.password"},
		{Store{Type: "BKS", Location: p12, Names: names}, "x.type"},
		{Store{Location: ca.CertFile, Names: names}, "x.type=PEM"},
		{Store{Location: filepath.Join(dir, "missing"), Names: names}, "x.location"},
	} {
		_, err := c.s.KeyPair()
		if c.want == "x.type=PEM" {
			_, err = c.s.Pool()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "wrong-secret") {
			t.Errorf("%+v: %v, want an error naming %s without the password", c.s, err, c.want)
		}
	}
	// An encrypted PEM key is refused.
	enc := filepath.Join(dir, "enc.pem")
	tool(t, "openssl", "pkcs8", "-topk8", "-in", leaf.KeyFile, "-out", enc, "-passout", "pass:"+pw)
	b, _ := os.ReadFile(enc)
	if _, err := PEMKeyPair(append(b, c...), "k"); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted PEM key: %v", err)
	}
}

func mustRead(t *testing.T, f string) []byte {
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstCert(t *testing.T, pemBytes []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
