package reference

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// The REST comparison runs one sequence of Kafka Connect REST calls against
// the real Connect 4.4 worker and against `replicate standalone`, and
// compares status codes and JSON bodies. Connect 4.4's worker classpath
// here has no connect-file (integration/jvm/connect/worker/pom.xml), and
// Debezium's MySQL connector does not start on the package's MariaDB (see
// TestTypeMatrix), so the connector under test is Debezium's PostgreSQL
// connector on the package's PostgreSQL server.
//
// Normalizations (each applied to both answers alike):
//   - each side's own token (topic prefix, slot and publication names hold
//     it) is replaced by "<side>": the two connectors cannot share a slot;
//   - worker_id is "<worker>": each worker's own host:port;
//   - version (GET /, statuses) is "<version>" and GET /'s commit
//     "<commit>": each implementation's own;
//   - database.password is "<secret>": Tributary answers every secret as
//     [hidden] (README, REST security), Connect in clear;
//   - GET /connector-plugins: only the classes both list are compared, by
//     type (each lists its own plugins and versions);
//   - config/validate: the keys with errors and the errors of Kafka's own
//     keys are compared; the wording of the errors of Debezium's keys is
//     not (Debezium's Field validators say "The 'k' value is invalid: …",
//     Tributary's keys Kafka ConfigDef's "Invalid value … for
//     configuration k: …"), and Connect's second error for a non-number
//     tasks.max ("Invalid value null … must be non-null", from validating
//     the unparsed value again) is dropped;
//   - offsets: partitions are compared, and that both hold an lsn; the
//     other members are each CDC implementation's own bookkeeping (Debezium
//     writes txId and snapshot_completed, Tributary lsn_proc), values are
//     each slot's own positions;
//   - /admin/loggers: only the root logger is compared (each process has
//     its own logger names), last_modified only as null or a number; PUT
//     answers the loggers it changed: Connect every existing logger under
//     the name, Tributary (no logger hierarchy) the name itself;
//   - deliberate status differences, pinned to Connect's answer so a change
//     on either side shows: a malformed or mistyped JSON body is Connect's
//     500 (its Jackson exception mapper) and Tributary's 400 (the client's
//     error); an unknown log level is Connect's 404 and Tributary's 400;
//     stop and restart of a missing connector are Connect 4.4 standalone's
//     500 ("No connector `n` configured", a NullPointerException) and
//     Tributary's 404 "Connector n not found"; a create with a bad
//     errors.tolerance is Connect's 500 (a NullPointerException in its
//     validation) and Tributary's 400 naming the key; validating with an
//     unknown plugin is Connect's 500 (a wrapped BadRequestException) and
//     Tributary's 400. The error body's shape is compared, not the message;
//   - an unknown connector.class: the list of available connectors that
//     ends the message is each worker's own.

// restSide is one worker under comparison.
type restSide struct {
	*rest
	token string // this side's own prefix, replaced by "<side>"
}

// answer is one REST call's result.
type answer struct {
	code int
	body []byte
}

// doRaw sends a raw body (nil for none).
func (s *restSide) doRaw(method, path string, body []byte) (answer, error) {
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return answer{resp.StatusCode, buf.Bytes()}, err
}

// restCompare runs calls against both sides and collects differences.
type restCompare struct {
	t        *testing.T
	dbz, trb *restSide
}

// both sends the same call to both sides; body(s) builds each side's body
// (nil for none).
func (c *restCompare) both(method, path string, body func(s *restSide) any) (dz, tr answer) {
	c.t.Helper()
	send := func(s *restSide) answer {
		var raw []byte
		if body != nil {
			b, err := json.Marshal(body(s))
			if err != nil {
				c.t.Fatal(err)
			}
			raw = b
		}
		a, err := s.doRaw(method, path, raw)
		if err != nil {
			c.t.Fatalf("%s: %s %s: %v", s.name, method, path, err)
		}
		return a
	}
	return send(c.dbz), send(c.trb)
}

// decode parses an answer's body with s's token replaced by "<side>" and
// worker ids by "<worker>" (nil for an empty body).
func (s *restSide) decode(a answer) any {
	if len(bytes.TrimSpace(a.body)) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(a.body, &v); err != nil {
		return "non-JSON body: " + string(a.body)
	}
	return s.scrub(v)
}

func (s *restSide) scrub(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch _, str := e.(string); {
			case k == "worker_id":
				out[k] = "<worker>"
				continue
			case k == "version" && str:
				out[k] = "<version>"
				continue
			case k == "database.password" && str:
				out[k] = "<secret>"
				continue
			}
			out[strings.ReplaceAll(k, s.token, "<side>")] = s.scrub(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.scrub(e)
		}
		return out
	case string:
		return strings.ReplaceAll(x, s.token, "<side>")
	default:
		return v
	}
}

// same compares status codes and the decoded bodies after view (identity
// if nil), reporting a difference as a test error.
func (c *restCompare) same(what string, dz, tr answer, view func(any) any) {
	c.t.Helper()
	if dz.code != tr.code {
		c.t.Errorf("%s: status: connect %d, tributary %d\nconnect:   %s\ntributary: %s", what, dz.code, tr.code, dz.body, tr.body)
		return
	}
	a, b := c.dbz.decode(dz), c.trb.decode(tr)
	if view != nil {
		a, b = view(a), view(b)
	}
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		c.t.Errorf("%s: bodies differ (HTTP %d)\nconnect:   %s\ntributary: %s", what, dz.code, ja, jb)
	}
}

// deliberate checks a documented status difference: Connect answers
// connectCode, Tributary tributaryCode, both with Connect's error body
// whose error_code is the status.
func (c *restCompare) deliberate(what string, dz, tr answer, connectCode, tributaryCode int) {
	c.t.Helper()
	if dz.code != connectCode || tr.code != tributaryCode {
		c.t.Errorf("%s: status: connect %d (documented %d), tributary %d (documented %d)\nconnect:   %s\ntributary: %s",
			what, dz.code, connectCode, tr.code, tributaryCode, dz.body, tr.body)
		return
	}
	for _, x := range []struct {
		a    answer
		side *restSide
	}{{dz, c.dbz}, {tr, c.trb}} {
		v, _ := x.side.decode(x.a).(map[string]any)
		if _, ok := v["message"].(string); !ok || v["error_code"] != float64(x.a.code) || len(v) != 2 {
			c.t.Errorf("%s: %s: error body %s", what, x.side.name, x.a.body)
		}
	}
}

// call is both and same in one.
func (c *restCompare) call(method, path string, body func(s *restSide) any, view func(any) any) (dz, tr answer) {
	c.t.Helper()
	dz, tr = c.both(method, path, body)
	c.same(method+" "+path, dz, tr, view)
	return dz, tr
}

// waitState waits until name's connector and all its tasks are in state on
// both sides.
func (c *restCompare) waitState(name, state string) {
	c.t.Helper()
	for _, s := range []*restSide{c.dbz, c.trb} {
		s.eventually(c.t, 60*time.Second, name+" "+state, func() error {
			st, err := s.status(name)
			if err != nil {
				return err
			}
			if st.Connector.State != state {
				return fmt.Errorf("connector is %s", st.Connector.State)
			}
			if state != "STOPPED" && len(st.Tasks) == 0 {
				return fmt.Errorf("no tasks")
			}
			for _, tk := range st.Tasks {
				if tk.State != state {
					return fmt.Errorf("task %d is %s", tk.ID, tk.State)
				}
			}
			return nil
		})
	}
}

// field returns v's member k (nil if v is no object).
func field(v any, k string) any {
	m, _ := v.(map[string]any)
	return m[k]
}

// only keeps v's members named keys.
func only(keys ...string) func(any) any {
	return func(v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := map[string]any{}
		for _, k := range keys {
			if e, ok := m[k]; ok {
				out[k] = e
			}
		}
		return out
	}
}

// validateView reduces a ConfigInfos answer to error_count and the errors
// of each key, keyed by name.
func validateView(v any) any {
	out := map[string]any{"error_count": field(v, "error_count")}
	errs := map[string]any{}
	for _, ci := range asSlice(field(v, "configs")) {
		val := field(ci, "value")
		name, _ := field(val, "name").(string)
		errs[name] = field(val, "errors")
	}
	out["errors"] = errs
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// sharedKeys keeps only the per-key errors of keys both answers define.
func sharedKeys(a, b any) (any, any) {
	ea, _ := field(a, "errors").(map[string]any)
	eb, _ := field(b, "errors").(map[string]any)
	ka, kb := map[string]any{}, map[string]any{}
	for k, e := range ea {
		if f, ok := eb[k]; ok {
			ka[k], kb[k] = e, f
		}
	}
	return map[string]any{"error_count": field(a, "error_count"), "errors": ka},
		map[string]any{"error_count": field(b, "error_count"), "errors": kb}
}

// offsetsView keeps partitions and whether each offset holds an lsn.
func offsetsView(v any) any {
	out := []any{}
	for _, o := range asSlice(field(v, "offsets")) {
		m, _ := field(o, "offset").(map[string]any)
		_, lsn := m["lsn"]
		out = append(out, map[string]any{"partition": field(o, "partition"), "has_lsn": lsn})
	}
	return map[string]any{"offsets": out}
}

// connectOwnKeys are the keys Kafka Connect defines (ConnectorConfig):
// their errors are compared word for word; the wording of the errors of
// the connector's own keys is each implementation's (see above).
var connectOwnKeys = map[string]bool{"name": true, "connector.class": true, "tasks.max": true, "tasks.max.enforce": true,
	"key.converter": true, "value.converter": true, "header.converter": true, "transforms": true, "predicates": true,
	"config.action.reload": true, "errors.retry.timeout": true, "errors.retry.delay.max.ms": true, "errors.tolerance": true,
	"errors.log.enable": true, "errors.log.include.messages": true, "exactly.once.support": true,
	"transaction.boundary": true, "offsets.storage.topic": true}

// errorsView keeps error_count and, per key, its errors (Kafka's keys) or
// only whether it has any (the connector's keys). For Connect's answer
// (connect) a non-number tasks.max's second error is dropped from both.
func errorsView(v any, connect bool) any {
	count, _ := field(v, "error_count").(float64)
	errs, _ := field(v, "errors").(map[string]any)
	out := map[string]any{}
	for k, e := range errs {
		list := asSlice(e)
		if connect && k == "tasks.max" && len(list) == 2 && strings.Contains(fmt.Sprint(list[1]), "Invalid value null") {
			list = list[:1]
			count--
		}
		if connectOwnKeys[k] {
			out[k] = list
		} else {
			out[k] = len(list) > 0
		}
	}
	return map[string]any{"error_count": count, "errors": out}
}

// loggerNames reduces a PUT /admin/loggers answer to whether it is a
// non-empty list of logger names (which loggers it lists is each
// process's own).
func loggerNames(v any) any {
	names := asSlice(v)
	for _, n := range names {
		if _, ok := n.(string); !ok {
			return v
		}
	}
	return len(names) > 0
}

// TestRESTAgainstConnect runs the same REST calls against a real Kafka
// Connect 4.4 worker and Tributary's standalone worker.
func TestRESTAgainstConnect(t *testing.T) {
	b := harness.Kafka(t)
	var dz, tr *rest
	start := make(chan struct{})
	go func() { defer close(start); tr = startTributary(t, b) }()
	dz = startDebezium(t, b)
	<-start
	if tr == nil {
		t.FailNow()
	}
	db := harness.Postgres(t)
	conn := db.Open(t)
	for _, s := range []string{"CREATE TABLE types (id int PRIMARY KEY, v text)", "INSERT INTO types VALUES (1, 'one'), (2, 'two')"} {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e6)
	c := &restCompare{t: t, dbz: &restSide{dz, "rdz" + suffix}, trb: &restSide{tr, "rtr" + suffix}}
	const name = "restdiff"
	const class = "io.debezium.connector.postgresql.PostgresConnector"
	cfg := func(s *restSide) map[string]string {
		m := postgresConfig(db, s.token)
		m["name"] = name
		return m
	}
	without := func(key string, extra map[string]string) func(s *restSide) any {
		return func(s *restSide) any {
			m := cfg(s)
			delete(m, key)
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
	}

	// GET /: version and commit are each implementation's own.
	c.call(http.MethodGet, "/", nil, func(v any) any {
		m, _ := v.(map[string]any)
		if _, ok := m["commit"]; ok {
			m["commit"] = "<commit>"
		}
		return m
	})

	// GET /connector-plugins: the classes both list, by type.
	dzp, trp := c.both(http.MethodGet, "/connector-plugins", nil)
	if dzp.code != trp.code {
		t.Errorf("GET /connector-plugins: connect %d, tributary %d", dzp.code, trp.code)
	}
	types := func(a answer) map[string]any {
		var ps []map[string]any
		_ = json.Unmarshal(a.body, &ps)
		out := map[string]any{}
		for _, p := range ps {
			out[fmt.Sprint(p["class"])] = p["type"]
		}
		return out
	}
	dzt, trt := types(dzp), types(trp)
	shared := 0
	for cl, ty := range dzt {
		if tt, ok := trt[cl]; ok {
			shared++
			if tt != ty {
				t.Errorf("GET /connector-plugins: %s: connect type %v, tributary %v", cl, ty, tt)
			}
		}
	}
	if shared == 0 || dzt[class] == nil {
		t.Errorf("GET /connector-plugins: no shared classes (connect %s, tributary %s)", dzp.body, trp.body)
	}

	// Validation: valid, a required key missing, a bad value.
	validate := "/connector-plugins/" + class + "/config/validate"
	for _, v := range []struct {
		what string
		body func(s *restSide) any
	}{
		{"valid", func(s *restSide) any { return cfg(s) }},
		{"missing topic.prefix", without("topic.prefix", nil)},
		{"bad values", without("", map[string]string{"decimal.handling.mode": "bogus", "tasks.max": "x"})},
	} {
		a, b := c.both(http.MethodPut, validate, v.body)
		if a.code != b.code {
			t.Errorf("validate %s: connect %d, tributary %d", v.what, a.code, b.code)
			continue
		}
		va, vb := sharedKeys(validateView(c.dbz.decode(a)), validateView(c.trb.decode(b)))
		va, vb = errorsView(va, true), errorsView(vb, false)
		if !reflect.DeepEqual(va, vb) {
			var diff []string
			if x, y := field(va, "error_count"), field(vb, "error_count"); x != y {
				diff = append(diff, fmt.Sprintf("error_count: connect %v, tributary %v", x, y))
			}
			ea, _ := field(va, "errors").(map[string]any)
			eb, _ := field(vb, "errors").(map[string]any)
			for k, x := range ea {
				if !reflect.DeepEqual(x, eb[k]) {
					diff = append(diff, fmt.Sprintf("%s: connect %q, tributary %q", k, x, eb[k]))
				}
			}
			sort.Strings(diff)
			t.Errorf("validate %s: differ\n%s\nconnect keys with errors: %s\ntributary keys with errors: %s", v.what,
				strings.Join(diff, "\n"), validationErrors(a.body), validationErrors(b.body))
		}
	}

	// Create, then the same create again.
	create := func(s *restSide) any { return map[string]any{"name": name, "config": cfg(s)} }
	c.call(http.MethodPost, "/connectors", create, nil)
	t.Cleanup(func() {
		for _, s := range []*restSide{c.dbz, c.trb} {
			_, _ = s.doRaw(http.MethodDelete, "/connectors/"+name, nil)
		}
	})
	c.waitState(name, "RUNNING")
	c.call(http.MethodPost, "/connectors", create, nil)
	c.call(http.MethodGet, "/connectors", nil, nil)
	c.call(http.MethodGet, "/connectors?expand=status", nil, nil)
	c.call(http.MethodGet, "/connectors?expand=info", nil, nil)
	c.call(http.MethodGet, "/connectors?expand=status&expand=info", nil, nil)
	for _, p := range []string{"", "/config", "/status", "/tasks", "/tasks/0/status"} {
		c.call(http.MethodGet, "/connectors/"+name+p, nil, nil)
	}
	c.call(http.MethodGet, "/connectors/"+name+"/tasks/x/status", nil, nil)
	c.call(http.MethodGet, "/connectors/"+name+"/topics", nil, nil)

	// Config updates: the same config (200), a changed key, a removed key.
	c.call(http.MethodPut, "/connectors/"+name+"/config", func(s *restSide) any { return cfg(s) }, nil)
	c.waitState(name, "RUNNING")
	c.call(http.MethodPatch, "/connectors/"+name+"/config", func(*restSide) any { return map[string]any{"max.batch.size": "1024"} }, nil)
	c.waitState(name, "RUNNING")
	c.call(http.MethodPatch, "/connectors/"+name+"/config", func(*restSide) any { return map[string]any{"max.batch.size": nil} }, nil)
	c.waitState(name, "RUNNING")
	c.call(http.MethodGet, "/connectors/"+name+"/config", nil, nil)

	// Creates that fail: an unknown class, a bad Kafka-level value, no
	// name, a config with a different name.
	c.call(http.MethodPost, "/connectors", func(s *restSide) any {
		return map[string]any{"name": "other", "config": map[string]string{"connector.class": "com.example.Nope"}}
	}, func(v any) any { // each worker's own plugins
		m, _ := v.(map[string]any)
		if msg, ok := m["message"].(string); ok {
			if i := strings.Index(msg, "available connectors are: "); i >= 0 {
				m["message"] = msg[:i] + "<plugins>"
			}
		}
		return m
	})
	ea, eb := c.both(http.MethodPost, "/connectors", func(s *restSide) any {
		m := cfg(s)
		m["name"], m["errors.tolerance"] = "other", "bogus"
		return map[string]any{"name": "other", "config": m}
	})
	c.deliberate("POST /connectors with errors.tolerance=bogus", ea, eb, http.StatusInternalServerError, http.StatusBadRequest)
	c.call(http.MethodPost, "/connectors", func(s *restSide) any { return map[string]any{"config": cfg(s)} }, nil)
	c.call(http.MethodPost, "/connectors", func(s *restSide) any { return map[string]any{"name": "other", "config": cfg(s)} }, nil)
	ea, eb = c.both(http.MethodPut, "/connector-plugins/com.example.Nope/config/validate", func(*restSide) any {
		return map[string]string{"connector.class": "com.example.Nope"}
	})
	c.deliberate("validate of an unknown plugin", ea, eb, http.StatusInternalServerError, http.StatusBadRequest)
	c.call(http.MethodGet, "/connector-plugins/com.example.Nope/config", nil, nil)

	// Pause and resume.
	c.call(http.MethodPut, "/connectors/"+name+"/pause", nil, nil)
	c.waitState(name, "PAUSED")
	c.call(http.MethodGet, "/connectors/"+name+"/status", nil, nil)
	c.call(http.MethodPut, "/connectors/"+name+"/resume", nil, nil)
	c.waitState(name, "RUNNING")

	// Restarts.
	c.call(http.MethodPost, "/connectors/"+name+"/restart", nil, nil)
	c.waitState(name, "RUNNING")
	c.call(http.MethodPost, "/connectors/"+name+"/restart?includeTasks=true&onlyFailed=false", nil, nil)
	c.waitState(name, "RUNNING")
	c.call(http.MethodPost, "/connectors/"+name+"/tasks/0/restart", nil, nil)
	c.waitState(name, "RUNNING")
	c.call(http.MethodPost, "/connectors/"+name+"/restart?includeTasks=true&onlyFailed=true", nil, nil)
	c.call(http.MethodPost, "/connectors/"+name+"/restart?onlyFailed=true", nil, nil)
	c.waitState(name, "RUNNING")
	c.call(http.MethodGet, "/connectors/"+name+"/tasks/9/status", nil, nil)
	c.call(http.MethodPatch, "/connectors/"+name+"/offsets", func(s *restSide) any {
		return map[string]any{"offsets": []any{map[string]any{"partition": map[string]any{"server": s.token}, "offset": map[string]any{"lsn": 1}}}}
	}, nil)

	// Offsets on a running connector, then stop and the offsets again.
	c.call(http.MethodDelete, "/connectors/"+name+"/offsets", nil, nil)
	c.call(http.MethodPut, "/connectors/"+name+"/stop", nil, nil)
	c.waitState(name, "STOPPED")
	c.call(http.MethodGet, "/connectors/"+name+"/status", nil, nil)
	c.call(http.MethodGet, "/connectors/"+name+"/offsets", nil, offsetsView)
	c.call(http.MethodDelete, "/connectors/"+name+"/offsets", nil, nil)
	c.call(http.MethodGet, "/connectors/"+name+"/offsets", nil, offsetsView)
	c.call(http.MethodPatch, "/connectors/"+name+"/offsets", func(s *restSide) any {
		return map[string]any{"offsets": []any{map[string]any{
			"partition": map[string]any{"server": s.token},
			"offset":    map[string]any{"lsn": 12345, "txId": 7},
		}}}
	}, nil)
	c.call(http.MethodGet, "/connectors/"+name+"/offsets", nil, nil)

	// A missing task's restart, last before the delete: Connect 4.4's
	// standalone herder answers 404 but then starts the task anyway, which
	// fails (a NullPointerException) and stays FAILED until the delete.
	c.call(http.MethodPost, "/connectors/"+name+"/tasks/9/restart", nil, nil)

	// Delete, then the missing connector.
	c.call(http.MethodDelete, "/connectors/"+name, nil, nil)
	for _, s := range []*restSide{c.dbz, c.trb} {
		s.eventually(t, 30*time.Second, "deleted", func() error {
			a, err := s.doRaw(http.MethodGet, "/connectors/"+name, nil)
			if err != nil || a.code != http.StatusNotFound {
				return fmt.Errorf("HTTP %d %v", a.code, err)
			}
			return nil
		})
	}
	for _, p := range []string{"", "/status", "/config", "/offsets"} {
		c.call(http.MethodGet, "/connectors/"+name+p, nil, nil)
	}
	c.call(http.MethodDelete, "/connectors/"+name, nil, nil)
	c.call(http.MethodPut, "/connectors/"+name+"/pause", nil, nil)
	c.call(http.MethodPut, "/connectors/"+name+"/resume", nil, nil)
	for _, m := range []string{http.MethodPut + " /stop", http.MethodPost + " /restart"} {
		method, p, _ := strings.Cut(m, " ")
		a, b := c.both(method, "/connectors/"+name+p, nil)
		c.deliberate(m+" of a missing connector", a, b, http.StatusInternalServerError, http.StatusNotFound)
	}
	c.call(http.MethodGet, "/connectors/"+name+"/tasks", nil, nil)
	c.call(http.MethodGet, "/connectors/"+name+"/tasks/0/status", nil, nil)

	// Malformed bodies: the parser's message is each one's own.
	for _, raw := range []string{`{"name":`, `[1,2]`, `{"name":"x","config":"no"}`} {
		a, err := c.dbz.doRaw(http.MethodPost, "/connectors", []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.trb.doRaw(http.MethodPost, "/connectors", []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		c.deliberate("POST /connectors "+raw, a, b, http.StatusInternalServerError, http.StatusBadRequest)
	}

	// Loggers.
	c.call(http.MethodGet, "/admin/loggers", nil, only("root"))
	c.call(http.MethodGet, "/admin/loggers/root", nil, nil)
	c.call(http.MethodPut, "/admin/loggers/io.debezium", func(*restSide) any { return map[string]string{"level": "DEBUG"} }, loggerNames)
	c.call(http.MethodGet, "/admin/loggers/io.debezium", nil, func(v any) any {
		m, _ := v.(map[string]any)
		if _, ok := m["last_modified"].(float64); ok {
			m["last_modified"] = "<millis>"
		}
		return m
	})
	c.call(http.MethodPut, "/admin/loggers/root", func(*restSide) any { return map[string]string{"level": "INFO"} }, loggerNames)
	c.call(http.MethodGet, "/admin/loggers/root", nil, func(v any) any {
		m, _ := v.(map[string]any)
		if _, ok := m["last_modified"].(float64); ok {
			m["last_modified"] = "<millis>"
		}
		return m
	})
	la, lb := c.both(http.MethodPut, "/admin/loggers/io.debezium", func(*restSide) any { return map[string]string{"level": "NOPE"} })
	c.deliberate("PUT /admin/loggers/io.debezium NOPE", la, lb, http.StatusNotFound, http.StatusBadRequest)
}
