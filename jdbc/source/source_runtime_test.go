package source

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime"
)

// startWorker runs a standalone worker (embedded broker, file offsets,
// Connect JSON) with the JDBC source registered, on dir.
func startWorker(t *testing.T, dir string) *runtime.Worker {
	t.Helper()
	wc, err := runtime.ParseWorkerConfig(map[string]string{
		"bootstrap.servers":            "embedded",
		"embedded.broker.port":         "0",
		"offset.storage.file.filename": filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms":     "100",
		"key.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":              "org.apache.kafka.connect.json.JsonConverter",
	})
	if err != nil {
		t.Fatal(err)
	}
	w, err := runtime.NewWorker(context.Background(), wc, runtime.Options{
		Registry: connector.NewRegistry(SourcePlugin{}), Logger: slog.New(slog.DiscardHandler), WorkerID: "jdbc-test:8083"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// topicValues reads every record of topic from the start.
func topicValues(t *testing.T, w *runtime.Worker, topic string, want int) []map[string]any {
	t.Helper()
	cl, err := w.KafkaClient(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []map[string]any
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(out) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			var env struct {
				Schema  map[string]any `json:"schema"`
				Payload map[string]any `json:"payload"`
			}
			if err := json.Unmarshal(r.Value, &env); err != nil {
				t.Errorf("record value %q: %v", r.Value, err)
				return
			}
			if r.Key != nil && string(r.Key) != "null" && len(r.Key) > 0 {
				var k struct{ Payload any }
				json.Unmarshal(r.Key, &k)
				if k.Payload != nil {
					t.Errorf("record key %q, want none", r.Key)
				}
			}
			if env.Schema["name"] != "login" {
				t.Errorf("value schema %v", env.Schema)
			}
			out = append(out, env.Payload)
		})
	}
	// Nothing beyond what we expect.
	short, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	cl.PollFetches(short).EachRecord(func(r *kgo.Record) { t.Errorf("unexpected extra record %s", r.Value) })
	return out
}

// TestWorkerEndToEnd runs the example config unchanged in a
// standalone worker with the embedded broker: the rows land in topic
// mysql.login as Connect JSON, the offset is stored, and after a worker
// restart only new rows follow.
func TestWorkerEndToEnd(t *testing.T) {
	f := newFixture(t, backends[0])
	f.exec(t, `CREATE TABLE login (id INT PRIMARY KEY, username VARCHAR(40), login_time DATETIME)`)
	f.exec(t, `INSERT INTO login VALUES (1, 'alice', '2024-05-01 10:00:00'), (2, 'bob', '2024-05-01 10:00:05')`)
	cfg := map[string]string{"connector.class": "JdbcSourceConnector",
		"connection.url":        "jdbc:mysql://127.0.0.1:" + itoa(f.db.Port) + "/" + f.db.Name + "?user=root",
		"mode":                  "timestamp",
		"table.whitelist":       "login",
		"timestamp.column.name": "login_time",
		"validate.non.null":     "false",
		"topic.prefix":          "mysql.",
		"poll.interval.ms":      "100"}
	dir := t.TempDir()
	ctx := context.Background()

	w := startWorker(t, dir)
	if err := w.CreateConnector(ctx, "login-source", cfg); err != nil {
		w.Close(ctx)
		t.Fatal(err)
	}
	got := topicValues(t, w, "mysql.login", 2)
	if len(got) != 2 || got[0]["username"] != "alice" || got[1]["username"] != "bob" {
		t.Fatalf("topic mysql.login: %v", got)
	}
	if ms := got[1]["login_time"]; ms != float64(time.Date(2024, 5, 1, 10, 0, 5, 0, time.UTC).UnixMilli()) {
		t.Errorf("login_time %v", ms)
	}
	wantOff := time.Date(2024, 5, 1, 10, 0, 5, 0, time.UTC).UnixMilli()
	deadline := time.Now().Add(15 * time.Second)
	for {
		offs, err := w.Offsets(ctx, "login-source")
		if err == nil && len(offs) == 1 && offs[0].Partition["table"] == f.db.Name+".login" && offs[0].Partition["protocol"] == "1" &&
			toI64(offs[0].Offset["timestamp"]) == wantOff {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored offsets %v, %v", offs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	w.Close(cctx)
	cancel()

	// Restart on the same offsets file and broker data: only the new row.
	f.exec(t, `INSERT INTO login VALUES (3, 'carol', '2024-05-01 10:00:09')`)
	w2 := startWorker(t, dir)
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		w2.Close(cctx)
	}()
	if err := w2.CreateConnector(ctx, "login-source", cfg); err != nil {
		t.Fatal(err)
	}
	got = topicValues(t, w2, "mysql.login", 3)
	if len(got) != 3 || got[2]["username"] != "carol" {
		t.Fatalf("after restart: %v", got)
	}
}

func toI64(v any) int64 {
	n, _ := offsetInt(v)
	return n
}
