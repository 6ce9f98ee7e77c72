package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

func startServer(t *testing.T, brokers []string) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := NewServer(ctx, Options{Addr: "127.0.0.1:0", Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type call struct {
	status int
	body   []byte
}

func do(t *testing.T, method, url string, body any) call {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return call{resp.StatusCode, b}
}

func (c call) json(t *testing.T, into any) {
	t.Helper()
	if err := json.Unmarshal(c.body, into); err != nil {
		t.Fatalf("body %s: %v", c.body, err)
	}
}

func (c call) wantError(t *testing.T, status, code int) {
	t.Helper()
	var e Error
	c.json(t, &e)
	if c.status != status || e.Code != code || e.Message == "" {
		t.Fatalf("got %d %s, want HTTP %d error_code %d", c.status, c.body, status, code)
	}
}

const (
	v1 = `{"type":"record","name":"User","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}`
	// v2 adds an optional field: BACKWARD compatible.
	v2 = `{"type":"record","name":"User","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"email","type":["null","string"],"default":null}]}`
	// v3bad adds a required field without default: not BACKWARD compatible.
	v3bad = `{"type":"record","name":"User","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"age","type":"int"}]}`
	// noName removes the field "name" (which has no default).
	noName = `{"type":"record","name":"User","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"email","type":["null","string"],"default":null}]}`
)

func TestRESTAndCompatibility(t *testing.T) {
	s := startServer(t, nil)
	defer s.Close()
	u := s.URL()
	var id struct{ ID int }
	c := do(t, "POST", u+"/subjects/users-value/versions", map[string]string{"schema": v1})
	c.json(t, &id)
	if c.status != 200 || id.ID != 1 {
		t.Fatalf("register: %d %s", c.status, c.body)
	}
	// same schema (other whitespace) again: same id, no new version
	c = do(t, "POST", u+"/subjects/users-value/versions", map[string]string{"schema": strings.ReplaceAll(v1, ",", ", ")})
	c.json(t, &id)
	if id.ID != 1 {
		t.Fatalf("re-register gave id %d", id.ID)
	}
	// optional field added: BACKWARD (default) passes
	c = do(t, "POST", u+"/compatibility/subjects/users-value/versions/latest", map[string]string{"schema": v2})
	if c.status != 200 || !strings.Contains(string(c.body), `"is_compatible":true`) {
		t.Fatalf("compat check v2: %d %s", c.status, c.body)
	}
	c = do(t, "POST", u+"/subjects/users-value/versions", map[string]string{"schema": v2})
	c.json(t, &id)
	if c.status != 200 || id.ID != 2 {
		t.Fatalf("register v2: %d %s", c.status, c.body)
	}
	// a required field without default fails BACKWARD with 409
	c = do(t, "POST", u+"/compatibility/subjects/users-value/versions/latest", map[string]string{"schema": v3bad})
	if !strings.Contains(string(c.body), `"is_compatible":false`) {
		t.Fatalf("compat check v3bad: %s", c.body)
	}
	c = do(t, "POST", u+"/subjects/users-value/versions", map[string]string{"schema": v3bad})
	c.wantError(t, 409, 409)
	if !strings.Contains(string(c.body), `Schema being registered is incompatible with an earlier schema for subject \"users-value\"`) {
		t.Fatalf("409 message: %s", c.body)
	}
	// removing a field without default fails FORWARD and FULL (old readers need it)
	for _, level := range []string{"FORWARD", "FULL"} {
		c = do(t, "PUT", u+"/config/users-value", map[string]string{"compatibility": level})
		if c.status != 200 || !strings.Contains(string(c.body), level) {
			t.Fatalf("put config: %s", c.body)
		}
		c = do(t, "POST", u+"/subjects/users-value/versions", map[string]string{"schema": noName})
		c.wantError(t, 409, 409)
	}
	// and passes NONE
	do(t, "PUT", u+"/config/users-value", map[string]string{"compatibility": "NONE"})
	c = do(t, "POST", u+"/subjects/users-value/versions", map[string]string{"schema": noName})
	if c.status != 200 {
		t.Fatalf("NONE: %s", c.body)
	}
	var cfg map[string]string
	do(t, "GET", u+"/config/users-value", nil).json(t, &cfg)
	if cfg["compatibilityLevel"] != "NONE" {
		t.Fatalf("subject config %v", cfg)
	}
	do(t, "GET", u+"/config", nil).json(t, &cfg)
	if cfg["compatibilityLevel"] != "BACKWARD" {
		t.Fatalf("global config %v", cfg)
	}
	do(t, "GET", u+"/config/other", nil).wantError(t, 404, ErrCodeSubjectConfigNotFound)
	do(t, "PUT", u+"/config", map[string]string{"compatibility": "SIDEWAYS"}).wantError(t, 422, ErrCodeInvalidCompatLevel)

	// reads
	var versions []int
	do(t, "GET", u+"/subjects/users-value/versions", nil).json(t, &versions)
	if len(versions) != 3 {
		t.Fatalf("versions %v", versions)
	}
	var sv subjectVersion
	do(t, "GET", u+"/subjects/users-value/versions/2", nil).json(t, &sv)
	if sv.ID != 2 || sv.Version != 2 || sv.Subject != "users-value" || sv.Schema != v2 {
		t.Fatalf("version 2: %+v", sv)
	}
	do(t, "GET", u+"/subjects/users-value/versions/latest", nil).json(t, &sv)
	if sv.Version != 3 {
		t.Fatalf("latest: %+v", sv)
	}
	do(t, "POST", u+"/subjects/users-value", map[string]string{"schema": v2}).json(t, &sv)
	if sv.Version != 2 || sv.ID != 2 {
		t.Fatalf("lookup: %+v", sv)
	}
	do(t, "POST", u+"/subjects/users-value", map[string]string{"schema": v3bad}).wantError(t, 404, ErrCodeSchemaNotFound)
	do(t, "POST", u+"/subjects/nobody", map[string]string{"schema": v1}).wantError(t, 404, ErrCodeSubjectNotFound)
	do(t, "GET", u+"/subjects/users-value/versions/9", nil).wantError(t, 404, ErrCodeVersionNotFound)
	do(t, "GET", u+"/subjects/users-value/versions/x", nil).wantError(t, 422, ErrCodeInvalidVersion)
	do(t, "GET", u+"/schemas/ids/99", nil).wantError(t, 404, ErrCodeSchemaNotFound)
	do(t, "POST", u+"/subjects/bad/versions", map[string]string{"schema": `{"type":"nope"}`}).wantError(t, 422, ErrCodeInvalidSchema)
	var byID map[string]string
	do(t, "GET", u+"/schemas/ids/1", nil).json(t, &byID)
	if byID["schema"] != v1 {
		t.Fatalf("by id: %v", byID)
	}
	// the same schema under another subject keeps its id
	do(t, "POST", u+"/subjects/copy-value/versions", map[string]string{"schema": v1}).json(t, &id)
	if id.ID != 1 {
		t.Fatalf("same schema in another subject got id %d", id.ID)
	}
	var subjects []string
	do(t, "GET", u+"/schemas/ids/1/subjects", nil).json(t, &subjects)
	if strings.Join(subjects, ",") != "copy-value,users-value" {
		t.Fatalf("subjects of id 1: %v", subjects)
	}
	// delete: soft, then permanent
	do(t, "DELETE", u+"/subjects/copy-value?permanent=true", nil).wantError(t, 404, ErrCodeSubjectNotSoftDeleted)
	do(t, "DELETE", u+"/subjects/copy-value", nil).json(t, &versions)
	if len(versions) != 1 {
		t.Fatalf("deleted %v", versions)
	}
	do(t, "GET", u+"/subjects", nil).json(t, &subjects)
	if strings.Join(subjects, ",") != "users-value" {
		t.Fatalf("subjects after delete: %v", subjects)
	}
	do(t, "GET", u+"/subjects?deleted=true", nil).json(t, &subjects)
	if len(subjects) != 2 {
		t.Fatalf("subjects incl. deleted: %v", subjects)
	}
	do(t, "DELETE", u+"/subjects/copy-value?permanent=true", nil).json(t, &versions)
	do(t, "GET", u+"/subjects/copy-value/versions", nil).wantError(t, 404, ErrCodeSubjectNotFound)
}

func TestTransitive(t *testing.T) {
	s := startServer(t, nil)
	defer s.Close()
	u := s.URL()
	a := `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`
	empty := `{"type":"record","name":"R","fields":[]}`
	// a comes back as a string with a default: fine against "empty", not against the first version.
	back := `{"type":"record","name":"R","fields":[{"name":"a","type":"string","default":"x"}]}`
	for _, sch := range []string{a, empty} {
		if c := do(t, "POST", u+"/subjects/r/versions", map[string]string{"schema": sch}); c.status != 200 {
			t.Fatal(string(c.body))
		}
	}
	c := do(t, "POST", u+"/compatibility/subjects/r/versions", map[string]string{"schema": back})
	if !strings.Contains(string(c.body), `"is_compatible":true`) {
		t.Fatalf("BACKWARD against latest: %s", c.body)
	}
	do(t, "PUT", u+"/config/r", map[string]string{"compatibility": "BACKWARD_TRANSITIVE"})
	c = do(t, "POST", u+"/compatibility/subjects/r/versions?verbose=true", map[string]string{"schema": back})
	if !strings.Contains(string(c.body), `"is_compatible":false`) || !strings.Contains(string(c.body), "messages") {
		t.Fatalf("BACKWARD_TRANSITIVE: %s", c.body)
	}
	do(t, "POST", u+"/subjects/r/versions", map[string]string{"schema": back}).wantError(t, 409, 409)
	do(t, "PUT", u+"/config/r", map[string]string{"compatibility": "FULL_TRANSITIVE"})
	do(t, "POST", u+"/subjects/r/versions", map[string]string{"schema": back}).wantError(t, 409, 409)
	do(t, "PUT", u+"/config/r", map[string]string{"compatibility": "FORWARD_TRANSITIVE"})
	do(t, "POST", u+"/subjects/r/versions", map[string]string{"schema": back}).wantError(t, 409, 409)
}

func newCluster(t *testing.T, dir string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir), kfake.SyncWrites())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cluster := newCluster(t, dir)
	s := startServer(t, cluster.ListenAddrs())
	cl, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id1, err := cl.Register(ctx, "users-value", v1)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := cl.Register(ctx, "users-value", v2)
	if err != nil {
		t.Fatal(err)
	}
	if res := cl.SR().SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFull}, "users-value"); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	// A second instance on the same topic sees the same ids.
	s2 := startServer(t, cluster.ListenAddrs())
	var sv subjectVersion
	do(t, "GET", s2.URL()+"/subjects/users-value/versions/latest", nil).json(t, &sv)
	if sv.ID != id2 || sv.Schema != v2 {
		t.Fatalf("second instance: %+v", sv)
	}
	s2.Close()

	// The topic holds Confluent's record format.
	kc, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(DefaultTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	fs := kc.PollRecords(fctx, 10)
	cancel()
	kc.Close()
	recs := fs.Records()
	if len(recs) < 3 {
		t.Fatalf("topic has %d records", len(recs))
	}
	if string(recs[0].Key) != `{"keytype":"SCHEMA","subject":"users-value","version":1,"magic":1}` ||
		!strings.HasPrefix(string(recs[0].Value), `{"subject":"users-value","version":1,"id":1,"schema":"{\"type\":\"record\"`) ||
		!strings.HasSuffix(string(recs[0].Value), `"deleted":false}`) {
		t.Fatalf("record 0: %s = %s", recs[0].Key, recs[0].Value)
	}
	if string(recs[2].Key) != `{"keytype":"CONFIG","subject":"users-value","magic":0}` || string(recs[2].Value) != `{"compatibilityLevel":"FULL"}` {
		t.Fatalf("record 2: %s = %s", recs[2].Key, recs[2].Value)
	}

	s.Close()
	cluster.Close()

	cluster = newCluster(t, dir)
	defer cluster.Close()
	s = startServer(t, cluster.ListenAddrs())
	defer s.Close()
	var byID map[string]string
	do(t, "GET", s.URL()+"/schemas/ids/"+itoa(id1), nil).json(t, &byID)
	if byID["schema"] != v1 {
		t.Fatalf("after restart id %d: %v", id1, byID)
	}
	var cfg map[string]string
	do(t, "GET", s.URL()+"/config/users-value", nil).json(t, &cfg)
	if cfg["compatibilityLevel"] != "FULL" {
		t.Fatalf("config after restart: %v", cfg)
	}
	var id struct{ ID int }
	c := do(t, "POST", s.URL()+"/subjects/other-value/versions", map[string]string{"schema": `"string"`})
	c.json(t, &id)
	if id.ID != id2+1 {
		t.Fatalf("new schema after restart got id %d, want %d (%s)", id.ID, id2+1, c.body)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
