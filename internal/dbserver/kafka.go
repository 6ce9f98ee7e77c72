//go:build unix

package dbserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaOptions configures StartKafka. The zero value starts one broker with
// a PLAINTEXT listener.
type KafkaOptions struct {
	// Brokers is the number of nodes (each one both broker and KRaft
	// controller); 0 means 1.
	Brokers int
	// SASLSSL adds a SASL_SSL listener on every broker: SCRAM-SHA-512 with
	// user KafkaSASLUser, certificates from a CA generated for the cluster.
	SASLSSL bool
	// LibDir holds the broker's jars (FetchKafka's result).
	LibDir string
	// Dir is the parent of the cluster's temp directory ("" = temp dir).
	Dir string
	// Settings are extra broker settings, name=value, on every broker.
	Settings map[string]string
}

// The SASL account StartKafka creates when KafkaOptions.SASLSSL is set.
const (
	KafkaSASLUser      = "tributary"
	KafkaSASLPassword  = "tributary-secret"
	KafkaSASLMechanism = "SCRAM-SHA-512"
)

// KafkaCluster is a running Apache Kafka KRaft cluster of throwaway brokers.
type KafkaCluster struct {
	// Bootstrap lists every broker's PLAINTEXT listener, comma-separated.
	Bootstrap string
	// SASLBootstrap lists the SASL_SSL listeners ("" without SASLSSL).
	SASLBootstrap string
	// CAFile is the PEM certificate that signed the brokers' certificates.
	CAFile string
	// Dir is the cluster's temp directory (one node-N subdirectory each).
	Dir string

	clusterID string
	libDir    string
	java      string // the java binary
	nodes     []*kafkaNode
}

// kafkaNode is one broker+controller process.
type kafkaNode struct {
	id                         int
	dir                        string
	plainPort, ctrlPort, sPort int
	mu                         sync.Mutex
	cmd                        *exec.Cmd
	exited                     chan struct{}
}

// KafkaVersion is the Apache Kafka release integration/jvm/kafka/pom.xml pins.
const KafkaVersion = "4.4.0"

// FetchKafka makes sure the jars of the pinned Maven project pom (Apache
// Kafka's broker) are in cacheDir/<hash of the pom>/lib, running
// `mvn dependency:copy-dependencies` once (under a file lock, so test
// packages running side by side fetch once). It returns the lib directory.
func FetchKafka(ctx context.Context, pom, cacheDir string) (string, error) {
	body, err := os.ReadFile(pom)
	if err != nil {
		return "", fmt.Errorf("read Kafka pom: %w", err)
	}
	sum := sha256.Sum256(body)
	dir := filepath.Join(cacheDir, "kafka-"+KafkaVersion+"-"+hex.EncodeToString(sum[:6]))
	lib := filepath.Join(dir, "lib")
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err == nil {
		return lib, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create Kafka cache dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("open Kafka cache lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock Kafka cache: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(done); err == nil {
		return lib, nil
	}
	mvn, err := findBinary("maven", []string{"mvn"})
	if err != nil {
		return "", err
	}
	if _, err := findBinary("default-jdk-headless", []string{"java"}); err != nil {
		return "", err
	}
	_ = os.RemoveAll(lib)
	cmd := exec.CommandContext(ctx, mvn, "-q", "-B", "-f", pom,
		"dependency:copy-dependencies", "-DincludeScope=runtime", "-DoutputDirectory="+lib)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("fetch Apache Kafka %s with Maven (%s): %w\n%s", KafkaVersion, pom, err, out)
	}
	if err := os.WriteFile(done, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("mark Kafka cache complete: %w", err)
	}
	return lib, nil
}

// StartKafka formats and starts a KRaft cluster of o.Brokers combined
// broker/controller nodes on free 127.0.0.1 ports, and waits until every
// broker is registered and serving its listeners. Close stops it and removes
// its directory.
func StartKafka(ctx context.Context, o KafkaOptions) (_ *KafkaCluster, err error) {
	n := o.Brokers
	if n <= 0 {
		n = 1
	}
	if o.LibDir == "" {
		return nil, errors.New("harness: KafkaOptions.LibDir is empty (call FetchKafka first)")
	}
	java, err := findBinary("default-jdk-headless", []string{"java"})
	if err != nil {
		return nil, err
	}
	dir, err := makeDir(Options{Dir: o.Dir}, "kafka")
	if err != nil {
		return nil, err
	}
	c := &KafkaCluster{Dir: dir, libDir: o.LibDir, java: java, clusterID: newClusterID()}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		node := &kafkaNode{id: i + 1, dir: filepath.Join(dir, fmt.Sprintf("node-%d", i+1))}
		for _, p := range []*int{&node.plainPort, &node.ctrlPort, &node.sPort} {
			if *p, err = freePort(); err != nil {
				return nil, err
			}
		}
		if err := os.MkdirAll(node.dir, 0o755); err != nil {
			return nil, fmt.Errorf("create Kafka node dir: %w", err)
		}
		c.nodes = append(c.nodes, node)
	}
	var tls *tlsFiles
	if o.SASLSSL {
		if tls, err = writeTLSFiles(dir); err != nil {
			return nil, err
		}
		c.CAFile = tls.ca
	}
	var voters, plain, sasl []string
	for _, node := range c.nodes {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", node.id, node.ctrlPort))
		plain = append(plain, fmt.Sprintf("127.0.0.1:%d", node.plainPort))
		sasl = append(sasl, fmt.Sprintf("127.0.0.1:%d", node.sPort))
	}
	c.Bootstrap = strings.Join(plain, ",")
	if o.SASLSSL {
		c.SASLBootstrap = strings.Join(sasl, ",")
	}
	for _, node := range c.nodes {
		props := node.properties(strings.Join(voters, ","), n, tls, o.Settings)
		if err := os.WriteFile(filepath.Join(node.dir, "server.properties"), []byte(props), 0o644); err != nil {
			return nil, fmt.Errorf("write Kafka server.properties: %w", err)
		}
		if err := os.WriteFile(filepath.Join(node.dir, "log4j2.properties"), []byte(log4jConfig(node.dir)), 0o644); err != nil {
			return nil, fmt.Errorf("write Kafka log4j2.properties: %w", err)
		}
		args := c.javaArgs(node, "kafka.tools.StorageTool", "format", "-t", c.clusterID,
			"-c", filepath.Join(node.dir, "server.properties"), "--ignore-formatted")
		if o.SASLSSL {
			args = append(args, "--add-scram",
				fmt.Sprintf("%s=[name=%s,password=%s]", KafkaSASLMechanism, KafkaSASLUser, KafkaSASLPassword))
		}
		out, err := exec.CommandContext(ctx, java, args...).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("format Kafka node %d: %w\n%s", node.id, err, out)
		}
	}
	for _, node := range c.nodes {
		if err := c.launch(node); err != nil {
			return nil, err
		}
	}
	if err := c.WaitReady(ctx, n); err != nil {
		return nil, err
	}
	return c, nil
}

// properties renders a node's server.properties.
func (node *kafkaNode) properties(voters string, n int, tls *tlsFiles, extra map[string]string) string {
	rf := 1
	minISR := 1
	if n >= 3 {
		rf, minISR = 3, 2
	}
	listeners := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", node.plainPort, node.ctrlPort)
	advertised := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", node.plainPort)
	protocols := "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
	if tls != nil {
		listeners += fmt.Sprintf(",SASL_SSL://127.0.0.1:%d", node.sPort)
		advertised += fmt.Sprintf(",SASL_SSL://127.0.0.1:%d", node.sPort)
		protocols += ",SASL_SSL:SASL_SSL"
	}
	settings := map[string]string{
		"process.roles":                            "broker,controller",
		"node.id":                                  strconv.Itoa(node.id),
		"controller.quorum.voters":                 voters,
		"controller.listener.names":                "CONTROLLER",
		"inter.broker.listener.name":               "PLAINTEXT",
		"listeners":                                listeners,
		"advertised.listeners":                     advertised,
		"listener.security.protocol.map":           protocols,
		"log.dirs":                                 filepath.Join(node.dir, "data"),
		"num.partitions":                           "1",
		"default.replication.factor":               strconv.Itoa(rf),
		"min.insync.replicas":                      strconv.Itoa(minISR),
		"offsets.topic.replication.factor":         strconv.Itoa(rf),
		"offsets.topic.num.partitions":             "5",
		"transaction.state.log.replication.factor": strconv.Itoa(rf),
		"transaction.state.log.min.isr":            strconv.Itoa(minISR),
		"transaction.state.log.num.partitions":     "5",
		"group.initial.rebalance.delay.ms":         "0",
		"auto.create.topics.enable":                "true",
		"delete.topic.enable":                      "true",
		"log.segment.bytes":                        strconv.Itoa(16 << 20),
		"log.cleaner.dedupe.buffer.size":           strconv.Itoa(8 << 20),
		"unstable.api.versions.enable":             "false",
	}
	if tls != nil {
		// PLAIN besides SCRAM: librdkafka before 2.6.1 (kcat, Debian's
		// python3-confluent-kafka) fails SCRAM against Kafka 4.x
		// (confluentinc/librdkafka#4895), so independent clients check
		// the TLS listener with PLAIN.
		settings["sasl.enabled.mechanisms"] = KafkaSASLMechanism + ",PLAIN"
		settings["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"] = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
		settings["listener.name.sasl_ssl.plain.sasl.jaas.config"] = fmt.Sprintf("org.apache.kafka.common.security.plain.PlainLoginModule required user_%s=\"%s\";", KafkaSASLUser, KafkaSASLPassword)
		settings["listener.name.sasl_ssl.ssl.keystore.type"] = "PEM"
		settings["listener.name.sasl_ssl.ssl.keystore.location"] = tls.keystore
		settings["listener.name.sasl_ssl.ssl.truststore.type"] = "PEM"
		settings["listener.name.sasl_ssl.ssl.truststore.location"] = tls.ca
	}
	for k, v := range extra {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, settings[k])
	}
	return b.String()
}

// log4jConfig sends the broker's log to server.log in its directory.
func log4jConfig(dir string) string {
	return fmt.Sprintf(`status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = %s
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%%d] %%p %%m (%%c)%%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
`, filepath.Join(dir, "server.log"))
}

// javaArgs are the JVM arguments to run main with the broker's jars: a
// small heap and quick start-up, suited to tests.
func (c *KafkaCluster) javaArgs(node *kafkaNode, main string, args ...string) []string {
	jvm := []string{
		"-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile=" + filepath.Join(node.dir, "log4j2.properties"),
		"-cp", filepath.Join(c.libDir, "*"),
		main,
	}
	return append(jvm, args...)
}

// launch starts node's broker process.
func (c *KafkaCluster) launch(node *kafkaNode) error {
	out, err := os.OpenFile(filepath.Join(node.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open Kafka node log: %w", err)
	}
	cmd := exec.Command(c.java, c.javaArgs(node, "kafka.Kafka", filepath.Join(node.dir, "server.properties"))...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr(false, nil)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start Kafka node %d: %w", node.id, err)
	}
	_ = os.WriteFile(filepath.Join(node.dir, "kafka.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); out.Close(); close(exited) }()
	node.mu.Lock()
	node.cmd, node.exited = cmd, exited
	node.mu.Unlock()
	return nil
}

// WaitReady waits until want brokers are registered and each one's PLAINTEXT
// listener answers (a broker that crashed at start ends the wait with its
// log).
func (c *KafkaCluster) WaitReady(ctx context.Context, want int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		for _, node := range c.nodes {
			node.mu.Lock()
			exited := node.exited
			node.mu.Unlock()
			if exited == nil {
				continue
			}
			select {
			case <-exited:
				return fmt.Errorf("Kafka node %d exited at start: %s", node.id, tail(filepath.Join(node.dir, "server.log"), 3000)+tail(filepath.Join(node.dir, "stdout.log"), 2000))
			default:
			}
		}
		if n, err := registeredBrokers(ctx, c.Bootstrap); err == nil && n >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Kafka cluster not ready (%d brokers): %w; last log lines: %s", want, ctx.Err(), tail(filepath.Join(c.nodes[0].dir, "server.log"), 3000))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Brokers is the number of nodes in the cluster.
func (c *KafkaCluster) Brokers() int { return len(c.nodes) }

// Kill sends SIGKILL to broker i (0-based) and waits until it is gone.
func (c *KafkaCluster) Kill(i int) error { return c.stopNode(i, syscall.SIGKILL) }

// Stop shuts broker i down cleanly (SIGTERM) and waits.
func (c *KafkaCluster) Stop(i int) error { return c.stopNode(i, syscall.SIGTERM) }

func (c *KafkaCluster) stopNode(i int, sig syscall.Signal) error {
	if i < 0 || i >= len(c.nodes) {
		return fmt.Errorf("no Kafka node %d", i)
	}
	node := c.nodes[i]
	node.mu.Lock()
	cmd, exited := node.cmd, node.exited
	node.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	return nil
}

// Restart starts broker i again (after Kill or Stop) on the same ports and
// data, and waits until the whole cluster is registered again.
func (c *KafkaCluster) Restart(ctx context.Context, i int) error {
	if i < 0 || i >= len(c.nodes) {
		return fmt.Errorf("no Kafka node %d", i)
	}
	if err := c.stopNode(i, syscall.SIGTERM); err != nil {
		return err
	}
	if err := c.launch(c.nodes[i]); err != nil {
		return err
	}
	return c.WaitReady(ctx, len(c.nodes))
}

// Pid is broker i's process id (0 when it is not running).
func (c *KafkaCluster) Pid(i int) int {
	node := c.nodes[i]
	node.mu.Lock()
	defer node.mu.Unlock()
	if node.cmd == nil {
		return 0
	}
	select {
	case <-node.exited:
		return 0
	default:
		return node.cmd.Process.Pid
	}
}

// Addr is broker i's PLAINTEXT address.
func (c *KafkaCluster) Addr(i int) string {
	return fmt.Sprintf("127.0.0.1:%d", c.nodes[i].plainPort)
}

// LogFile is broker i's server.log.
func (c *KafkaCluster) LogFile(i int) string { return filepath.Join(c.nodes[i].dir, "server.log") }

// Close kills every broker and removes the cluster's directory.
func (c *KafkaCluster) Close() error {
	var wg sync.WaitGroup
	for i := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.stopNode(i, syscall.SIGKILL) }()
	}
	wg.Wait()
	return removeDir(c.Dir, false)
}

// newClusterID is a random KRaft cluster id (16 bytes, URL-safe base64).
// Like Kafka's Uuid.randomUuid it never starts with '-': kafka-storage's
// argument parser would read such an id as an option ("--cluster-id:
// expected one argument"), which failed one CI run in 64.
func newClusterID() string {
	b := make([]byte, 16)
	for {
		_, _ = rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

// tlsFiles are the PEM files of a cluster's SASL_SSL listeners.
type tlsFiles struct {
	ca       string // CA certificate
	keystore string // broker key (PKCS#8) and certificate chain
}

// writeTLSFiles generates a CA and one broker certificate for 127.0.0.1 and
// localhost, valid for a day, and writes them as PEM.
func writeTLSFiles(dir string) (*tlsFiles, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tributary test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate broker key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create broker certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode broker key: %w", err)
	}
	f := &tlsFiles{ca: filepath.Join(dir, "ca.pem"), keystore: filepath.Join(dir, "broker.pem")}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	ks := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	ks = append(ks, caPEM...)
	if err := os.WriteFile(f.ca, caPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write CA certificate: %w", err)
	}
	if err := os.WriteFile(f.keystore, ks, 0o600); err != nil {
		return nil, fmt.Errorf("write broker keystore: %w", err)
	}
	return f, nil
}

// registeredBrokers asks the cluster (through any of the bootstrap
// addresses) how many brokers are registered and unfenced, and checks that
// each one accepts connections.
func registeredBrokers(ctx context.Context, bootstrap string) (int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.DialTimeout(2*time.Second))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return 0, err
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	for _, b := range md.Brokers {
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))))
		if err != nil {
			return 0, err
		}
		conn.Close()
	}
	return len(md.Brokers), nil
}
