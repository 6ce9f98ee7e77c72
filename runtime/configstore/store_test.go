package configstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "connectors.json")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := f.Load(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("empty store: %v %v", cs, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.PutConfig(ctx, "b", map[string]string{"connector.class": "FileStreamSink", "topics": "t"}))
	must(f.PutConfig(ctx, "a", map[string]string{"connector.class": "FileStreamSource", "connection.password": "${env:PW}"}))
	must(f.PutTarget(ctx, "a", TargetStopped))
	must(f.PutConfig(ctx, "gone", map[string]string{"x": "y"}))
	must(f.Delete(ctx, "gone"))
	must(f.PutTarget(ctx, "fromfile", TargetPaused))
	must(f.Close())

	g, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := g.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[2].Name != "fromfile" || cs[2].Config != nil || cs[2].Target != TargetPaused {
		t.Fatalf("target-only entry: %+v", cs)
	}
	if cs[0].Name != "a" || cs[0].Target != TargetStopped || cs[0].Config["connection.password"] != "${env:PW}" ||
		cs[1].Name != "b" || cs[1].Target != TargetRunning || cs[1].Config["topics"] != "t" {
		t.Fatalf("loaded %+v", cs)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{`"connector-a": {`, `"properties": {`, `"target-state-a": {`, `"state": "PAUSED"`, `"state.v2": "STOPPED"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("file lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "gone") {
		t.Errorf("deleted connector still stored")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestTargetEncoding(t *testing.T) {
	for _, s := range []string{TargetRunning, TargetPaused, TargetStopped} {
		b, err := EncodeTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeTarget(b)
		if err != nil || got != s {
			t.Errorf("%s → %s → %s %v", s, b, got, err)
		}
	}
	if got, _ := DecodeTarget([]byte(`{"state":"PAUSED"}`)); got != TargetPaused {
		t.Errorf("v1 record: %s", got)
	}
	if b, _ := EncodeConfig(map[string]string{"a": "<&>"}); string(b) != `{"properties":{"a":"<&>"}}` {
		t.Errorf("config value %s", b)
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "x.json")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(p, []byte("{nope"), 0o600)
	if _, err := OpenFile(p); err == nil {
		t.Error("corrupt file accepted")
	}
}

func TestPathFor(t *testing.T) {
	if got := PathFor(map[string]string{"offset.storage.file.filename": "/var/lib/x/offsets.dat"}, "/d"); got != "/var/lib/x/connectors.json" {
		t.Error(got)
	}
	if got := PathFor(map[string]string{"config.storage.file.filename": "/c.json"}, "/d"); got != "/c.json" {
		t.Error(got)
	}
	if got := PathFor(map[string]string{}, "/d"); got != "/d/connectors.json" {
		t.Error(got)
	}
}
