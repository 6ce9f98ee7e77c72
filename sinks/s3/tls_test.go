package s3

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

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
	"github.com/tributary-cdc/tributary/schema"
)

// TestStoreTLS: an https store.url with a private CA that requires client
// certificates (gofakes3 behind a TLS listener): with s3.ssl.truststore.*
// (a JKS store from keytool) and s3.ssl.keystore.* (PKCS12 from openssl)
// the sink writes its objects; without the trust store (system roots) and
// without the key store the start is refused with a certificate error.
func TestStoreTLS(t *testing.T) {
	dir := t.TempDir()
	ca, err := tlsstore.NewCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	srvCert, _ := ca.Issue("s3", "127.0.0.1")
	cli, _ := ca.Issue("worker")
	pair, err := tls.LoadX509KeyPair(srvCert.CertFile, srvCert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewUnstartedServer(faker.Server())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	// The test's own client (trusting the CA, with the certificate) makes the bucket.
	clientPair, _ := tls.LoadX509KeyPair(cli.CertFile, cli.KeyFile)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientPair}}
	mc, err := minio.New(strings.TrimPrefix(srv.URL, "https://"), &minio.Options{Creds: credentials.NewStaticV4("AK", "SK", ""),
		Secure: true, Region: "us-east-1", BucketLookup: minio.BucketLookupPath, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(context.Background(), "cold", minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	f := &fakeS3{url: srv.URL, bucket: "cold", cl: mc}

	trust := filepath.Join(dir, "trust.jks")
	tool := func(args ...string) {
		if _, err := exec.LookPath(args[0]); err != nil {
			t.Skipf("%s not installed", args[0])
		}
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	tool("keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", ca.CertFile, "-keystore", trust, "-storetype", "JKS", "-storepass", "trustpw")
	keys := filepath.Join(dir, "client.p12")
	tool("openssl", "pkcs12", "-export", "-in", cli.CertFile, "-inkey", cli.KeyFile, "-name", "worker", "-out", keys, "-passout", "pass:keypw1")
	tlsKeys := []string{KeySSLTruststoreLocation, trust, KeySSLTruststorePassword, "trustpw",
		KeySSLKeystoreLocation, keys, KeySSLKeystoreType, "PKCS12", KeySSLKeystorePassword, "keypw1"}

	const topic = "cdc.shop.orders"
	task := startTask(t, f.config(append([]string{KeyFlushSize, "2"}, tlsKeys...)...), connector.TaskContext{})
	if err := task.Put(context.Background(), []schema.Record{event(topic, 0, 0), event(topic, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	commitAll(t, task, map[connector.TopicPartition]int64{tp(topic, 0): 2})
	if got := f.list(t, "topics/"); len(got) != 1 {
		t.Fatalf("objects %v, want one file", got)
	}

	for _, c := range []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"system roots", f.config(KeySSLKeystoreLocation, keys, KeySSLKeystoreType, "PKCS12", KeySSLKeystorePassword, "keypw1"), "certificate"},
		{"no client certificate", f.config(KeySSLTruststoreLocation, trust, KeySSLTruststorePassword, "trustpw"), "certificate"},
		{"wrong store password", f.config(KeySSLTruststoreLocation, trust, KeySSLTruststorePassword, "wrong-pw"), KeySSLTruststorePassword},
	} {
		task := Plugin{}.NewTask().(*Task)
		err := task.Start(context.Background(), c.cfg, connector.TaskContext{})
		if err == nil {
			task.Stop()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: start error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
