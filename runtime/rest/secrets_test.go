package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The secrets of TestSecretsInURLs; none may appear in any response or log.
var urlSecrets = []string{"urlPw-111", "userinfoPw-222", "registryPw-333", "storePw-444", "plainPw-555", "badPw-666"}

func TestSecretsInURLs(t *testing.T) {
	h := newMemHerder()
	logs := &syncBuf{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := httptest.NewServer(New(Options{Herder: h, Registry: h.reg, Logger: log}))
	t.Cleanup(ts.Close)
	var seen bytes.Buffer // every response body
	do := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, ts.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		seen.Write(b)
		seen.WriteByte('\n')
		return resp.StatusCode, b
	}
	cfg := map[string]string{
		"connector.class":     "JdbcSourceConnector",
		"connection.url":      "jdbc:mariadb://db.example:3306/shop?user=app&password=urlPw-111",
		"connection.password": "plainPw-555",
		"mode":                "bulk",
		"tasks.max":           "2",
		// keys the connector does not declare: passwords in URLs anyway
		"value.converter.schema.registry.url": "http://sr:registryPw-333@registry:8081",
		"store.url":                           "https://key:storePw-444@minio:9000",
		"backup.url":                          "jdbc:postgresql://pg:userinfoPw-222@pg.example/db",
	}
	if code, b := do("PUT", "/connectors/jdbc/config", cfg); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	var got map[string]string
	code, b := do("GET", "/connectors/jdbc/config", nil)
	if code != 200 || json.Unmarshal(b, &got) != nil {
		t.Fatalf("GET config: %d %s", code, b)
	}
	want := map[string]string{
		"connection.url":                      "jdbc:mariadb://db.example:3306/shop?user=app&password=[hidden]",
		"connection.password":                 "[hidden]",
		"value.converter.schema.registry.url": "http://sr:[hidden]@registry:8081",
		"store.url":                           "https://key:[hidden]@minio:9000",
		"backup.url":                          "jdbc:postgresql://pg:[hidden]@pg.example/db",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("GET config %s = %q, want %q", k, got[k], v)
		}
	}
	h.conns["jdbc"].failed[0] = true
	for _, p := range []string{"/connectors/jdbc", "/connectors/jdbc/tasks", "/connectors?expand=info&expand=status", "/connectors/jdbc/status", "/connectors/jdbc/tasks/0/status"} {
		if code, b := do("GET", p, nil); code != 200 {
			t.Fatalf("GET %s: %d %s", p, code, b)
		}
	}
	if !strings.Contains(seen.String(), "cannot connect to jdbc:mariadb://db.example:3306/shop?user=app\\u0026password=[hidden] as [hidden]") &&
		!strings.Contains(seen.String(), "cannot connect to jdbc:mariadb://db.example:3306/shop?user=app&password=[hidden] as [hidden]") {
		t.Errorf("status trace not scrubbed as expected: %s", seen.String())
	}

	// Sent back as read, nothing changed: the stored secrets are kept.
	got["mode"] = "incrementing"
	if code, b := do("PUT", "/connectors/jdbc/config", got); code != 200 {
		t.Fatalf("PUT as read: %d %s", code, b)
	}
	stored := h.conns["jdbc"].cfg
	for k, v := range cfg {
		if k != "mode" && stored[k] != v {
			t.Errorf("stored %s = %q, want %q", k, stored[k], v)
		}
	}

	// [hidden] with a key that decides where the secrets go changed.
	for _, c := range []struct {
		change map[string]string
		want   []string
	}{
		{map[string]string{"connection.url": "jdbc:mariadb://evil.example:3306/shop?user=app&password=[hidden]"}, []string{"connection.url", "connection.password"}},
		{map[string]string{"connection.url": "jdbc:mariadb://evil.example:3306/shop?user=app&password=x", "connection.user": "root"}, []string{"connection.password", "connection.user"}},
		{map[string]string{"database.hostname": "evil.example"}, []string{"connection.password", "database.hostname"}},
		{map[string]string{"store.url": "https://key:[hidden]@evil.example:9000"}, []string{"store.url"}},
	} {
		body := map[string]string{}
		for k, v := range got {
			body[k] = v
		}
		for k, v := range c.change {
			body[k] = v
		}
		code, b := do("PUT", "/connectors/jdbc/config", body)
		if code != 400 {
			t.Errorf("%v: %d %s, want 400", c.change, code, b)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%v: %s does not name %s", c.change, b, w)
			}
		}
	}
	if h.conns["jdbc"].cfg["connection.url"] != cfg["connection.url"] {
		t.Errorf("a refused PUT changed the stored URL: %q", h.conns["jdbc"].cfg["connection.url"])
	}
	// Resending the password itself with the new host is accepted.
	body := map[string]string{}
	for k, v := range got {
		body[k] = v
	}
	body["connection.url"] = "jdbc:mariadb://db2.example:3306/shop?user=app&password=urlPw-111"
	body["connection.password"] = "plainPw-555"
	if code, b := do("PUT", "/connectors/jdbc/config", body); code != 400 || !strings.Contains(string(b), "store.url") {
		// store.url and the others still carry [hidden] while connection.url changed
		t.Errorf("other hidden URLs with a changed host: %d %s", code, b)
	}
	for _, k := range []string{"value.converter.schema.registry.url", "store.url", "backup.url"} {
		body[k] = cfg[k]
	}
	if code, b := do("PUT", "/connectors/jdbc/config", body); code != 200 {
		t.Errorf("PUT with secrets resent: %d %s", code, b)
	}

	// A new connector cannot be created with [hidden].
	if code, b := do("POST", "/connectors", map[string]any{"name": "new", "config": map[string]string{"connector.class": "JdbcSourceConnector",
		"connection.url": "jdbc:mariadb://db/x", "connection.password": "[hidden]", "mode": "bulk"}}); code != 400 || !strings.Contains(string(b), "connection.password") {
		t.Errorf("create with [hidden]: %d %s", code, b)
	}

	// Errors quote values: a URL parse error (url.Parse quotes the whole
	// URL) and a herder failure (500, logged) never show the password.
	bad := map[string]string{"connector.class": "JdbcSourceConnector", "mode": "bulk", "connection.url": "jdbc:mariadb://u:badPw-666@db:33 06/x"}
	code, b = do("PUT", "/connector-plugins/JdbcSourceConnector/config/validate", bad)
	if code != 200 || !strings.Contains(string(b), "invalid port") {
		t.Errorf("validate: %d %s", code, b)
	}
	if code, b := do("PUT", "/connectors/bad/config", bad); code != 400 || !strings.Contains(string(b), "invalid port") {
		t.Errorf("PUT bad URL: %d %s", code, b)
	}
	fail := map[string]string{"connector.class": "JdbcSourceConnector", "mode": "bulk", "connection.url": "jdbc:mariadb://db/x?password=badPw-666", "test.fail.put": "true"}
	if code, b := do("PUT", "/connectors/fail/config", fail); code != 500 || !strings.Contains(string(b), "failed") {
		t.Errorf("failing PUT: %d %s", code, b)
	}
	if !strings.Contains(logs.String(), "rest request failed") {
		t.Errorf("the 500 was not logged: %s", logs.String())
	}
	for _, s := range urlSecrets {
		if strings.Contains(seen.String(), s) {
			t.Errorf("%s in a response:\n%s", s, seen.String())
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("%s in the log:\n%s", s, logs.String())
		}
	}
}
