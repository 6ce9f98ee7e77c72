package filestream

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

type fixedOffsets map[string]any

func (f fixedOffsets) Offset(context.Context, map[string]any) (map[string]any, error) {
	if f == nil {
		return nil, nil
	}
	return f, nil
}

func startSource(t *testing.T, file string, off fixedOffsets) *sourceTask {
	t.Helper()
	task := Source{}.NewTask().(*sourceTask)
	tc := connector.TaskContext{Logger: slog.New(slog.DiscardHandler), Offsets: off}
	if err := task.Start(context.Background(), map[string]string{"file": file, "topic": "t", "batch.size": "2"}, tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

func pollAll(t *testing.T, task *sourceTask) []schema.Record {
	var out []schema.Record
	for {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
	}
}

func TestSourceLinesAndOffsets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(file, []byte("a\r\nbé\rc\n\nd"), 0o644)
	task := startSource(t, file, nil)
	recs := pollAll(t, task)
	var lines []string
	var pos []int64
	for _, r := range recs {
		lines = append(lines, r.Value.(string))
		pos = append(pos, r.SourceOffset["position"].(int64))
		if r.Topic != "t" || r.Key != nil || r.ValueSchema != schema.StringSchema || r.Partition != -1 ||
			!reflect.DeepEqual(r.SourcePartition, map[string]any{"filename": file}) {
			t.Fatalf("record %+v", r)
		}
	}
	if want := []string{"a", "bé", "c", ""}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("lines = %q, want %q", lines, want)
	}
	if want := []int64{3, 7, 9, 10}; !reflect.DeepEqual(pos, want) {
		t.Fatalf("positions = %v, want %v", pos, want)
	}
	// "d" has no ending yet; it arrives with its newline.
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("e\nf\n")
	f.Close()
	recs = pollAll(t, task)
	if len(recs) != 2 || recs[0].Value != "de" || recs[1].Value != "f" || recs[1].SourceOffset["position"] != int64(15) {
		t.Fatalf("after append: %+v", recs)
	}

	// A restart at a committed position resumes there.
	task2 := startSource(t, file, fixedOffsets{"position": int64(7)})
	recs = pollAll(t, task2)
	if len(recs) != 4 || recs[0].Value != "c" || recs[3].Value != "f" {
		t.Fatalf("resumed: %+v", recs)
	}
}

func TestSinkCutsPartialLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(file, []byte("one\ntwo\nthr"), 0o644)
	task := Sink{}.NewTask()
	ctx := context.Background()
	if err := task.Start(ctx, map[string]string{"file": file}, connector.TaskContext{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, []schema.Record{{Value: "three"}, {Value: int64(4)}, {Value: nil}}); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(file)
	if want := "one\ntwo\nthree\n4\nnull\n"; string(b) != want {
		t.Fatalf("file = %q, want %q", b, want)
	}
}

// Kafka's FileStreamSinkTask.put println's each record to a PrintStream over
// a FileOutputStream (unbuffered), so a reader tailing the file sees the
// lines as soon as put returns, long before the runtime's flush (default
// offset.flush.interval.ms is 60000).
func TestSinkPutWritesThrough(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.txt")
	task := Sink{}.NewTask()
	ctx := context.Background()
	if err := task.Start(ctx, map[string]string{"file": file}, connector.TaskContext{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	if err := task.Put(ctx, []schema.Record{{Value: "a=1"}, {Value: "b=2"}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(file)
	if want := "a=1\nb=2\n"; string(b) != want {
		t.Fatalf("file after Put, before Flush = %q, want %q", b, want)
	}
	if err := task.Put(ctx, []schema.Record{{Value: int64(3)}}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(file)
	if want := "a=1\nb=2\n3\n"; string(b) != want {
		t.Fatalf("file after second Put = %q, want %q", b, want)
	}
}
