package distributed

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/filestream"
	"github.com/tributary-cdc/tributary/runtime/rest"
)

// testPKI writes a CA and a server key store (PEM: key and chain) for
// 127.0.0.1 into dir; it returns the key store path and the CA pool.
func testPKI(t *testing.T, dir string) (string, *x509.CertPool) {
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
	ks := filepath.Join(dir, "worker.pem")
	pemBytes := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k8}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER})...)
	if err := os.WriteFile(ks, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return ks, pool
}

// startSecureWorker runs a worker as cmd/replicate wires it: listeners and
// authentication from rest.ParseSecurity, authentication in front of the
// forwarding handler.
func startSecureWorker(t *testing.T, brokers string, extra map[string]string) *testWorker {
	t.Helper()
	raw := map[string]string{
		"bootstrap.servers": brokers, "group.id": "secure-cluster",
		"config.storage.topic": "scfg", "offset.storage.topic": "soffs", "status.storage.topic": "sstat",
		"config.storage.replication.factor": "1", "offset.storage.replication.factor": "1", "status.storage.replication.factor": "1",
		"offset.storage.partitions": "3", "status.storage.partitions": "2",
		"key.converter":            "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":          "org.apache.kafka.connect.storage.StringConverter",
		"offset.flush.interval.ms": "300", "session.timeout.ms": "6000", "heartbeat.interval.ms": "300",
		"rebalance.timeout.ms": "6000", "scheduled.rebalance.max.delay.ms": "2000",
		"task.shutdown.graceful.timeout.ms": "1000", "offset.flush.timeout.ms": "1000",
		"rest.advertised.host.name": "127.0.0.1",
	}
	for k, v := range extra {
		raw[k] = v
	}
	cfg, err := ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := rest.ParseSecurity(raw, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	lns, err := sec.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := connector.NewRegistry(filestream.Source{}, filestream.Sink{})
	h, err := New(ctx, cfg, sec.AdvertisedListener(lns).Addr(), Options{Registry: reg, Logger: slog.New(slog.DiscardHandler),
		AdvertisedScheme: sec.Advertised, RESTClientTLS: sec.ClientTLS})
	if err != nil {
		rest.CloseAll(lns)
		t.Fatal(err)
	}
	sctx, scancel := context.WithCancel(context.Background())
	tw := &testWorker{h: h, url: h.URL(), cancel: scancel, done: make(chan struct{})}
	go func() {
		defer close(tw.done)
		_ = rest.Serve(sctx, sec.Handler(h.Handler(rest.New(h.RESTOptions()))), lns, nil)
	}()
	t.Cleanup(func() { tw.stop() })
	return tw
}

// TestClusterHTTPSBasicAuth: workers on https listeners with Connect's
// basic-auth extension. A change sent to a follower is forwarded to the
// leader with the caller's credentials (the leader checks them too), a
// task restart the leader forwards to the owner carries them as well, and
// the internal task-config request a connector's worker sends the leader
// passes without credentials, as in Connect.
func TestClusterHTTPSBasicAuth(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := strings.Join(c.ListenAddrs(), ",")
	cl, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "secure"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ks, roots := testPKI(t, dir)
	users := filepath.Join(dir, "users.properties")
	os.WriteFile(users, []byte("admin: admin-secret\n"), 0o600)
	jaas := filepath.Join(dir, "connect.jaas")
	os.WriteFile(jaas, []byte(`KafkaConnect { `+rest.PropertyFileLoginModuleClass+` required file="`+users+`"; };`), 0o600)
	extra := map[string]string{"listeners": "https://127.0.0.1:0",
		"listeners.https.ssl.keystore.type": "PEM", "listeners.https.ssl.keystore.location": ks,
		"listeners.https.ssl.truststore.type": "PEM", "listeners.https.ssl.truststore.location": filepath.Join(dir, "ca.pem"),
		rest.KeyRestExtensionClasses: rest.BasicAuthExtensionClass, rest.KeyBasicAuthJAASFile: jaas}
	ws := []*testWorker{startSecureWorker(t, brokers, extra), startSecureWorker(t, brokers, extra)}
	for _, w := range ws {
		if !strings.HasPrefix(w.url, "https://127.0.0.1:") {
			t.Fatalf("advertised URL %s, want https", w.url)
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	do := func(method, url, user string, body string) (int, string) {
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
			req.SetBasicAuth(user, "admin-secret")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var follower, leader *testWorker
	for follower == nil || leader == nil {
		for _, w := range ws {
			if lead, u := w.h.Leader(); u != "" {
				if lead {
					leader = w
				} else {
					follower = w
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no leader elected")
		}
		time.Sleep(50 * time.Millisecond)
	}
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte("a\nb\n"), 0o644)
	body := `{"connector.class":"FileStreamSource","file":"` + in + `","topic":"secure"}`
	if code, b := do("PUT", follower.url+"connectors/src/config", "", body); code != 401 {
		t.Fatalf("no credentials: %d %s", code, b)
	}
	if code, b := do("PUT", follower.url+"connectors/src/config", "admin", body); code != 201 {
		t.Fatalf("create through the follower: %d %s", code, b)
	}
	// Both workers report the task running: its config reached the leader
	// (from whichever worker runs the connector).
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok := true
		for _, w := range ws {
			code, b := do("GET", w.url+"connectors/src/status", "admin", "")
			var st rest.ConnectorStatus
			json.Unmarshal([]byte(b), &st)
			if code != 200 || st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			_, b := do("GET", leader.url+"connectors/src/status", "admin", "")
			t.Fatalf("connector not running on every view: %s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Restarts through each worker: the leader forwards a task restart to
	// the task's owner with the caller's credentials.
	for _, w := range []*testWorker{leader, follower} {
		if code, b := do("POST", w.url+"connectors/src/tasks/0/restart", "admin", ""); code != 204 {
			t.Fatalf("task restart via %s: %d %s", w.url, code, b)
		}
		if code, _ := do("POST", w.url+"connectors/src/tasks/0/restart", "", ""); code != 401 {
			t.Fatalf("task restart without credentials via %s: %d", w.url, code)
		}
	}
	if code, b := do("DELETE", follower.url+"connectors/src", "admin", ""); code != 204 {
		t.Fatalf("delete through the follower: %d %s", code, b)
	}
}
