package smtdiff

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
	"github.com/tributary-cdc/tributary/transforms"
)

// tcase is one input, run through the converter and at most one
// transformation (with an optional predicate) on both sides. Its JSON form
// is the driver's input line.
type tcase struct {
	ID              string            `json:"id"`
	Converter       map[string]string `json:"converter"`
	Topic           string            `json:"topic"`
	Key             *string           `json:"key"`
	Value           *string           `json:"value"`
	Headers         [][2]string       `json:"headers,omitempty"`
	Timestamp       int64             `json:"timestamp"`
	Transform       string            `json:"transform,omitempty"`
	Config          map[string]string `json:"config,omitempty"`
	Predicate       string            `json:"predicate,omitempty"`
	PredicateConfig map[string]string `json:"predicateConfig,omitempty"`
	Negate          bool              `json:"negate,omitempty"`

	// diff, when set, is why Tributary deliberately differs from the
	// reference on this case (also listed in the README); the test then
	// requires the difference to still exist.
	diff string
	// unordered compares JSON object members in sorted order (see same);
	// set for every case with schemas.enable=false.
	unordered bool
}

// result is one case's outcome, as the driver prints it.
type result struct {
	ID        string      `json:"id"`
	Kept      *bool       `json:"kept,omitempty"`
	Topic     string      `json:"topic,omitempty"`
	Key       *string     `json:"key"`
	Value     *string     `json:"value"`
	Headers   [][]*string `json:"headers,omitempty"`
	Stage     string      `json:"stage,omitempty"`
	Exception string      `json:"exception,omitempty"`
	Error     string      `json:"error,omitempty"`
}

// show renders r for a failure message, payloads decoded.
func (r result) show() string {
	if r.Stage != "" {
		return fmt.Sprintf("%s error (%s): %s", r.Stage, r.Exception, r.Error)
	}
	if r.Kept != nil && !*r.Kept {
		return "dropped"
	}
	dec := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		b, _ := base64.StdEncoding.DecodeString(*p)
		return string(b)
	}
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, *h[0]+"="+dec(h[1]))
	}
	return fmt.Sprintf("topic=%s\n  key=%s\n  value=%s\n  headers=%v", r.Topic, dec(r.Key), dec(r.Value), hs)
}

// same compares two outcomes: bytes exactly, errors by stage and message
// (Go has no exception classes). Two normalizations, both deliberate
// differences listed in the README:
//   - unordered (schemas.enable=false, or a Connect MAP with string keys):
//     JSON object members are compared in sorted order. Kafka writes a
//     schemaless map in java.util.HashMap iteration order (hash buckets),
//     Tributary in sorted key order; member order carries no meaning in
//     such an object and HashMap's order is no contract.
//   - a Tributary error message may put the path of the field it concerns
//     before Kafka's message ("field name: " + Kafka's text).
//   - a config error names its key with the connector-level prefix
//     ("invalid configuration: transforms.t.field: Missing required
//     configuration \"transforms.t.field\"…"), as Connect's validate names
//     it; the prefix is removed before comparing.
func same(a, b result, unordered bool) bool {
	if b.Stage == "config" {
		b.Error = configMessage.ReplaceAllString(b.Error, "")
		b.Error = strings.NewReplacer("transforms.t.", "", "predicates.p.", "").Replace(b.Error)
	}
	if a.Stage != "" || b.Stage != "" {
		return a.Stage == b.Stage && (a.Error == b.Error || strings.HasSuffix(b.Error, ": "+a.Error) && strings.HasPrefix(b.Error, "field "))
	}
	if unordered {
		a, b = sortMembers(a), sortMembers(b)
	}
	return a.show() == b.show()
}

// configMessage is config.Errors' lead: "invalid configuration: <key>: ".
var configMessage = regexp.MustCompile(`^invalid configuration: (transforms\.t|predicates\.p)\.[^ :]+: `)

// sortMembers rewrites the key and value bytes of r with every JSON
// object's members in sorted order, every other token's spelling kept.
func sortMembers(r result) result {
	f := func(p *string) *string {
		if p == nil {
			return nil
		}
		b, err := base64.StdEncoding.DecodeString(*p)
		if err != nil {
			return p
		}
		s := base64.StdEncoding.EncodeToString(sortJSON(b))
		return &s
	}
	r.Key, r.Value = f(r.Key), f(r.Value)
	return r
}

func sortJSON(b []byte) []byte {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return b
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := []byte{'{'}
		for i, k := range keys {
			if i > 0 {
				out = append(out, ',')
			}
			kb, _ := json.Marshal(k)
			out = append(append(append(out, kb...), ':'), sortJSON(m[k])...)
		}
		return append(out, '}')
	case len(b) > 0 && b[0] == '[':
		var l []json.RawMessage
		if json.Unmarshal(b, &l) != nil {
			return b
		}
		out := []byte{'['}
		for i, e := range l {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, sortJSON(e)...)
		}
		return append(out, ']')
	}
	return b
}

// runJava compiles the driver against Connect's and Debezium's jars and runs
// every case in one JVM.
func runJava(t *testing.T, cases []tcase) map[string]result {
	t.Helper()
	for _, b := range []string{"java", "javac"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s not found: install the Debian package default-jdk-headless (make test installs it)", b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // includes the first Maven fetch
	defer cancel()
	lib, err := harness.FetchConnect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := goruntime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "jvm", "smtdriver", "SmtDriver.java")
	cp := strings.Join([]string{filepath.Join(lib.Worker, "*"), filepath.Join(lib.Plugins, "debezium-connector-postgres", "*")}, string(os.PathListSeparator))
	classes := t.TempDir()
	if out, err := exec.CommandContext(ctx, "javac", "-nowarn", "-d", classes, "-cp", cp, src).CombinedOutput(); err != nil {
		t.Fatalf("javac %s: %v\n%s", src, err, out)
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, "java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classes+string(os.PathListSeparator)+cp, "SmtDriver")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java SmtDriver: %v\n%s", err, stderr.Bytes())
	}
	res := map[string]result{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("driver output %q: %v", sc.Text(), err)
		}
		res[r.ID] = r
	}
	if len(res) != len(cases) {
		t.Fatalf("driver answered %d of %d cases; stderr:\n%s", len(res), len(cases), stderr.Bytes())
	}
	return res
}

// runGo runs c through Tributary's converter and transform chain the way
// the runtime does (transforms.Parse, Chain.Apply).
func runGo(c tcase) result {
	r := result{ID: c.ID}
	fail := func(stage string, err error) result {
		return result{ID: c.ID, Stage: stage, Error: err.Error()}
	}
	cfg, err := jsonconv.ConfigFromMap(c.Converter)
	if err != nil {
		return fail("config", err)
	}
	kcfg := cfg
	kcfg.IsKey = true
	kc, vc := jsonconv.New(kcfg), jsonconv.New(cfg)
	chainCfg := map[string]string{}
	if c.Transform != "" {
		chainCfg["transforms"] = "t"
		chainCfg["transforms.t.type"] = c.Transform
		for k, v := range c.Config {
			chainCfg["transforms.t."+k] = v
		}
		if c.Predicate != "" {
			chainCfg["predicates"] = "p"
			chainCfg["predicates.p.type"] = c.Predicate
			for k, v := range c.PredicateConfig {
				chainCfg["predicates.p."+k] = v
			}
			chainCfg["transforms.t.predicate"] = "p"
			if c.Negate {
				chainCfg["transforms.t.negate"] = "true"
			}
		}
	}
	chain, err := transforms.Parse(chainCfg)
	if err != nil {
		return fail("config", err)
	}
	bs := func(p *string) []byte {
		if p == nil {
			return nil
		}
		return []byte(*p)
	}
	rec := schema.Record{Topic: c.Topic, Timestamp: time.UnixMilli(c.Timestamp)}
	for _, h := range c.Headers {
		rec.Headers = append(rec.Headers, schema.Header{Key: h[0], Value: []byte(h[1])})
	}
	if rec.KeySchema, rec.Key, err = kc.ToConnect(c.Topic, rec.Headers, bs(c.Key)); err != nil {
		return fail("decode", err)
	}
	if rec.ValueSchema, rec.Value, err = vc.ToConnect(c.Topic, rec.Headers, bs(c.Value)); err != nil {
		return fail("decode", err)
	}
	out, keep, err := chain.Apply(rec)
	if err != nil {
		var te *transforms.Error
		if errors.As(err, &te) {
			err = te.Err
		}
		return fail("transform", err)
	}
	r.Kept = &keep
	if !keep {
		return r
	}
	r.Topic = out.Topic
	b64 := func(b []byte) *string {
		if b == nil {
			return nil
		}
		s := base64.StdEncoding.EncodeToString(b)
		return &s
	}
	kb, err := kc.FromConnect(out.Topic, out.Headers, out.KeySchema, out.Key)
	if err != nil {
		return fail("encode", err)
	}
	vb, err := vc.FromConnect(out.Topic, out.Headers, out.ValueSchema, out.Value)
	if err != nil {
		return fail("encode", err)
	}
	r.Key, r.Value = b64(kb), b64(vb)
	for _, h := range out.Headers {
		k := h.Key
		r.Headers = append(r.Headers, []*string{&k, b64(h.Value)})
	}
	return r
}

// TestAgainstKafka runs every case through the reference and Tributary and
// compares the outcomes.
func TestAgainstKafka(t *testing.T) {
	cases := allCases()
	seen := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		if seen[c.ID] {
			t.Fatalf("duplicate case id %s", c.ID)
		}
		seen[c.ID] = true
		if c.Topic == "" {
			c.Topic = "orders"
		}
		if c.Converter["schemas.enable"] == "false" {
			c.unordered = true
		}
		if c.Timestamp == 0 {
			c.Timestamp = 1700000000123
		}
	}
	start := time.Now()
	want := runJava(t, cases)
	t.Logf("reference: %d cases in %v", len(cases), time.Since(start).Round(time.Millisecond))
	diffs := 0
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			w, g := want[c.ID], runGo(c)
			switch {
			case c.diff == "" && !same(w, g, c.unordered):
				t.Errorf("Kafka:\n  %s\nTributary:\n  %s", w.show(), g.show())
			case c.diff != "" && same(w, g, c.unordered):
				t.Errorf("documented difference (%s) is gone: both give\n  %s", c.diff, g.show())
			case c.diff != "":
				diffs++
				t.Logf("deliberate difference: %s\nKafka:\n  %s\nTributary:\n  %s", c.diff, w.show(), g.show())
			}
		})
	}
	t.Logf("%d cases, %d deliberate differences", len(cases), diffs)
}
