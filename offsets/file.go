package offsets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FileStore keeps offsets in one JSON file (standalone mode,
// offset.storage.file.filename). The file holds Connect's key and value
// bytes for each partition:
//
//	{"offsets":[{"key":["conn",{"filename":"/in.txt"}],"value":{"position":120}}]}
//
// Every Put writes a temp file beside it, fsyncs it, renames it over the old
// one and fsyncs the directory, so the file is always either the old or the
// new version.
type FileStore struct {
	path string

	mu     sync.Mutex
	t      table
	closed bool
}

type fileEntry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

type fileContents struct {
	Offsets []fileEntry `json:"offsets"`
}

// OpenFile opens (or prepares to create) the offsets file at path.
func OpenFile(path string) (*FileStore, error) {
	s := &FileStore{path: path, t: table{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read offsets file: %w", err)
	}
	if len(b) == 0 {
		return s, nil
	}
	var fc fileContents
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, fmt.Errorf("offsets file %s: %w", path, err)
	}
	for _, e := range fc.Offsets {
		name, part, err := ParseKey(e.Key)
		if err != nil {
			return nil, fmt.Errorf("offsets file %s: %w", path, err)
		}
		off, err := DecodeOffset(e.Value)
		if err != nil {
			return nil, fmt.Errorf("offsets file %s: %w", path, err)
		}
		s.t.put(name, Entry{Partition: part, Offset: off})
	}
	return s, nil
}

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// Get implements Store.
func (s *FileStore) Get(_ context.Context, connector string, partition map[string]any) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return clone(s.t.get(connector, partition)), nil
}

// Put implements Store: the file is rewritten and fsynced before it returns.
func (s *FileStore) Put(_ context.Context, connector string, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	next := s.copyTable()
	for _, e := range entries {
		next.put(connector, Entry{Partition: clone(e.Partition), Offset: clone(e.Offset)})
	}
	if err := s.write(next); err != nil {
		return err
	}
	s.t = next
	return nil
}

// List implements Store.
func (s *FileStore) List(_ context.Context, connector string) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.t.listCopies(connector), nil
}

// Delete implements Store.
func (s *FileStore) Delete(_ context.Context, connector string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.t[connector]; !ok {
		return nil
	}
	next := s.copyTable()
	delete(next, connector)
	if err := s.write(next); err != nil {
		return err
	}
	s.t = next
	return nil
}

// Close implements Store.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *FileStore) copyTable() table {
	next := make(table, len(s.t))
	for c, m := range s.t {
		mm := make(map[string]Entry, len(m))
		for id, e := range m {
			mm[id] = e
		}
		next[c] = mm
	}
	return next
}

func (s *FileStore) write(t table) error {
	var fc fileContents
	fc.Offsets = []fileEntry{}
	names := make([]string, 0, len(t))
	for c := range t {
		names = append(names, c)
	}
	sortStrings(names)
	for _, c := range names {
		for _, e := range t.list(c) {
			k, err := Key(c, e.Partition)
			if err != nil {
				return fmt.Errorf("offset key for %s: %w", c, err)
			}
			v, err := EncodeOffset(e.Offset)
			if err != nil {
				return fmt.Errorf("offset value for %s: %w", c, err)
			}
			fc.Offsets = append(fc.Offsets, fileEntry{Key: k, Value: v})
		}
	}
	b, err := marshal(fc)
	if err != nil {
		return fmt.Errorf("encode offsets: %w", err)
	}
	b = append(b, '\n')
	return writeFileAtomic(s.path, b)
}

// writeFileAtomic writes b to path via a synced temp file and a rename, then
// syncs the directory so the rename itself is durable.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create offsets dir: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create temp offsets file: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write offsets file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync offsets file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close offsets file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename offsets file: %w", err)
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open offsets dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync offsets dir: %w", err)
	}
	return nil
}
