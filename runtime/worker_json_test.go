package runtime_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestJSONConverterAndTransforms runs the file connectors with the worker's
// default JsonConverter (schemas enabled) and a RegexRouter transform on the
// source: the topic holds Connect's JSON envelope byte for byte, and the
// sink decodes it back to the same lines.
func TestJSONConverterAndTransforms(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	want := writeLines(t, in, 0, 200)
	w := newWorker(t, dir, map[string]string{
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
	})
	ctx := context.Background()
	if err := w.CreateConnector(ctx, "src", map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "lines",
		"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex": "lin(.*)", "transforms.route.replacement": "routed-lin$1",
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateConnector(ctx, "sink", map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "routed-lines",
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "output", 30*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) >= len(want)
	})
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatalf("output differs:\n%s", got)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.BootstrapServers()), kgo.ConsumeTopics("routed-lines"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fs := cl.PollRecords(pctx, 1)
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	r := fs.Records()[0]
	if wantV := `{"schema":{"type":"string","optional":false},"payload":"line 000000 ünïcode"}`; string(r.Value) != wantV {
		t.Fatalf("value = %s, want %s", r.Value, wantV)
	}
	if r.Key != nil {
		t.Fatalf("key = %q, want null", r.Key)
	}
}
