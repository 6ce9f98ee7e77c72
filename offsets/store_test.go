package offsets

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestKeyFormat(t *testing.T) {
	k, err := Key("local-file-source", map[string]any{"filename": "/tmp/a&b<c>.txt"})
	if err != nil {
		t.Fatal(err)
	}
	// Connect's JsonConverter (schemas.enable=false) writes exactly this.
	if want := `["local-file-source",{"filename":"/tmp/a&b<c>.txt"}]`; string(k) != want {
		t.Fatalf("key = %s, want %s", k, want)
	}
	name, part, err := ParseKey([]byte(`["c1", {"server": "db1", "n": 3}]`))
	if err != nil || name != "c1" || !reflect.DeepEqual(part, map[string]any{"server": "db1", "n": int64(3)}) {
		t.Fatalf("ParseKey = %q %v %v", name, part, err)
	}
	if _, _, err := ParseKey([]byte(`{"a":1}`)); err == nil {
		t.Fatal("ParseKey accepted an object")
	}
	v, _ := EncodeOffset(map[string]any{"position": int64(120)})
	if string(v) != `{"position":120}` {
		t.Fatalf("value = %s", v)
	}
	off, err := DecodeOffset([]byte(`{"position":120,"f":1.5}`))
	if err != nil || off["position"] != int64(120) || off["f"] != 1.5 {
		t.Fatalf("DecodeOffset = %v %v", off, err)
	}
	// Field order does not matter for identity.
	if PartitionID(map[string]any{"a": 1, "b": "x"}) != PartitionID(map[string]any{"b": "x", "a": int64(1)}) {
		t.Fatal("PartitionID depends on map order or integer type")
	}
}

// storeContract checks what every Store must do.
func storeContract(t *testing.T, open func() Store) {
	ctx := context.Background()
	s := open()
	p1 := map[string]any{"filename": "/a"}
	p2 := map[string]any{"filename": "/b"}
	if got, err := s.Get(ctx, "c", p1); err != nil || got != nil {
		t.Fatalf("Get on empty store = %v, %v", got, err)
	}
	must(t, s.Put(ctx, "c", []Entry{{p1, map[string]any{"position": int64(10)}}, {p2, map[string]any{"position": int64(20)}}}))
	must(t, s.Put(ctx, "c", []Entry{{p1, map[string]any{"position": int64(11)}}}))
	must(t, s.Put(ctx, "other", []Entry{{p1, map[string]any{"position": int64(99)}}}))
	got, err := s.Get(ctx, "c", map[string]any{"filename": "/a"})
	if err != nil || got["position"] != int64(11) {
		t.Fatalf("Get = %v, %v; want position 11", got, err)
	}
	must(t, s.Close())

	s = open() // reopened: everything durable
	defer s.Close()
	list, err := s.List(ctx, "c")
	want := []Entry{{p1, map[string]any{"position": int64(11)}}, {p2, map[string]any{"position": int64(20)}}}
	if err != nil || !reflect.DeepEqual(list, want) {
		t.Fatalf("List after reopen = %v, %v; want %v", list, err, want)
	}
	must(t, s.Put(ctx, "c", []Entry{{p2, nil}})) // delete one partition
	if got, _ := s.Get(ctx, "c", p2); got != nil {
		t.Fatalf("deleted partition still has %v", got)
	}
	must(t, s.Delete(ctx, "c"))
	if list, _ := s.List(ctx, "c"); len(list) != 0 {
		t.Fatalf("List after Delete = %v", list)
	}
	if got, _ := s.Get(ctx, "other", p1); got["position"] != int64(99) {
		t.Fatalf("Delete of c touched other: %v", got)
	}
	// Returned maps are copies.
	got, _ = s.Get(ctx, "other", p1)
	got["position"] = int64(0)
	if again, _ := s.Get(ctx, "other", p1); again["position"] != int64(99) {
		t.Fatal("caller could modify stored offset")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFileStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "connect.offsets")
	storeContract(t, func() Store {
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"offsets":[{"key":["other",{"filename":"/a"}],"value":{"position":99}}]}` + "\n"; string(b) != want {
		t.Fatalf("file = %s, want %s", b, want)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp*"))
	if len(matches) > 0 {
		t.Fatalf("temp files left behind: %v", matches)
	}
}

func TestFileStoreCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offsets")
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := OpenFile(path); err == nil {
		t.Fatal("OpenFile accepted a corrupt file")
	}
}
