package rest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSecure serves a test API with the security a worker config asks
// for, on real listeners; it returns them (http first as configured).
func startSecure(t *testing.T, worker map[string]string, env map[string]string) []*Listener {
	t.Helper()
	sec, err := ParseSecurity(worker, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("ParseSecurity: %v", err)
	}
	lns, err := sec.Listen()
	if err != nil {
		t.Fatal(err)
	}
	h := newMemHerder()
	srv := New(Options{Herder: h, Registry: h.reg, Metrics: http.NotFoundHandler()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, sec.Handler(srv), lns, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	return lns
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// connectJAAS writes users.properties and a JAAS file as a Kafka Connect
// user has them (the file option is what PropertyFileLoginModule reads).
func connectJAAS(t *testing.T, users string) string {
	dir := t.TempDir()
	u := write(t, dir, "users.properties", users)
	return write(t, dir, "connect.jaas", `/* Kafka Connect REST basic auth */
KafkaClient {
  org.apache.kafka.common.security.plain.PlainLoginModule required username="x" password="y";
};
// the section Connect's JaasBasicAuthFilter logs in with
KafkaConnect {
  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
  file="`+u+`";
};
`)
}

type result struct {
	code   int
	header http.Header
	body   string
}

func call(t *testing.T, c *http.Client, method, url, user, pass string, body string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}

const users = `# user=password, or user: password (java.util.Properties)
admin=admin-secret
bob: pa:ss word
carol: pw,Administrators
`

// TestBasicAuthConnectJAAS: the JAAS file found through KAFKA_OPTS, as
// kafka-run-class.sh passes it to Connect, protects every endpoint.
func TestBasicAuthConnectJAAS(t *testing.T) {
	jaas := connectJAAS(t, users)
	lns := startSecure(t, map[string]string{"listeners": "http://127.0.0.1:0", KeyRestExtensionClasses: BasicAuthExtensionClass},
		map[string]string{"KAFKA_OPTS": "-Xmx1g -Djava.security.auth.login.config=" + jaas + " -Dother=1"})
	base := lns[0].URL()
	c := http.DefaultClient

	r := call(t, c, "GET", base+"/connectors", "", "", "")
	if r.code != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Basic realm="KafkaConnect"`) {
		t.Fatalf("no credentials: %d %v %s", r.code, r.header, r.body)
	}
	var e ErrorMessage
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.ErrorCode != 401 || e.Message != "User cannot access the resource." {
		t.Fatalf("401 body %q: %v", r.body, err)
	}
	for _, c := range []struct {
		user, pass string
		want       int
	}{
		{"admin", "admin-secret", 200},
		{"admin", "admin-secre", 401},
		{"admin", "admin-secret ", 401},
		{"admin", "", 401},
		{"nobody", "admin-secret", 401},
		{"bob", "pa:ss word", 200}, // the password is everything after the first colon
		// Kafka's PropertyFileLoginModule compares the whole value: no
		// role list after a comma.
		{"carol", "pw,Administrators", 200},
		{"carol", "pw", 401},
	} {
		if r := call(t, http.DefaultClient, "GET", base+"/connectors", c.user, c.pass, ""); r.code != c.want {
			t.Errorf("%s:%s: %d %s, want %d", c.user, c.pass, r.code, r.body, c.want)
		}
	}
	// Every endpoint, admin and metrics too, and before routing (no 404
	// or 405 leaks what exists).
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"GET", "/health", ""},
		{"PUT", "/admin/loggers/root", `{"level":"DEBUG"}`},
		{"GET", "/admin/loggers", ""},
		{"GET", "/metrics", ""},
		{"POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSource","topic":"t"}}`},
		{"GET", "/connectors/x/tasks", ""},
		{"GET", "/no/such/path", ""},
		{"DELETE", "/connectors", ""},
		{"POST", "//connectors/x/tasks", "[]"},
	} {
		if r := call(t, http.DefaultClient, c.method, base+c.path, "", "", c.body); r.code != 401 {
			t.Errorf("%s %s without credentials: %d %s", c.method, c.path, r.code, r.body)
		}
	}
	if r := call(t, http.DefaultClient, "PUT", base+"/admin/loggers/root", "admin", "admin-secret", `{"level":"DEBUG"}`); r.code != 200 {
		t.Errorf("PUT /admin/loggers/root authenticated: %d %s", r.code, r.body)
	}
	// Connect's filter lets other workers' internal requests through.
	for _, c := range []struct{ method, path string }{
		{"POST", "/connectors/x/tasks"}, {"POST", "/connectors/x/tasks/"}, {"PUT", "/connectors/x/fence"},
	} {
		if r := call(t, http.DefaultClient, c.method, base+c.path, "", "", "[]"); r.code == 401 {
			t.Errorf("%s %s (internal) answered 401", c.method, c.path)
		}
	}
	// Malformed headers are refused, not a 500.
	for _, h := range []string{"Basic !!!", "Bearer abc", "Basic", "basic " + b64(":admin-secret"), "Basic " + b64("admin")} {
		req, _ := http.NewRequest("GET", base+"/connectors", nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("Authorization %q: %d", h, resp.StatusCode)
		}
	}
	// The scheme is case-insensitive, as in Connect.
	req, _ := http.NewRequest("GET", base+"/connectors", nil)
	req.Header.Set("Authorization", "basic "+b64("admin:admin-secret"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("lower-case scheme: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestBasicAuthWorkerKey: our worker key names the JAAS file and wins
// over KAFKA_OPTS.
func TestBasicAuthWorkerKey(t *testing.T) {
	jaas := connectJAAS(t, "ops=opspw\n")
	other := connectJAAS(t, "admin=admin-secret\n")
	lns := startSecure(t, map[string]string{"listeners": "http://127.0.0.1:0", KeyRestExtensionClasses: " " + BasicAuthExtensionClass + " ",
		KeyBasicAuthJAASFile: jaas}, map[string]string{"KAFKA_OPTS": "-Djava.security.auth.login.config=" + other})
	if r := call(t, http.DefaultClient, "GET", lns[0].URL()+"/connectors", "ops", "opspw", ""); r.code != 200 {
		t.Fatalf("ops: %d %s", r.code, r.body)
	}
	if r := call(t, http.DefaultClient, "GET", lns[0].URL()+"/connectors", "admin", "admin-secret", ""); r.code != 401 {
		t.Fatalf("KAFKA_OPTS file used although the worker key is set: %d", r.code)
	}
}

// TestBasicAuthSetupErrors: whatever is wrong with the setup stops the
// start with the key or file named; nothing runs open.
func TestBasicAuthSetupErrors(t *testing.T) {
	dir := t.TempDir()
	good := connectJAAS(t, users)
	empty := connectJAAS(t, "# nobody\n")
	noSection := write(t, dir, "a.jaas", `KafkaServer { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="/x"; };`)
	noFile := write(t, dir, "b.jaas", `KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required; };`)
	otherModule := write(t, dir, "c.jaas", `KafkaConnect { com.example.LdapLoginModule required url="ldap://x"; };`)
	missingUsers := write(t, dir, "d.jaas", `KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="`+dir+`/none.properties"; };`)
	bad := write(t, dir, "e.jaas", `KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file="/x" `)
	ext := BasicAuthExtensionClass
	for _, c := range []struct {
		worker map[string]string
		opts   string
		want   string
	}{
		{map[string]string{KeyRestExtensionClasses: "com.example.MyRestExtension"}, "", "unknown REST extension com.example.MyRestExtension"},
		{map[string]string{KeyRestExtensionClasses: ext + ",com.example.Other"}, "-Djava.security.auth.login.config=" + good, "com.example.Other"},
		{map[string]string{KeyRestExtensionClasses: ext}, "", "java.security.auth.login.config"},
		{map[string]string{KeyRestExtensionClasses: ext}, "-Djava.security.auth.login.config=" + dir + "/missing.jaas", "missing.jaas"},
		{map[string]string{KeyRestExtensionClasses: ext, KeyBasicAuthJAASFile: empty}, "", "lists no user"},
		{map[string]string{KeyRestExtensionClasses: ext, KeyBasicAuthJAASFile: noSection}, "", "no KafkaConnect section"},
		{map[string]string{KeyRestExtensionClasses: ext, KeyBasicAuthJAASFile: noFile}, "", "file="},
		{map[string]string{KeyRestExtensionClasses: ext, KeyBasicAuthJAASFile: otherModule}, "", "com.example.LdapLoginModule"},
		{map[string]string{KeyRestExtensionClasses: ext, KeyBasicAuthJAASFile: missingUsers}, "", "none.properties"},
		{map[string]string{KeyRestExtensionClasses: ext, KeyBasicAuthJAASFile: bad}, "", "unexpected end"},
		{map[string]string{KeyBasicAuthJAASFile: good}, "", KeyRestExtensionClasses},
	} {
		_, err := ParseSecurity(c.worker, func(string) string { return c.opts })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %q: error %v, want one containing %q", c.worker, c.opts, err, c.want)
		}
	}
	if s, err := ParseSecurity(map[string]string{KeyRestExtensionClasses: " "}, nil); err != nil || s.Auth != nil {
		t.Errorf("empty rest.extension.classes: %v %v", s, err)
	}
	if f := jaasFileFromOpts(`-Djava.security.auth.login.config==file:/etc/kafka/connect.jaas`); f != "/etc/kafka/connect.jaas" {
		t.Errorf("== and file: forms: %q", f)
	}
}

// ---- TLS ----

type pki struct {
	dir                         string
	caPEM, serverPEM, keyPEM    string // files
	clientPEM, clientKeyPEM     string
	ca                          *x509.Certificate
	serverCert, clientCert      tls.Certificate
	otherCAPEM                  string
	serverDER, clientDER, caDER []byte
}

func newCert(t *testing.T, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func keyPEM(t *testing.T, k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der)
}

// newPKI makes a test CA, a server certificate for 127.0.0.1/localhost and
// a client certificate, in PEM files.
func newPKI(t *testing.T) *pki {
	p := &pki{dir: t.TempDir()}
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, caKey := newCert(t, caT, nil, nil)
	p.ca, _ = x509.ParseCertificate(caDER)
	p.caDER = caDER
	srvT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "worker"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, srvKey := newCert(t, srvT, p.ca, caKey)
	cliT := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "operator"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	cliDER, cliKey := newCert(t, cliT, p.ca, caKey)
	p.serverDER, p.clientDER = srvDER, cliDER
	otherDER, _ := newCert(t, &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "other CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	p.caPEM = write(t, p.dir, "ca.pem", pemOf("CERTIFICATE", caDER))
	p.otherCAPEM = write(t, p.dir, "other-ca.pem", pemOf("CERTIFICATE", otherDER))
	p.serverPEM = write(t, p.dir, "server.pem", pemOf("CERTIFICATE", srvDER)+pemOf("CERTIFICATE", caDER))
	p.keyPEM = write(t, p.dir, "server.key", keyPEM(t, srvKey))
	p.clientPEM = write(t, p.dir, "client.pem", pemOf("CERTIFICATE", cliDER))
	p.clientKeyPEM = write(t, p.dir, "client.key", keyPEM(t, cliKey))
	var err error
	if p.clientCert, err = tls.LoadX509KeyPair(p.clientPEM, p.clientKeyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

// serverKeystorePEM is Kafka's PEM key store: key and chain in one file.
func (p *pki) serverKeystorePEM(t *testing.T) string {
	k, _ := os.ReadFile(p.keyPEM)
	c, _ := os.ReadFile(p.serverPEM)
	return write(t, p.dir, "server-keystore.pem", string(k)+string(c))
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// PKCS12 and JKS stores made by openssl and keytool, the tools Kafka users
// make them with.
func (p *pki) serverPKCS12(t *testing.T, pass string) string {
	out := filepath.Join(p.dir, "server.p12")
	run(t, "openssl", "pkcs12", "-export", "-in", p.serverPEM, "-inkey", p.keyPEM, "-name", "worker", "-out", out, "-passout", "pass:"+pass)
	return out
}

func (p *pki) serverJKS(t *testing.T, pass string) string {
	p12 := p.serverPKCS12(t, pass)
	out := filepath.Join(p.dir, "server.jks")
	run(t, "keytool", "-importkeystore", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", pass,
		"-destkeystore", out, "-deststoretype", "JKS", "-deststorepass", pass, "-destkeypass", pass, "-noprompt")
	return out
}

func (p *pki) truststore(t *testing.T, typ, pass string) string {
	out := filepath.Join(p.dir, "truststore."+strings.ToLower(typ))
	run(t, "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", p.caPEM, "-keystore", out, "-storetype", typ, "-storepass", pass)
	return out
}

func httpsClient(roots *x509.CertPool, certs ...tls.Certificate) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}}
}

func (p *pki) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	return pool
}

// TestHTTPSListeners: http and https side by side; the https one serves the
// key store in each format Kafka names, verified against the test CA.
func TestHTTPSListeners(t *testing.T) {
	p := newPKI(t)
	for _, c := range []struct {
		name string
		ssl  func() map[string]string
	}{
		{"PEM", func() map[string]string {
			return map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": p.serverKeystorePEM(t)}
		}},
		{"PKCS12", func() map[string]string {
			return map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": p.serverPKCS12(t, "storepw"), "ssl.keystore.password": "storepw"}
		}},
		{"JKS", func() map[string]string {
			return map[string]string{"ssl.keystore.type": "JKS", "ssl.keystore.location": p.serverJKS(t, "storepw"),
				"ssl.keystore.password": "storepw", "ssl.key.password": "storepw"}
		}},
		// listeners.https.* wins over ssl.* (which the Kafka clients use).
		{"prefixed", func() map[string]string {
			return map[string]string{"listeners.https.ssl.keystore.type": "PKCS12", "listeners.https.ssl.keystore.location": p.serverPKCS12(t, "pw2pw2"),
				"listeners.https.ssl.keystore.password": "pw2pw2", "ssl.keystore.location": "/nonexistent", "ssl.keystore.type": "JKS"}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			worker := c.ssl()
			worker["listeners"] = "http://127.0.0.1:0, https://127.0.0.1:0"
			lns := startSecure(t, worker, nil)
			if len(lns) != 2 || lns[0].Scheme != "http" || lns[1].Scheme != "https" {
				t.Fatalf("listeners: %v", lns)
			}
			if r := call(t, http.DefaultClient, "GET", lns[0].URL()+"/connectors", "", "", ""); r.code != 200 {
				t.Fatalf("http: %d", r.code)
			}
			if r := call(t, httpsClient(p.roots()), "GET", lns[1].URL()+"/connectors", "", "", ""); r.code != 200 || r.body != "[]" {
				t.Fatalf("https: %d %s", r.code, r.body)
			}
			other := x509.NewCertPool()
			pemBytes, _ := os.ReadFile(p.otherCAPEM)
			other.AppendCertsFromPEM(pemBytes)
			if _, err := httpsClient(other).Get(lns[1].URL() + "/connectors"); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("a client trusting another CA connected: %v", err)
			}
		})
	}
}

// TestMutualTLS: ssl.client.auth=required refuses a client without a
// certificate from the trust store's CA; requested lets it in.
func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	for _, typ := range []string{"PKCS12", "JKS", "PEM"} {
		t.Run(typ, func(t *testing.T) {
			ts := p.caPEM
			if typ != "PEM" {
				ts = p.truststore(t, typ, "trustpw")
			}
			worker := map[string]string{"listeners": "https://127.0.0.1:0",
				"listeners.https.ssl.keystore.type": "PEM", "listeners.https.ssl.keystore.location": p.serverKeystorePEM(t),
				"listeners.https.ssl.truststore.type": typ, "listeners.https.ssl.truststore.location": ts,
				"listeners.https.ssl.truststore.password": "trustpw", "listeners.https.ssl.client.auth": "required"}
			lns := startSecure(t, worker, nil)
			u := lns[0].URL() + "/connectors"
			if r := call(t, httpsClient(p.roots(), p.clientCert), "GET", u, "", "", ""); r.code != 200 {
				t.Fatalf("client with certificate: %d", r.code)
			}
			if resp, err := httpsClient(p.roots()).Get(u); err == nil {
				resp.Body.Close()
				t.Fatalf("client without certificate got %d", resp.StatusCode)
			}
		})
	}
	worker := map[string]string{"listeners": "https://127.0.0.1:0", "ssl.keystore.type": "PEM", "ssl.keystore.location": p.serverKeystorePEM(t),
		"ssl.truststore.type": "PEM", "ssl.truststore.location": p.caPEM, "ssl.client.auth": "requested"}
	lns := startSecure(t, worker, nil)
	if r := call(t, httpsClient(p.roots()), "GET", lns[0].URL()+"/connectors", "", "", ""); r.code != 200 {
		t.Fatalf("requested, no certificate: %d", r.code)
	}
}

// TestCurlMutualTLSBasicAuth: curl (an independent client) against an
// https listener with mTLS and basic auth on, as an operator would call it.
func TestCurlMutualTLSBasicAuth(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	p := newPKI(t)
	jaas := connectJAAS(t, users)
	worker := map[string]string{"listeners": "https://127.0.0.1:0", "rest.advertised.listener": "https",
		"listeners.https.ssl.keystore.type": "PKCS12", "listeners.https.ssl.keystore.location": p.serverPKCS12(t, "pwpwpw"),
		"listeners.https.ssl.keystore.password": "pwpwpw", "listeners.https.ssl.truststore.type": "PKCS12",
		"listeners.https.ssl.truststore.location": p.truststore(t, "PKCS12", "pwpwpw"), "listeners.https.ssl.truststore.password": "pwpwpw",
		"listeners.https.ssl.client.auth": "required", KeyRestExtensionClasses: BasicAuthExtensionClass, KeyBasicAuthJAASFile: jaas}
	lns := startSecure(t, worker, nil)
	u := lns[0].URL() + "/connectors"
	out, err := exec.Command(curl, "-sS", "-w", "\n%{http_code}", "--cacert", p.caPEM, "--cert", p.clientPEM, "--key", p.clientKeyPEM,
		"-u", "admin:admin-secret", u).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "\n200") {
		t.Fatalf("curl with certificate and password: %v %s", err, out)
	}
	out, _ = exec.Command(curl, "-sS", "-w", "\n%{http_code}", "--cacert", p.caPEM, "--cert", p.clientPEM, "--key", p.clientKeyPEM, u).CombinedOutput()
	if !strings.HasSuffix(strings.TrimSpace(string(out)), "\n401") {
		t.Fatalf("curl with certificate, no password: %s", out)
	}
	out, err = exec.Command(curl, "-sS", "-w", "\n%{http_code}", "--cacert", p.caPEM, "-u", "admin:admin-secret", u).CombinedOutput()
	if err == nil || strings.HasSuffix(strings.TrimSpace(string(out)), "\n200") {
		t.Fatalf("curl without a client certificate got through: %s", out)
	}
}

// TestHTTPSSetupErrors: a bad TLS setup stops the start naming the key.
func TestHTTPSSetupErrors(t *testing.T) {
	p := newPKI(t)
	ks := p.serverKeystorePEM(t)
	for _, c := range []struct {
		worker map[string]string
		want   string
	}{
		{map[string]string{"listeners": "https://127.0.0.1:0"}, "ssl.keystore.location"},
		{map[string]string{"listeners": "https://127.0.0.1:0", "listeners.https.ssl.keystore.location": "/nonexistent"}, "listeners.https.ssl.keystore.location"},
		{map[string]string{"listeners": "https://127.0.0.1:0", "ssl.keystore.type": "PKCS12", "ssl.keystore.location": p.serverPKCS12(t, "rightpw"), "ssl.keystore.password": "wrongpw"}, "ssl.keystore.password"},
		{map[string]string{"listeners": "https://127.0.0.1:0", "ssl.keystore.type": "BKS", "ssl.keystore.location": ks}, "ssl.keystore.type"},
		{map[string]string{"listeners": "https://127.0.0.1:0", "ssl.keystore.type": "PEM", "ssl.keystore.location": ks, "ssl.client.auth": "required"}, "ssl.truststore.location"},
		{map[string]string{"listeners": "https://127.0.0.1:0", "ssl.keystore.type": "PEM", "ssl.keystore.location": ks, "ssl.client.auth": "maybe"}, "ssl.client.auth"},
		{map[string]string{"listeners": "ftp://127.0.0.1:1"}, "protocol"},
		{map[string]string{"listeners": "http://127.0.0.1"}, "right format"},
		{map[string]string{"listeners": "http://127.0.0.1:0", "rest.advertised.listener": "https"}, "no https listener"},
	} {
		_, err := ParseSecurity(c.worker, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.worker, err, c.want)
		}
	}
	s, err := ParseSecurity(map[string]string{"listeners": "https://127.0.0.1:0", "ssl.keystore.type": "PEM", "ssl.keystore.location": ks}, nil)
	if err != nil || s.Advertised != "https" {
		t.Fatalf("https only: advertised %v, %v", s, err)
	}
	if s, err := ParseSecurity(map[string]string{"rest.port": "18083", "rest.host.name": "127.0.0.1"}, nil); err != nil ||
		len(s.Listeners) != 1 || s.Listeners[0] != (ListenerSpec{"http", "127.0.0.1:18083"}) || s.Advertised != "http" {
		t.Fatalf("rest.port: %v %v", s, err)
	}
}
