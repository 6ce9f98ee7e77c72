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

	p, err := NewProviders(map[string]string{
		"config.providers":           "env,file,dir,directory",
		"config.providers.env.class": EnvProviderClass, "config.providers.file.class": FileProviderClass,
		"config.providers.dir.class": DirectoryProviderClass, "config.providers.directory.class": "DirectoryConfigProvider",
	})
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
		"plain":     "no refs here",
	}
	got, err := p.Resolve(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"env": "fromenv", "file": "s3cr3t", "user": "alice", "raw": "${not:expanded}",
		"dir": "fromdir\n", "directory": "fromdir\n",
		"mixed": "jdbc:mysql://h/db?user=fromenv&x=1",
		"plain": "no refs here",
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
	p, err := NewProviders(map[string]string{
		"config.providers":           "env,file,dir,directory",
		"config.providers.env.class": EnvProviderClass, "config.providers.file.class": FileProviderClass,
		"config.providers.dir.class": DirectoryProviderClass, "config.providers.directory.class": "DirectoryConfigProvider",
	})
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
	got, err := p.Resolve(context.Background(), map[string]string{"a": "${file:" + dir + "/a.properties:k}", "b": "${env:ALLOWED_X}"})
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "v" || got["b"] != "1" {
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

// TestProvidersOffUnlessConfigured: without config.providers no provider is
// enabled (as in Kafka), so a REST caller cannot read the worker's files or
// environment; a reference to a provider the worker did not configure is
// refused naming the key, and the error never carries the value.
func TestProvidersOffUnlessConfigured(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	if err := os.WriteFile(secret, []byte("sup3r-s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRIBUTARY_TEST_TOKEN", "env-s3cret")
	for _, worker := range []map[string]string{
		{},
		{"config.providers": "file", "config.providers.file.class": FileProviderClass},
	} {
		p, err := NewProviders(worker)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Resolve(context.Background(), map[string]string{
			"topic":               "${dir:" + dir + ":token}",
			"connection.password": "${env:TRIBUTARY_TEST_TOKEN}",
			"other":               "${vault:secret/db:pw}",
		})
		var es Errors
		if !errors.As(err, &es) || len(es) != 3 {
			t.Fatalf("worker %v: want 3 key errors, got %v", worker, err)
		}
		for _, e := range es {
			if !strings.Contains(e.Message, "config.providers") {
				t.Errorf("%s: %q does not name config.providers", e.Key, e.Message)
			}
		}
		if msg := err.Error(); strings.Contains(msg, "s3cret") {
			t.Errorf("error echoes a secret: %s", msg)
		}
	}
}
