package filestream

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// Sink is the FileStreamSink plugin.
type Sink struct{}

// Class implements connector.Plugin.
func (Sink) Class() string { return SinkClass }

// Aliases implements connector.Plugin.
func (Sink) Aliases() []string { return []string{"FileStreamSink", "FileStreamSinkConnector"} }

// Type implements connector.Plugin.
func (Sink) Type() connector.Type { return connector.Sink }

// Version implements connector.Plugin.
func (Sink) Version() string { return Version }

// Config implements connector.Plugin.
func (Sink) Config() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeyFile, Type: config.String, Default: "", Importance: config.High,
			Doc: "Destination filename. If not specified, the standard output will be used"})
}

// Validate implements connector.Plugin.
func (Sink) Validate(*config.Values) config.Errors { return nil }

// TaskConfigs implements connector.Plugin: one task (several tasks
// appending to one file would interleave lines).
func (Sink) TaskConfigs(_ context.Context, cfg map[string]string, _ int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(cfg)}, nil
}

// NewTask implements connector.SinkPlugin.
func (Sink) NewTask() connector.SinkTask { return &sinkTask{} }

type sinkTask struct {
	f *os.File // nil: stdout
	w *bufio.Writer
}

func (t *sinkTask) Start(_ context.Context, cfg map[string]string, tc connector.TaskContext) error {
	file := cfg[KeyFile]
	if file == "" {
		t.w = bufio.NewWriterSize(os.Stdout, 64<<10)
		return nil
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	end, err := completeLinesEnd(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", file, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() != end {
		if tc.Logger != nil {
			tc.Logger.Warn("cutting a partial last line left by an interrupted write", "file", file, "size", fi.Size(), "cut_to", end)
		}
		if err := f.Truncate(end); err != nil {
			f.Close()
			return fmt.Errorf("truncate %s: %w", file, err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("seek %s: %w", file, err)
	}
	t.f = f
	t.w = bufio.NewWriterSize(f, 256<<10)
	return nil
}

// completeLinesEnd returns the size of f up to and including its last
// newline (0 when it has none).
func completeLinesEnd(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

func (t *sinkTask) Put(_ context.Context, recs []schema.Record) error {
	for i := range recs {
		if err := writeValue(t.w, recs[i].Value); err != nil {
			return fmt.Errorf("write record %s-%d@%d: %w", recs[i].Topic, recs[i].Partition, recs[i].Offset, err)
		}
	}
	// Hand the batch to the OS before returning, as Kafka's println to an
	// unbuffered FileOutputStream does: a reader tailing the file sees the
	// lines now, not at the next offset flush. Flush still fsyncs.
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// writeValue writes v as Java's PrintStream.println(Object) would.
func writeValue(w *bufio.Writer, v any) error {
	var err error
	switch x := v.(type) {
	case nil:
		_, err = w.WriteString("null")
	case string:
		_, err = w.WriteString(x)
	case []byte:
		_, err = w.Write(x)
	case int64:
		_, err = w.Write(strconv.AppendInt(w.AvailableBuffer(), x, 10))
	default:
		_, err = fmt.Fprint(w, x)
	}
	if err != nil {
		return err
	}
	return w.WriteByte('\n')
}

func (t *sinkTask) Flush(context.Context) error {
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if t.f != nil {
		if err := t.f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", t.f.Name(), err)
		}
	}
	return nil
}

func (t *sinkTask) Stop() error {
	if t.w == nil {
		return nil
	}
	err := t.w.Flush()
	if t.f != nil {
		if cerr := t.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
