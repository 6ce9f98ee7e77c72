package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Entry is one source partition of a connector with its offset. A nil Offset
// in Put deletes the partition's offset (a tombstone in Kafka).
type Entry struct {
	Partition map[string]any
	Offset    map[string]any
}

// Store keeps source offsets per connector and source partition.
type Store interface {
	// Get returns the committed offset of one source partition, or nil.
	Get(ctx context.Context, connector string, partition map[string]any) (map[string]any, error)
	// Put stores entries; it returns only once they are durable. Entries
	// with a nil Offset delete that partition's offset.
	Put(ctx context.Context, connector string, entries []Entry) error
	// List returns every stored partition of connector with its offset,
	// sorted by the partition's canonical JSON (the offsets REST API).
	List(ctx context.Context, connector string) ([]Entry, error)
	// Delete removes every offset of connector (offset reset).
	Delete(ctx context.Context, connector string) error
	// Close releases the store's resources.
	Close() error
}

// ErrClosed is returned by a store used after Close.
var ErrClosed = errors.New("offset store closed")

// Key returns the Kafka Connect offset key for a connector's partition:
// ["<connector>",{<partition>}] as compact JSON with sorted map keys and no
// HTML escaping, exactly as Connect's JsonConverter (schemas disabled) writes
// it for single-key partitions.
func Key(connector string, partition map[string]any) ([]byte, error) {
	return marshal([]any{connector, partition})
}

// ParseKey splits a Connect offset key into connector and partition.
func ParseKey(b []byte) (string, map[string]any, error) {
	v, err := unmarshal(b)
	if err != nil {
		return "", nil, fmt.Errorf("offset key %s: %w", b, err)
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return "", nil, fmt.Errorf("offset key %s: want a [connector, partition] array", b)
	}
	name, ok := arr[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("offset key %s: connector name is not a string", b)
	}
	var part map[string]any
	if arr[1] != nil {
		if part, ok = arr[1].(map[string]any); !ok {
			return "", nil, fmt.Errorf("offset key %s: partition is not an object", b)
		}
	}
	return name, part, nil
}

// EncodeOffset returns the JSON value for an offset (null for nil).
func EncodeOffset(offset map[string]any) ([]byte, error) {
	if offset == nil {
		return nil, nil
	}
	return marshal(offset)
}

// DecodeOffset parses a JSON offset value; nil bytes give a nil offset.
func DecodeOffset(b []byte) (map[string]any, error) {
	if b == nil {
		return nil, nil
	}
	v, err := unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("offset value %s: %w", b, err)
	}
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("offset value %s: not a JSON object", b)
	}
	return m, nil
}

// PartitionID returns the canonical identity of a source partition: its
// JSON with sorted keys. Two maps with equal contents give equal IDs.
func PartitionID(partition map[string]any) string {
	b, err := marshal(partition)
	if err != nil {
		// Unmarshalable values cannot come from JSON; fall back to fmt.
		return fmt.Sprintf("%v", partition)
	}
	return string(b)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

func unmarshal(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return normalize(v), nil
}

// normalize turns json.Number into int64 (integral) or float64.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return string(x)
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// table is the in-memory index both stores keep: connector → partition ID →
// entry.
type table map[string]map[string]Entry

func (t table) get(connector string, partition map[string]any) map[string]any {
	return t[connector][PartitionID(partition)].Offset
}

func (t table) put(connector string, e Entry) {
	id := PartitionID(e.Partition)
	if e.Offset == nil {
		delete(t[connector], id)
		if len(t[connector]) == 0 {
			delete(t, connector)
		}
		return
	}
	m := t[connector]
	if m == nil {
		m = map[string]Entry{}
		t[connector] = m
	}
	m[id] = Entry{Partition: e.Partition, Offset: e.Offset}
}

func (t table) list(connector string) []Entry {
	ids := make([]string, 0, len(t[connector]))
	for id := range t[connector] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Entry, 0, len(ids))
	for _, id := range ids {
		out = append(out, t[connector][id])
	}
	return out
}

// listCopies is list with every partition and offset deep-copied, for
// handing out of a store.
func (t table) listCopies(connector string) []Entry {
	out := t.list(connector)
	for i := range out {
		out[i] = Entry{Partition: clone(out[i].Partition), Offset: clone(out[i].Offset)}
	}
	return out
}

// clone deep-copies a JSON-like map so callers cannot alter stored state.
func clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := marshal(m)
	if err != nil {
		return m
	}
	v, err := unmarshal(b)
	if err != nil {
		return m
	}
	out, _ := v.(map[string]any)
	return out
}

func sortStrings(s []string) { sort.Strings(s) }
