package configstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Target states, as the REST API spells them.
const (
	TargetRunning = "RUNNING"
	TargetPaused  = "PAUSED"
	TargetStopped = "STOPPED"
)

// Connector is one stored connector.
type Connector struct {
	Name   string
	Config map[string]string
	// Target is RUNNING, PAUSED or STOPPED.
	Target string
}

// Store keeps connector configs and target states.
type Store interface {
	// Load returns every stored connector, sorted by name. A connector
	// with only a stored target state (its config comes from elsewhere,
	// e.g. a properties file on the command line) has a nil Config.
	Load(ctx context.Context) ([]Connector, error)
	// PutConfig stores a connector's config; it returns once durable.
	PutConfig(ctx context.Context, name string, cfg map[string]string) error
	// PutTarget stores a connector's target state.
	PutTarget(ctx context.Context, name, target string) error
	// Delete forgets a connector.
	Delete(ctx context.Context, name string) error
	Close() error
}

// Record keys and values of Connect's config topic.
const (
	connectorPrefix = "connector-"
	targetPrefix    = "target-state-"
)

// ConnectorKey is the config topic key of a connector's config.
func ConnectorKey(name string) string { return connectorPrefix + name }

// TargetKey is the config topic key of a connector's target state.
func TargetKey(name string) string { return targetPrefix + name }

type propertiesValue struct {
	Properties map[string]string `json:"properties"`
}

type targetValue struct {
	State   string `json:"state"`
	StateV2 string `json:"state.v2,omitempty"`
}

// EncodeConfig returns the config topic value of a connector config.
func EncodeConfig(cfg map[string]string) ([]byte, error) {
	return marshal(propertiesValue{Properties: cfg})
}

// DecodeConfig parses a config topic connector value.
func DecodeConfig(b []byte) (map[string]string, error) {
	var v propertiesValue
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("connector config record: %w", err)
	}
	if v.Properties == nil {
		return nil, errors.New("connector config record has no properties")
	}
	return v.Properties, nil
}

// EncodeTarget returns the config topic value of a target state: Connect
// writes STARTED for RUNNING and PAUSED in "state" for STOPPED (for v1
// readers) with STOPPED in "state.v2".
func EncodeTarget(target string) ([]byte, error) {
	switch target {
	case TargetRunning:
		return marshal(targetValue{State: "STARTED", StateV2: "STARTED"})
	case TargetPaused:
		return marshal(targetValue{State: "PAUSED", StateV2: "PAUSED"})
	case TargetStopped:
		return marshal(targetValue{State: "PAUSED", StateV2: "STOPPED"})
	}
	return nil, fmt.Errorf("unknown target state %q (RUNNING, PAUSED, STOPPED)", target)
}

// DecodeTarget parses a config topic target state value.
func DecodeTarget(b []byte) (string, error) {
	var v targetValue
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("target state record: %w", err)
	}
	s := v.StateV2
	if s == "" {
		s = v.State
	}
	switch s {
	case "STARTED", TargetRunning:
		return TargetRunning, nil
	case TargetPaused:
		return TargetPaused, nil
	case TargetStopped:
		return TargetStopped, nil
	}
	return "", fmt.Errorf("target state record: unknown state %q", s)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// File is a Store in one JSON file: an object from config topic keys to
// their values.
type File struct {
	path string

	mu      sync.Mutex
	records map[string]json.RawMessage
	closed  bool
}

// DefaultFileName is the store's file name beside the offsets file.
const DefaultFileName = "connectors.json"

// PathFor returns the config store file of a worker config: the
// config.storage.file.filename key (a Tributary extension), else
// connectors.json beside offset.storage.file.filename, else in dataDir.
func PathFor(worker map[string]string, dataDir string) string {
	if p := strings.TrimSpace(worker["config.storage.file.filename"]); p != "" {
		return p
	}
	if off := strings.TrimSpace(worker["offset.storage.file.filename"]); off != "" {
		return filepath.Join(filepath.Dir(off), DefaultFileName)
	}
	return filepath.Join(dataDir, DefaultFileName)
}

// OpenFile opens (or creates on first write) the store at path.
func OpenFile(path string) (*File, error) {
	f := &File{path: path, records: map[string]json.RawMessage{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config store %s: %w", path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(b, &f.records); err != nil {
		return nil, fmt.Errorf("config store %s: %w", path, err)
	}
	return f, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Load implements Store.
func (f *File) Load(context.Context) ([]Connector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	recs := make(map[string][]byte, len(f.records))
	for k, v := range f.records {
		recs[k] = v
	}
	cs, err := decodeRecords(recs)
	if err != nil {
		return nil, fmt.Errorf("config store %s: %w", f.path, err)
	}
	return cs, nil
}

// PutConfig implements Store.
func (f *File) PutConfig(_ context.Context, name string, cfg map[string]string) error {
	v, err := EncodeConfig(cfg)
	if err != nil {
		return err
	}
	return f.update(func(r map[string]json.RawMessage) { r[ConnectorKey(name)] = v })
}

// PutTarget implements Store.
func (f *File) PutTarget(_ context.Context, name, target string) error {
	v, err := EncodeTarget(target)
	if err != nil {
		return err
	}
	return f.update(func(r map[string]json.RawMessage) { r[TargetKey(name)] = v })
}

// Delete implements Store.
func (f *File) Delete(_ context.Context, name string) error {
	return f.update(func(r map[string]json.RawMessage) {
		delete(r, ConnectorKey(name))
		delete(r, TargetKey(name))
	})
}

// Close implements Store.
func (f *File) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func (f *File) update(fn func(map[string]json.RawMessage)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("config store closed")
	}
	next := maps.Clone(f.records)
	fn(next)
	if err := writeAtomic(f.path, next); err != nil {
		return fmt.Errorf("config store %s: %w", f.path, err)
	}
	f.records = next
	return nil
}

func writeAtomic(path string, records map[string]json.RawMessage) error {
	b, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// decodeRecords turns config topic records into connectors, sorted by name.
func decodeRecords(records map[string][]byte) ([]Connector, error) {
	names := map[string]bool{}
	for key := range records {
		if name, ok := strings.CutPrefix(key, connectorPrefix); ok {
			names[name] = true
		} else if name, ok := strings.CutPrefix(key, targetPrefix); ok {
			names[name] = true
		}
	}
	var out []Connector
	for _, name := range slices.Sorted(maps.Keys(names)) {
		c := Connector{Name: name, Target: TargetRunning}
		var err error
		if v, ok := records[ConnectorKey(name)]; ok {
			if c.Config, err = DecodeConfig(v); err != nil {
				return nil, fmt.Errorf("%s: %w", ConnectorKey(name), err)
			}
		}
		if v, ok := records[TargetKey(name)]; ok {
			if c.Target, err = DecodeTarget(v); err != nil {
				return nil, fmt.Errorf("%s: %w", TargetKey(name), err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}
