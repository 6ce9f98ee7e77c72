package harness_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/internal/dbserver"
	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// client opens a franz-go client with Tributary's mapping of Kafka's client
// properties (the same code the worker uses).
func client(t *testing.T, props map[string]string, extra ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts, err := kafka.ClientOpts(props)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestKafkaListeners produces over the SASL_SSL listener with Tributary's
// client settings (SCRAM-SHA-512, PEM truststore) and reads the records back
// with kcat, an independent client, over PLAINTEXT and over SASL_SSL (with
// PLAIN: Debian's librdkafka 2.0.2 cannot do SCRAM against Kafka 4.x); a
// wrong password and an unknown CA are refused.
func TestKafkaListeners(t *testing.T) {
	b := harness.Kafka(t)
	if b.Cluster == nil {
		t.Skip("external cluster: no SASL_SSL listener known")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sasl := b.SASLProps(t)
	cl := client(t, sasl, kgo.DefaultProduceTopic("harness-listeners"), kgo.AllowAutoTopicCreation())
	for i := 0; i < 3; i++ {
		if err := cl.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("line-%d", i))).FirstErr(); err != nil {
			t.Fatalf("produce over SASL_SSL: %v", err)
		}
	}
	want := "line-0\nline-1\nline-2\n"
	plain := exec.CommandContext(ctx, "kcat", "-C", "-b", b.Bootstrap, "-t", "harness-listeners", "-e", "-q", "-f", "%s\n")
	if out, err := plain.CombinedOutput(); err != nil || string(out) != want {
		t.Errorf("kcat PLAINTEXT = %q, %v; want %q", out, err, want)
	}
	kcatSASL := func(password, ca string) ([]byte, error) {
		return exec.CommandContext(ctx, "kcat", "-C", "-b", b.Cluster.SASLBootstrap, "-t", "harness-listeners", "-e", "-q", "-f", "%s\n",
			"-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=PLAIN",
			"-X", "sasl.username="+harness.KafkaSASLUser, "-X", "sasl.password="+password,
			"-X", "ssl.ca.location="+ca).CombinedOutput()
	}
	if out, err := kcatSASL(harness.KafkaSASLPassword, b.Cluster.CAFile); err != nil || string(out) != want {
		t.Errorf("kcat SASL_SSL = %q, %v; want %q", out, err, want)
	}
	if out, err := kcatSASL("wrong", b.Cluster.CAFile); err == nil {
		t.Errorf("kcat with a wrong password succeeded: %q", out)
	}

	bad := map[string]string{}
	for k, v := range sasl {
		bad[k] = v
	}
	bad["sasl.jaas.config"] = strings.Replace(bad["sasl.jaas.config"], harness.KafkaSASLPassword, "wrong", 1)
	if err := client(t, bad).Ping(ctx); err == nil {
		t.Error("a wrong SCRAM password was accepted")
	}
	sasl["ssl.truststore.location"] = otherCA(t)
	if err := client(t, sasl).Ping(ctx); err == nil {
		t.Error("a broker certificate from an unknown CA was accepted")
	}
}

// TestKafkaThreeBrokers starts a three-broker cluster, writes with acks=all
// to a topic of replication factor 3 while one broker is killed, restarts it
// and reads every record back in order.
func TestKafkaThreeBrokers(t *testing.T) {
	if os.Getenv(harness.EnvBootstrap) != "" {
		t.Skip("external cluster given: the harness does not start its own")
	}
	c := harness.StartKafka(t, dbserver.KafkaOptions{Brokers: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := client(t, map[string]string{"bootstrap.servers": c.Bootstrap}, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic("three"))
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, "three"); err != nil {
		t.Fatal(err)
	}
	cfgs, err := adm.DescribeTopicConfigs(ctx, "three")
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range cfgs {
		for _, cfg := range rc.Configs {
			if cfg.Key == "min.insync.replicas" && (cfg.Value == nil || *cfg.Value != "2") {
				t.Errorf("min.insync.replicas = %v, want 2", cfg.MaybeValue())
			}
		}
	}
	var want bytes.Buffer
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			v := fmt.Sprintf("r%03d", i)
			if err := cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
				t.Fatalf("produce %s: %v", v, err)
			}
			want.WriteString(v + "\n")
		}
	}
	produce(0, 50)
	pid := c.Pid(1)
	if err := c.Kill(1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); len(b) > 0 {
			t.Fatalf("broker pid %d alive after Kill", pid)
		}
	}
	produce(50, 100) // two of three replicas in sync: acks=all still succeeds
	if err := c.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	produce(100, 150)
	out, err := exec.CommandContext(ctx, "kcat", "-C", "-b", c.Addr(1), "-t", "three", "-e", "-q", "-f", "%s\n").CombinedOutput()
	if err != nil || string(out) != want.String() {
		t.Errorf("kcat after restart: %v\n got %d bytes, want %d", err, len(out), want.Len())
	}
	dir := c.Dir
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if pids := harness.ProcessesUsing(dir); len(pids) > 0 {
		t.Errorf("broker processes left after Close: %v", pids)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Close", dir)
	}
}

// otherCA writes a CA certificate that signed nothing the cluster uses.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "unrelated CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
