package harness

import (
	"context"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/internal/dbserver"
)

// The reference implementations the differential tests run beside
// Tributary.
const (
	ConnectVersion  = dbserver.ConnectVersion
	DebeziumVersion = dbserver.DebeziumVersion
)

// ConnectWorker is a real Kafka Connect worker started by the harness.
type ConnectWorker = dbserver.ConnectWorker

// FetchConnect fetches Kafka Connect's and Debezium's jars with Maven
// (integration/jvm/connect, once per machine, into ~/.cache/tributary).
func FetchConnect(ctx context.Context) (dbserver.ConnectLib, error) {
	_, file, _, _ := goruntime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "jvm", "connect")
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return dbserver.FetchConnect(ctx, dir, filepath.Join(cache, "tributary"))
}

// Connect starts a real Kafka Connect 4.4.0 standalone worker with
// Debezium 3.6.1's MySQL and PostgreSQL connectors on its plugin.path,
// writing to b (a real cluster: harness.Kafka), with JsonConverter and
// schemas for keys and values; settings override worker.properties
// entries. It returns the worker (URL is its REST API); the worker is
// killed when the test ends, and its log is shown if the test failed.
func Connect(t testing.TB, b *Broker, settings map[string]string) *ConnectWorker {
	t.Helper()
	if b == nil || b.Embedded || b.Bootstrap == "" {
		t.Fatal("harness: Connect needs a real Kafka cluster (harness.Kafka)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // includes the first Maven fetch
	defer cancel()
	lib, err := FetchConnect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := dbserver.StartConnect(ctx, dbserver.ConnectOptions{Lib: lib, Bootstrap: b.Bootstrap, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if body, err := os.ReadFile(w.LogFile); err == nil {
				if len(body) > 12000 {
					body = body[len(body)-12000:]
				}
				t.Logf("Kafka Connect worker log (%s, last 12000 bytes):\n%s", w.LogFile, body)
			}
		}
		_ = w.Close()
	})
	return w
}
