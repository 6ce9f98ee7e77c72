package filestream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// Connector classes and keys.
const (
	SourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	SinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"

	KeyFile      = "file"
	KeyTopic     = "topic"
	KeyBatchSize = "batch.size"

	// PartitionField and PositionField are Connect's source partition and
	// offset field names.
	PartitionField = "filename"
	PositionField  = "position"

	// Version is the version both plugins report.
	Version = "0.1.0"
)

// idleWait is how long Poll waits for more data before returning nothing.
const idleWait = 500 * time.Millisecond

// Source is the FileStreamSource plugin.
type Source struct{}

// Class implements connector.Plugin.
func (Source) Class() string { return SourceClass }

// Aliases implements connector.Plugin.
func (Source) Aliases() []string { return []string{"FileStreamSource", "FileStreamSourceConnector"} }

// Type implements connector.Plugin.
func (Source) Type() connector.Type { return connector.Source }

// Version implements connector.Plugin.
func (Source) Version() string { return Version }

// Config implements connector.Plugin.
func (Source) Config() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeyFile, Type: config.String, Default: "", Importance: config.High,
			Doc: "Source filename. If not specified, the standard input will be used"}).
		Define(config.Key{Name: KeyTopic, Type: config.List, Default: config.NoDefault, Importance: config.High,
			Doc: "The topic to publish data to", Validator: oneTopic}).
		Define(config.Key{Name: KeyBatchSize, Type: config.Int, Default: 2000, Importance: config.Low,
			Doc:       "The maximum number of records the source task can read from the file each time it is polled",
			Validator: config.AtLeast(1)})
}

func oneTopic(v any) error {
	l, _ := v.([]string)
	if len(l) != 1 || l[0] == "" {
		return errors.New("'topic' in FileStreamSourceConnector configuration requires definition of a single topic")
	}
	return nil
}

// Validate implements connector.Plugin.
func (Source) Validate(*config.Values) config.Errors { return nil }

// TaskConfigs implements connector.Plugin: one task.
func (Source) TaskConfigs(_ context.Context, cfg map[string]string, _ int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(cfg)}, nil
}

// NewTask implements connector.SourcePlugin.
func (Source) NewTask() connector.SourceTask { return &sourceTask{} }

type sourceTask struct {
	file      string
	topic     string
	batchSize int
	log       interface{ Info(string, ...any) }
	offsets   connector.OffsetReader

	f     *os.File
	r     *bufio.Reader
	part0 map[string]any // the source partition, shared by all records
	pos   int64          // byte position after the last emitted line
	part  []byte         // bytes read after pos without a line ending yet
	stdin bool
}

func (t *sourceTask) Start(ctx context.Context, cfg map[string]string, tc connector.TaskContext) error {
	v, err := Source{}.Config().Parse(cfg)
	if err != nil {
		return err
	}
	t.file = v.String(KeyFile)
	t.topic = v.List(KeyTopic)[0]
	t.batchSize = v.Int(KeyBatchSize)
	t.log = tc.Logger
	t.offsets = tc.Offsets
	if t.file == "" {
		t.stdin = true
		t.r = bufio.NewReaderSize(os.Stdin, 64<<10)
		return nil
	}
	if t.offsets != nil {
		off, err := t.offsets.Offset(ctx, map[string]any{PartitionField: t.file})
		if err != nil {
			return fmt.Errorf("read committed offset of %s: %w", t.file, err)
		}
		if off != nil {
			p, ok := off[PositionField].(int64)
			if !ok {
				return fmt.Errorf("committed offset of %s: %q is %T, not a number", t.file, PositionField, off[PositionField])
			}
			t.pos = p
		}
	}
	return nil
}

// open opens the file and seeks to the committed position; a missing file
// is not an error (it may appear later).
func (t *sourceTask) open() error {
	f, err := os.Open(t.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", t.file, err)
	}
	if t.pos > 0 {
		if _, err := f.Seek(t.pos, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("seek %s to %d: %w", t.file, t.pos, err)
		}
	}
	if t.log != nil {
		t.log.Info("reading file", "file", t.file, "position", t.pos)
	}
	t.f = f
	t.r = bufio.NewReaderSize(f, 64<<10)
	return nil
}

func (t *sourceTask) Poll(ctx context.Context) ([]schema.Record, error) {
	if t.r == nil {
		if err := t.open(); err != nil {
			return nil, err
		}
		if t.r == nil {
			return nil, wait(ctx, idleWait)
		}
	}
	var recs []schema.Record
	for len(recs) < t.batchSize {
		line, n, ok, err := t.readLine()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", t.file, err)
		}
		if !ok {
			break
		}
		t.pos += int64(n)
		rec := schema.Record{Topic: t.topic, Partition: -1, ValueSchema: schema.StringSchema, Value: line,
			Timestamp: time.Now()}
		if !t.stdin {
			if t.part0 == nil {
				t.part0 = map[string]any{PartitionField: t.file}
			}
			rec.SourcePartition = t.part0
			rec.SourceOffset = map[string]any{PositionField: t.pos}
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil, wait(ctx, idleWait)
	}
	return recs, nil
}

// readLine returns the next complete line, the bytes it used (with its
// ending), or ok=false when no complete line is available yet.
func (t *sourceTask) readLine() (string, int, bool, error) {
	for {
		if line, n, ok := t.cut(); ok {
			return line, n, true, nil
		}
		b, err := t.r.ReadSlice('\n')
		t.part = append(t.part, b...)
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			line, n, ok := t.cut()
			return line, n, ok, nil
		default:
			return "", 0, false, err
		}
	}
}

// cut takes the first complete line out of t.part.
func (t *sourceTask) cut() (string, int, bool) {
	for i, c := range t.part {
		switch c {
		case '\n':
			line := string(t.part[:i])
			n := i + 1
			t.part = append(t.part[:0], t.part[n:]...)
			return line, n, true
		case '\r':
			if i+1 >= len(t.part) {
				return "", 0, false // need the next byte to tell \r from \r\n
			}
			line := string(t.part[:i])
			n := i + 1
			if t.part[i+1] == '\n' {
				n++
			}
			t.part = append(t.part[:0], t.part[n:]...)
			return line, n, true
		}
	}
	return "", 0, false
}

func (t *sourceTask) Commit(context.Context, []connector.Offset) error { return nil }

func (t *sourceTask) Stop() error {
	if t.f != nil {
		return t.f.Close()
	}
	return nil
}

func wait(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	return nil
}
