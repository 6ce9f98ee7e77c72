package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateNamesBadKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	worker := write("worker.properties", "bootstrap.servers=\noffset.storage.file.filename=/tmp/x\noffset.flush.interval.ms=soon\n")
	good := write("good.json", `{"name":"s","config":{"connector.class":"FileStreamSource","topic":"t","file":"/tmp/in"}}`)
	flat := write("flat.json", `{"name":"k","connector.class":"FileStreamSink","topics":"t","tasks.max":1}`)
	bad := write("bad.properties", "name=b\nconnector.class=FileStreamSink\ntasks.max=x\n")
	var out, errb bytes.Buffer
	code := run([]string{"validate", worker, good, flat, bad}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s%s", code, out.String(), errb.String())
	}
	got := out.String()
	for _, want := range []string{"offset.flush.interval.ms", "bad.properties: tasks.max", "bad.properties: topics"} {
		if !strings.Contains(got, want) {
			t.Errorf("output does not mention %q:\n%s", want, got)
		}
	}
	for _, f := range []string{"good.json", "flat.json"} {
		if strings.Contains(got, f) {
			t.Errorf("valid %s reported:\n%s", f, got)
		}
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "replicate ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run([]string{"nope"}, &out, &errb); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}
