package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/internal/logging"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestStandaloneHTTPSBasicAuth runs replicate standalone as a Kafka Connect
// user would configure it: an https listener beside an http one, Connect's
// basic-auth extension with the JAAS file named in KAFKA_OPTS; curl is the
// client. A JDBC connector whose connection.url holds a password that
// cannot connect fails, and the password appears in no response and no
// log line.
func TestStandaloneHTTPSBasicAuth(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	dir := t.TempDir()
	ks, ca := writeTestPKI(t, dir)
	users := filepath.Join(dir, "users.properties")
	os.WriteFile(users, []byte("admin: admin-secret\n"), 0o600)
	jaas := filepath.Join(dir, "connect.jaas")
	os.WriteFile(jaas, []byte(`KafkaConnect {
  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
  file="`+users+`";
};
`), 0o600)
	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+jaas)
	worker := filepath.Join(dir, "worker.properties")
	os.WriteFile(worker, []byte(`bootstrap.servers=
embedded.broker.port=0
offset.storage.file.filename=`+filepath.Join(dir, "offsets")+`
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:0,https://127.0.0.1:0
listeners.https.ssl.keystore.type=PEM
listeners.https.ssl.keystore.location=`+ks+`
rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension
`), 0o600)
	logs := &lockedBuf{}
	log, lvl, err := logging.New(logs, "debug", "text")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runStandalone(ctx, log, lvl, worker, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Error("standalone did not stop")
		}
	})
	re := regexp.MustCompile(`listener=(https?://127\.0\.0\.1:\d+)`)
	var httpURL, httpsURL string
	for deadline := time.Now().Add(60 * time.Second); httpURL == "" || httpsURL == ""; {
		for _, m := range re.FindAllStringSubmatch(logs.String(), -1) {
			if strings.HasPrefix(m[1], "https") {
				httpsURL = m[1]
			} else {
				httpURL = m[1]
			}
		}
		select {
		case err := <-done:
			t.Fatalf("standalone stopped: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listeners logged:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	status := func(args ...string) (string, string) {
		t.Helper()
		out, _ := exec.Command(curl, append([]string{"-sS", "-w", "\n%{http_code}"}, args...)...).CombinedOutput()
		s := strings.TrimSpace(string(out))
		i := strings.LastIndex(s, "\n")
		if i < 0 {
			return s, ""
		}
		return s[i+1:], s[:i]
	}
	if code, b := status("--cacert", ca, httpsURL+"/connectors"); code != "401" {
		t.Fatalf("https without credentials: %s %s", code, b)
	}
	if code, b := status("--cacert", ca, "-u", "admin:admin-secret", httpsURL+"/connectors"); code != "200" || b != "[]" {
		t.Fatalf("https with credentials: %s %s", code, b)
	}
	if code, _ := status("-u", "admin:wrong-secret", httpURL+"/connectors"); code != "401" {
		t.Fatalf("http with a wrong password: %s", code)
	}
	if code, _ := status("-X", "PUT", "-H", "Content-Type: application/json", "--data", `{"level":"DEBUG"}`, httpURL+"/admin/loggers/root"); code != "401" {
		t.Fatalf("PUT /admin/loggers without credentials: %s", code)
	}
	if code, _ := status(httpsURL + "/connectors"); code != "000" && code != "" {
		t.Fatalf("curl trusted the test CA without --cacert: %s", code)
	}

	const pw = "cmdUrlPw-777"
	cfg := `{"connector.class":"io.confluent.connect.jdbc.JdbcSourceConnector","mode":"bulk","topic.prefix":"p-",` +
		`"connection.url":"jdbc:mariadb://127.0.0.1:1/shop?user=app&password=` + pw + `","connection.attempts":"1","connection.backoff.ms":"10"}`
	code, b := status("--cacert", ca, "-u", "admin:admin-secret", "-X", "PUT", "-H", "Content-Type: application/json", "--data", cfg, httpsURL+"/connectors/leaky/config")
	if code != "201" {
		t.Fatalf("create: %s %s", code, b)
	}
	seen := b
	var st string
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(st, "FAILED"); {
		_, st = status("--cacert", ca, "-u", "admin:admin-secret", httpsURL+"/connectors/leaky/status")
		if time.Now().After(deadline) {
			t.Fatalf("connector did not fail: %s", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	seen += st
	for _, p := range []string{"/connectors/leaky", "/connectors/leaky/config", "/connectors/leaky/tasks", "/connectors?expand=info&expand=status"} {
		_, b := status("--cacert", ca, "-u", "admin:admin-secret", httpsURL+p)
		seen += b
	}
	if !strings.Contains(seen, "password=[hidden]") {
		t.Errorf("no redacted URL in the responses: %s", seen)
	}
	if strings.Contains(seen, pw) {
		t.Errorf("password in a REST response: %s", seen)
	}
	if strings.Contains(logs.String(), pw) {
		t.Errorf("password in the log:\n%s", logs.String())
	}
}

// writeTestPKI writes a CA (ca.pem) and a PEM key store for 127.0.0.1.
func writeTestPKI(t *testing.T, dir string) (keystore, caFile string) {
	t.Helper()
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "worker"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvT, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	k8, _ := x509.MarshalPKCS8PrivateKey(key)
	keystore = filepath.Join(dir, "worker.pem")
	os.WriteFile(keystore, append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k8}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER})...), 0o600)
	caFile = filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)
	return keystore, caFile
}
