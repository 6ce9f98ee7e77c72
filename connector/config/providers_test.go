package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProvidersResolve(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "db.properties"), []byte("password=s3cr3t\nuser = alice\nref=${not:expanded}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "db_password"), []byte("fromdir\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRIBUTARY_TEST_PW", "fromenv")

	p, err := NewProviders(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{
		"env":       "${env:TRIBUTARY_TEST_PW}",
		"file":      "${file:" + filepath.Join(dir, "db.properties") + ":password}",
		"user":      "${file:" + filepath.Join(dir, "db.properties") + ":user}",
		"raw":       "${file:" + filepath.Join(dir, "db.properties") + ":ref}",
		"dir":       "${dir:" + secrets + ":db_password}",
		"directory": "${directory:" + secrets + ":db_password}",
		"mixed":     "jdbc:mysql://h/db?user=${env:TRIBUTARY_TEST_PW}&x=1",
		"unknown":   "${vault:secret/db:pw}",
		"plain":     "no refs here",
	}
	got, err := p.Resolve(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"env": "fromenv", "file": "s3cr3t", "user": "alice", "raw": "${not:expanded}",
		"dir": "fromdir\n", "directory": "fromdir\n",
		"mixed":   "jdbc:mysql://h/db?user=fromenv&x=1",
		"unknown": "${vault:secret/db:pw}", "plain": "no refs here",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if cfg["env"] != "${env:TRIBUTARY_TEST_PW}" {
		t.Errorf("Resolve modified its input")
	}
}

func TestProvidersErrorsNameKey(t *testing.T) {
	p, err := NewProviders(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Resolve(context.Background(), map[string]string{
		"connection.password": "${env:TRIBUTARY_SURELY_UNSET_VAR}",
		"other":               "${file:/nonexistent/x.properties:k}",
	})
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 key errors, got %v", err)
	}
	if es[0].Key != "connection.password" || !strings.Contains(es[0].Message, "TRIBUTARY_SURELY_UNSET_VAR") {
		t.Errorf("unexpected error %v", es[0])
	}
}

func TestProvidersWorkerConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.properties"), []byte("k=v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALLOWED_X", "1")
	t.Setenv("DENIED_X", "2")
	p, err := NewProviders(map[string]string{
		"config.providers":                             "file,env",
		"config.providers.file.class":                  FileProviderClass,
		"config.providers.file.param.allowed.paths":    dir,
		"config.providers.env.class":                   EnvProviderClass,
		"config.providers.env.param.allowlist.pattern": "ALLOWED_.*",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Names(), ","); got != "env,file" {
		t.Fatalf("names %s", got)
	}
	got, err := p.Resolve(context.Background(), map[string]string{"a": "${file:" + dir + "/a.properties:k}", "b": "${env:ALLOWED_X}", "c": "${dir:/x:y}"})
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "v" || got["b"] != "1" || got["c"] != "${dir:/x:y}" {
		t.Fatalf("got %v", got)
	}
	if _, err := p.Resolve(context.Background(), map[string]string{"a": "${file:/etc/hostname:k}"}); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("want allowed.paths error, got %v", err)
	}
	if _, err := p.Resolve(context.Background(), map[string]string{"a": "${env:DENIED_X}"}); err == nil {
		t.Fatal("want allowlist error")
	}
	if _, err := NewProviders(map[string]string{"config.providers": "x", "config.providers.x.class": "com.example.Nope"}); err == nil || !strings.Contains(err.Error(), "config.providers.x.class") {
		t.Fatalf("want class error, got %v", err)
	}
	if _, err := (&DirectoryProvider{}).Get(context.Background(), dir, []string{"../a.properties"}); err == nil {
		t.Fatal("want path escape error")
	}
}

func TestIsReference(t *testing.T) {
	for s, want := range map[string]bool{"${env:X}": true, "${file:/a:b}": true, "x${env:X}": false, "plain": false} {
		if IsReference(s) != want {
			t.Errorf("IsReference(%q) != %v", s, want)
		}
	}
}
