package s3

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/runtime"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.NeedKafka)) }

// startWorker starts a standalone worker in-process on b: a real Kafka
// cluster, or the embedded broker kept in dir.
func startWorker(t *testing.T, b *harness.Broker, dir string) *runtime.Worker {
	t.Helper()
	props := map[string]string{
		"offset.storage.file.filename": filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms":     "200",
		"key.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":              "org.apache.kafka.connect.json.JsonConverter",
	}
	if b.Embedded {
		props["bootstrap.servers"], props["embedded.broker.port"] = "embedded", "0"
		props["embedded.broker.data.dir"] = filepath.Join(dir, "broker")
	} else {
		props["bootstrap.servers"] = b.Bootstrap
	}
	wc, err := runtime.ParseWorkerConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	w, err := runtime.NewWorker(context.Background(), wc, runtime.Options{
		Registry: connector.NewRegistry(Plugin{}), Logger: slog.New(slog.DiscardHandler), WorkerID: "s3-test:8083"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// produce writes Connect-JSON change events with seq = from..to-1 (the
// topic's offsets, one partition).
func produce(t *testing.T, w *runtime.Worker, topic string, from, to int) {
	t.Helper()
	cl, err := w.KafkaClient(kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const schemaJSON = `{"type":"struct","name":"orders.Envelope","fields":[` +
		`{"field":"op","type":"string"},{"field":"ts_ms","type":"int64"},{"field":"seq","type":"int64"}]}`
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		v := fmt.Sprintf(`{"schema":%s,"payload":{"op":"c","ts_ms":%d,"seq":%d}}`, schemaJSON, baseTime.UnixMilli()+int64(i), i)
		recs = append(recs, &kgo.Record{Value: []byte(v), Partition: 0})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func waitCommitted(t *testing.T, w *runtime.Worker, name string, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		offs, err := w.Offsets(context.Background(), name)
		if err == nil && len(offs) == 1 && offs[0].Offset["kafka_offset"] == want {
			return
		}
		if time.Now().After(deadline) {
			st, _ := w.ConnectorStatus(name)
			t.Fatalf("committed offsets %v (%v), want %d; status %+v", offs, err, want, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWorkerEndToEnd runs the connector in a standalone worker on real
// Kafka and on the embedded broker: records produced as Connect JSON land as JSON-lines
// objects; the consumer group commits only whole uploaded files; a worker
// restart with a file half written resumes from the committed offset and
// the bucket ends with every record exactly once.
func TestWorkerEndToEnd(t *testing.T) { harness.EachBroker(t, testWorkerEndToEnd) }

func testWorkerEndToEnd(t *testing.T, b *harness.Broker) {
	f := newFakeS3(t)
	dir := t.TempDir()
	ctx := context.Background()
	const topic = "orders"
	cfg := map[string]string{
		"connector.class": "S3SinkConnector", "tasks.max": "1", "topics": topic,
		KeyBucket: f.bucket, KeyStoreURL: f.url, KeyRegion: "us-east-1",
		KeyAccessKeyID: "AK", KeySecretAccessKey: "SK",
		KeyFlushSize: "1000", KeyFormatClass: FormatJSON,
		"value.converter.schemas.enable": "true",
	}

	w := startWorker(t, b, dir)
	produce(t, w, topic, 0, 2500)
	if err := w.CreateConnector(ctx, "s3-sink", cfg); err != nil {
		w.Close(ctx)
		t.Fatal(err)
	}
	waitCommitted(t, w, "s3-sink", 2000) // two whole files; 500 records stay open
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	w.Close(cctx)
	cancel()
	if keys := f.list(t, "topics/"); len(keys) != 2 {
		t.Fatalf("after the first run: %v", keys)
	}

	w2 := startWorker(t, b, dir)
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		w2.Close(cctx)
	}()
	produce(t, w2, topic, 2500, 4000)
	if err := w2.CreateConnector(ctx, "s3-sink", cfg); err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, w2, "s3-sink", 4000)
	keys := verifyExactlyOnce(t, f, "topics/", topic, 1, 4000)
	want := "topics/orders/partition=0/orders+0+0000000000.json topics/orders/partition=0/orders+0+0000001000.json " +
		"topics/orders/partition=0/orders+0+0000002000.json topics/orders/partition=0/orders+0+0000003000.json"
	if strings.Join(keys, " ") != want {
		t.Fatalf("objects %v", keys)
	}
}
