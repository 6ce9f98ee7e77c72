package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/internal/dbserver"
)

// KafkaCluster is a real Apache Kafka cluster started by the harness.
type KafkaCluster = dbserver.KafkaCluster

// The SASL_SSL account of harness-started clusters.
const (
	KafkaSASLUser      = dbserver.KafkaSASLUser
	KafkaSASLPassword  = dbserver.KafkaSASLPassword
	KafkaSASLMechanism = dbserver.KafkaSASLMechanism
	KafkaVersion       = dbserver.KafkaVersion
)

// Environment variables that choose the brokers the suites run on.
const (
	// EnvKafka lists the broker kinds, comma-separated: "kafka" (real
	// Apache Kafka, started from Maven Central's jars, or the cluster of
	// EnvBootstrap) and "embedded" (the worker's own embedded broker).
	// Default "kafka,embedded": tests that run on each kind run on both,
	// the others on the first.
	EnvKafka = "TRIBUTARY_TEST_KAFKA"
	// EnvBootstrap, when set, is the bootstrap.servers of an existing Kafka
	// cluster the "kafka" kind uses instead of starting one. The suites
	// delete the topics and consumer groups they do not recognise as
	// internal (names starting "__") before each test: use a throwaway
	// cluster.
	EnvBootstrap = "TRIBUTARY_TEST_BOOTSTRAP_SERVERS"
)

// Broker is the Kafka a test's workers and clients use: a real cluster
// (Embedded false) or the embedded broker inside each worker process.
type Broker struct {
	// Name is "kafka-4.4.0", "kafka-external" or "embedded" (a subtest name).
	Name string
	// Embedded: workers run their own embedded broker (bootstrap.servers=
	// embedded); clients dial the port WorkerProps chose.
	Embedded bool
	// Cluster is the harness-started cluster (nil for embedded and external).
	Cluster *KafkaCluster
	// Bootstrap is the real cluster's PLAINTEXT bootstrap.servers ("" for
	// embedded).
	Bootstrap string
}

// WorkerProps returns the worker.properties lines that send a worker's
// traffic to b, and the bootstrap address outside clients dial. For the
// embedded broker each call picks a fresh port: keep the lines for the
// worker's restarts.
func (b *Broker) WorkerProps(t testing.TB) (props, bootstrap string) {
	t.Helper()
	if !b.Embedded {
		return "bootstrap.servers=" + b.Bootstrap + "\n", b.Bootstrap
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return fmt.Sprintf("bootstrap.servers=embedded\nembedded.broker.port=%d\n", port), fmt.Sprintf("127.0.0.1:%d", port)
}

// SASLProps returns client properties (Kafka's names) for the cluster's
// SASL_SSL listener with SCRAM-SHA-512, or fails the test when the cluster
// has none.
func (b *Broker) SASLProps(t testing.TB) map[string]string {
	t.Helper()
	if b.Cluster == nil || b.Cluster.SASLBootstrap == "" {
		t.Fatalf("harness: broker %s has no SASL_SSL listener (Run with NeedKafkaSASL)", b.Name)
	}
	return map[string]string{
		"bootstrap.servers":       b.Cluster.SASLBootstrap,
		"security.protocol":       "SASL_SSL",
		"sasl.mechanism":          KafkaSASLMechanism,
		"sasl.jaas.config":        fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`, KafkaSASLUser, KafkaSASLPassword),
		"ssl.truststore.type":     "PEM",
		"ssl.truststore.location": b.Cluster.CAFile,
	}
}

// kafkaKinds parses EnvKafka.
func kafkaKinds() ([]string, error) {
	v := strings.TrimSpace(os.Getenv(EnvKafka))
	if v == "" {
		return []string{"kafka", "embedded"}, nil
	}
	var kinds []string
	for _, k := range strings.Split(v, ",") {
		switch k = strings.TrimSpace(k); k {
		case "kafka", "embedded":
			kinds = append(kinds, k)
		case "":
		default:
			return nil, fmt.Errorf("%s: unknown broker kind %q (kafka, embedded)", EnvKafka, k)
		}
	}
	if len(kinds) == 0 {
		return nil, fmt.Errorf("%s: no broker kind given (kafka, embedded)", EnvKafka)
	}
	return kinds, nil
}

// startKafka starts the suite's real cluster (or adopts EnvBootstrap's).
func startKafka(ctx context.Context, brokers int, sasl bool) (*Broker, error) {
	if bs := strings.TrimSpace(os.Getenv(EnvBootstrap)); bs != "" {
		return &Broker{Name: "kafka-external", Bootstrap: bs}, nil
	}
	lib, err := FetchKafka(ctx)
	if err != nil {
		return nil, err
	}
	c, err := dbserver.StartKafka(ctx, dbserver.KafkaOptions{Brokers: brokers, SASLSSL: sasl, LibDir: lib})
	if err != nil {
		return nil, err
	}
	return &Broker{Name: "kafka-" + KafkaVersion, Cluster: c, Bootstrap: c.Bootstrap}, nil
}

// FetchKafka fetches Apache Kafka's jars with Maven (once per machine, into
// ~/.cache/tributary) and returns their directory.
func FetchKafka(ctx context.Context) (string, error) {
	_, file, _, _ := goruntime.Caller(0)
	pom := filepath.Join(filepath.Dir(file), "..", "jvm", "kafka", "pom.xml")
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return dbserver.FetchKafka(ctx, pom, filepath.Join(cache, "tributary"))
}

// StartKafka starts a real Apache Kafka cluster for one test (most tests
// share the suite's: Kafka); Close is registered as cleanup.
func StartKafka(t testing.TB, o dbserver.KafkaOptions) *KafkaCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if o.LibDir == "" {
		lib, err := FetchKafka(ctx)
		if err != nil {
			t.Fatal(err)
		}
		o.LibDir = lib
	}
	c, err := dbserver.StartKafka(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Kafka returns the suite's real Kafka cluster (Run with NeedKafka or
// NeedKafka3), emptied of the previous tests' topics and consumer groups.
func Kafka(t testing.TB) *Broker {
	t.Helper()
	if suite.kErr == nil && !slices.Contains(suite.kinds, "kafka") {
		t.Skipf("harness: real Kafka left out by %s=%q", EnvKafka, os.Getenv(EnvKafka))
	}
	if suite.kafka == nil {
		t.Fatalf("harness: no Kafka cluster: call harness.Run(m, harness.NeedKafka|…) from TestMain (err: %v)", suite.kErr)
	}
	if err := resetKafka(suite.kafka.Bootstrap); err != nil {
		t.Fatalf("harness: reset Kafka between tests: %v", err)
	}
	return suite.kafka
}

// Brokers returns the brokers EnvKafka selects, in order: the suite's real
// cluster (reset as by Kafka) and/or the embedded broker.
func Brokers(t testing.TB) []*Broker {
	t.Helper()
	var out []*Broker
	for _, k := range suite.kinds {
		switch k {
		case "kafka":
			out = append(out, Kafka(t))
		case "embedded":
			out = append(out, &Broker{Name: "embedded", Embedded: true})
		}
	}
	return out
}

// DefaultBroker is the first broker EnvKafka selects: tests that need not
// run on every kind run on this one.
func DefaultBroker(t testing.TB) *Broker {
	t.Helper()
	return Brokers(t)[0]
}

// EachBroker runs f as a subtest on every broker EnvKafka selects.
func EachBroker(t *testing.T, f func(t *testing.T, b *Broker)) {
	t.Helper()
	for _, k := range suite.kinds {
		t.Run(k, func(t *testing.T) {
			var b *Broker
			if k == "kafka" {
				b = Kafka(t)
			} else {
				b = &Broker{Name: "embedded", Embedded: true}
			}
			f(t, b)
		})
	}
}

// resetKafka deletes every topic except Kafka's own (names starting "__")
// and every consumer group, and waits until the topics are gone, so a test
// starts on an empty cluster whatever the one before it left.
func resetKafka(bootstrap string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	if names := groups.Groups(); len(names) > 0 {
		if _, err := adm.DeleteGroups(ctx, names...); err != nil {
			return fmt.Errorf("delete groups: %w", err)
		}
	}
	for {
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			return fmt.Errorf("list topics: %w", err)
		}
		var names []string
		for _, name := range topics.Names() {
			if !strings.HasPrefix(name, "__") {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return nil
		}
		if _, err := adm.DeleteTopics(ctx, names...); err != nil {
			return fmt.Errorf("delete topics: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v still listed: %w", names, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
