package rest

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/schema/avroconv"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
	"github.com/tributary-cdc/tributary/schema/simpleconv"
	"github.com/tributary-cdc/tributary/transforms"
)

// The expected values below come from Kafka Connect's sources:
// ConnectorPluginsResource (list order: connectors, transformations,
// predicates, converters, header converters), PluginInfo (fields class,
// type, version), PluginType (type names), AbstractHerder.connectorPluginConfig
// (a list of ConfigKeyInfo), and each plugin's ConfigDef (RegexRouter,
// TopicNameMatches, JsonConverterConfig, StringConverterConfig,
// ConverterConfig, SimpleHeaderConverter).

// newAllKindsServer serves a registry holding every plugin kind.
func newAllKindsServer(t *testing.T) api {
	h := newMemHerder()
	h.reg.Register(jsonconv.Plugin(), simpleconv.StringPlugin(), simpleconv.ByteArrayPlugin(), avroconv.Plugin(),
		simpleconv.SimpleHeaderPlugin()).Register(transforms.Plugins()...)
	ts := httptest.NewServer(New(Options{Herder: h, Registry: h.reg}))
	t.Cleanup(ts.Close)
	return api{t: t, url: ts.URL}
}

func TestPluginsListEveryKind(t *testing.T) {
	a := newAllKindsServer(t)
	var all []map[string]any
	a.expect("GET", "/connector-plugins?connectorsOnly=false", nil, 200, &all)
	rank := map[string]int{"source": 0, "sink": 0, "transformation": 1, "predicate": 2, "converter": 3, "header_converter": 4}
	byClass := map[string]map[string]any{}
	last := 0
	for _, p := range all {
		for k := range p {
			if k != "class" && k != "type" && k != "version" {
				t.Errorf("plugin %v: field %q is not one of Connect's PluginInfo fields", p, k)
			}
		}
		typ, _ := p["type"].(string)
		r, ok := rank[typ]
		if !ok {
			t.Errorf("plugin %v: type %q is not a Connect PluginType", p, typ)
		}
		if r < last {
			t.Errorf("plugin %v listed after a later kind (Connect lists connectors, transformations, predicates, converters, header converters)", p)
		}
		last = r
		byClass[p["class"].(string)] = p
	}
	// Kafka's own plugins report Kafka's version: the one GET / reports.
	want := map[string]string{
		"org.apache.kafka.connect.transforms.InsertField$Value":           "transformation",
		"org.apache.kafka.connect.transforms.RegexRouter":                 "transformation",
		"org.apache.kafka.connect.transforms.predicates.TopicNameMatches": "predicate",
		"org.apache.kafka.connect.transforms.predicates.HasHeaderKey":     "predicate",
		"org.apache.kafka.connect.json.JsonConverter":                     "converter",
		"org.apache.kafka.connect.storage.StringConverter":                "converter",
		"org.apache.kafka.connect.converters.ByteArrayConverter":          "converter",
		"org.apache.kafka.connect.storage.SimpleHeaderConverter":          "header_converter",
	}
	for class, typ := range want {
		p := byClass[class]
		if p == nil || p["type"] != typ || p["version"] != DefaultVersion {
			t.Errorf("%s: got %v, want type %s version %s", class, p, typ, DefaultVersion)
		}
	}
	if p := byClass["io.debezium.transforms.ExtractNewRecordState"]; p == nil || p["type"] != "transformation" {
		t.Errorf("ExtractNewRecordState: %v", p)
	}
	if p := byClass["io.confluent.connect.avro.AvroConverter"]; p == nil || p["type"] != "converter" {
		t.Errorf("AvroConverter: %v", p)
	}

	// connectorsOnly (the default) lists the connectors alone, first in
	// the full list too.
	var conns []map[string]any
	a.expect("GET", "/connector-plugins", nil, 200, &conns)
	if len(conns) != 3 {
		t.Fatalf("connectors %v", conns)
	}
	for i, p := range conns {
		if p["type"] != "source" && p["type"] != "sink" {
			t.Errorf("connectorsOnly lists %v", p)
		}
		if p["class"] != all[i]["class"] {
			t.Errorf("connector %d: %v in the short list, %v in the full one", i, p, all[i])
		}
	}
	a.expectError("GET", "/connector-plugins?connectorsOnly=maybe", nil, 400, "connectorsOnly")
}

// keyInfo is the part of Connect's ConfigKeyInfo the tests compare.
type keyInfo struct {
	Name         string  `json:"name"`
	Type         string  `json:"type"`
	Required     bool    `json:"required"`
	DefaultValue *string `json:"default_value"`
	Importance   string  `json:"importance"`
	Group        *string `json:"group"`
	DisplayName  string  `json:"display_name"`
}

func str(s string) *string { return &s }

func TestPluginConfigEveryKind(t *testing.T) {
	a := newAllKindsServer(t)
	cases := []struct {
		plugin string
		want   []keyInfo
	}{
		{"org.apache.kafka.connect.transforms.RegexRouter", []keyInfo{
			{Name: "regex", Type: "STRING", Required: true, Importance: "HIGH", DisplayName: "regex"},
			{Name: "replacement", Type: "STRING", Required: true, Importance: "HIGH", DisplayName: "replacement"},
		}},
		{"RegexRouter", nil}, // simple name: same as above
		{"org.apache.kafka.connect.transforms.predicates.TopicNameMatches", []keyInfo{
			{Name: "pattern", Type: "STRING", Required: true, Importance: "MEDIUM", DisplayName: "pattern"},
		}},
		{"org.apache.kafka.connect.json.JsonConverter", []keyInfo{
			{Name: "schemas.enable", Type: "BOOLEAN", DefaultValue: str("true"), Importance: "HIGH", Group: str("Schemas"), DisplayName: "Enable Schemas"},
			{Name: "schemas.cache.size", Type: "INT", DefaultValue: str("1000"), Importance: "HIGH", Group: str("Schemas"), DisplayName: "Schema Cache Size"},
			{Name: "decimal.format", Type: "STRING", DefaultValue: str("BASE64"), Importance: "LOW", Group: str("Serialization"), DisplayName: "Decimal Format"},
			{Name: "replace.null.with.default", Type: "BOOLEAN", DefaultValue: str("true"), Importance: "LOW", Group: str("Serialization"), DisplayName: "Replace null with default"},
		}},
		{"JsonConverter", nil},
		{"org.apache.kafka.connect.storage.StringConverter", []keyInfo{
			{Name: "converter.type", Type: "STRING", Required: true, Importance: "LOW", DisplayName: "converter.type"},
			{Name: "converter.encoding", Type: "STRING", DefaultValue: str("UTF-8"), Importance: "HIGH", DisplayName: "Encoding"},
		}},
		{"org.apache.kafka.connect.converters.ByteArrayConverter", []keyInfo{
			{Name: "converter.type", Type: "STRING", Required: true, Importance: "LOW", DisplayName: "converter.type"},
		}},
		{"org.apache.kafka.connect.storage.SimpleHeaderConverter", []keyInfo{}},
	}
	var prev []keyInfo
	for _, c := range cases {
		var got []keyInfo
		a.expect("GET", "/connector-plugins/"+c.plugin+"/config", nil, 200, &got)
		want := c.want
		if want == nil {
			want = prev
		}
		if c.plugin == "org.apache.kafka.connect.json.JsonConverter" || c.plugin == "JsonConverter" {
			// converter.type (ConverterConfig) is ours to default: keep the
			// four JsonConverterConfig keys.
			got = slices.DeleteFunc(got, func(k keyInfo) bool { return k.Name == "converter.type" })
		}
		if !equalKeys(got, want) {
			t.Errorf("%s: config\n got %+v\nwant %+v", c.plugin, got, want)
		}
		prev = want
	}
	a.expectError("GET", "/connector-plugins/NoSuchConverter/config", nil, 404, "NoSuchConverter")
}

func equalKeys(a, b []keyInfo) bool {
	return slices.EqualFunc(a, b, func(x, y keyInfo) bool {
		eq := func(p, q *string) bool { return (p == nil) == (q == nil) && (p == nil || *p == *q) }
		return x.Name == y.Name && x.Type == y.Type && x.Required == y.Required && x.Importance == y.Importance &&
			x.DisplayName == y.DisplayName && eq(x.DefaultValue, y.DefaultValue) && eq(x.Group, y.Group)
	})
}

// validation is Connect's ConfigInfos, reduced to what the tests read.
type validation struct {
	Name       string   `json:"name"`
	ErrorCount int      `json:"error_count"`
	Groups     []string `json:"groups"`
	Configs    []struct {
		Definition keyInfo `json:"definition"`
		Value      struct {
			Name   string   `json:"name"`
			Value  *string  `json:"value"`
			Errors []string `json:"errors"`
		} `json:"value"`
	} `json:"configs"`
}

func (v validation) errors(key string) []string {
	for _, c := range v.Configs {
		if c.Value.Name == key {
			return c.Value.Errors
		}
	}
	return nil
}

func (v validation) value(key string) string {
	for _, c := range v.Configs {
		if c.Value.Name == key && c.Value.Value != nil {
			return *c.Value.Value
		}
	}
	return ""
}

func TestValidateEveryKind(t *testing.T) {
	a := newAllKindsServer(t)
	cases := []struct {
		name, plugin string
		cfg          map[string]string
		class        string // ConfigInfos name
		key, prefix  string // the key with the one error, and how its message starts
	}{
		{"transform bad regex", "org.apache.kafka.connect.transforms.RegexRouter", map[string]string{"regex": "(", "replacement": "x"},
			"org.apache.kafka.connect.transforms.RegexRouter", "regex", "Invalid value ( for configuration regex"},
		{"transform bad spec, by simple name", "Cast$Value", map[string]string{"spec": "a:decimal"},
			"org.apache.kafka.connect.transforms.Cast$Value", "spec", "Invalid value [a:decimal] for configuration spec"},
		{"predicate missing key", "TopicNameMatches", map[string]string{},
			"org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "pattern", `Missing required configuration "pattern" which has no default value.`},
		{"converter bad boolean", "JsonConverter", map[string]string{"schemas.enable": "maybe", "converter.type": "value"},
			"org.apache.kafka.connect.json.JsonConverter", "schemas.enable", "Invalid value maybe for configuration schemas.enable"},
		{"converter bad enum", "org.apache.kafka.connect.storage.StringConverter", map[string]string{"converter.type": "sideways"},
			"org.apache.kafka.connect.storage.StringConverter", "converter.type", "Invalid value sideways for configuration converter.type"},
		{"converter constructor check", "AvroConverter", map[string]string{"schema.registry.url": "http://r:8081",
			"basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": "no-colon-secret", "converter.type": "value"},
			"io.confluent.connect.avro.AvroConverter", "basic.auth.user.info", "basic.auth.credentials.source=USER_INFO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v validation
			body := a.expect("PUT", "/connector-plugins/"+c.plugin+"/config/validate", c.cfg, 200, &v)
			if v.Name != c.class || v.ErrorCount != 1 || v.Groups == nil {
				t.Fatalf("name %q error_count %d groups %v, want %q 1: %s", v.Name, v.ErrorCount, v.Groups, c.class, body)
			}
			errs := v.errors(c.key)
			if len(errs) != 1 || !strings.HasPrefix(errs[0], c.prefix) {
				t.Fatalf("errors of %s: %q, want one starting %q: %s", c.key, errs, c.prefix, body)
			}
			if strings.Contains(string(body), "no-colon-secret") {
				t.Errorf("password value in the response: %s", body)
			}
		})
	}
	// A good config of each kind has no error.
	for plugin, cfg := range map[string]map[string]string{
		"RegexRouter":              {"regex": "a(.*)", "replacement": "b$1"},
		"HasHeaderKey":             {"name": "h"},
		"JsonConverter":            {"schemas.enable": "false", "converter.type": "key"},
		"ByteArrayConverter":       {"converter.type": "value"},
		"SimpleHeaderConverter":    {},
		"InsertField$Value":        {"static.field": "f", "static.value": "v"},
		"ExtractNewRecordState":    {},
		"TopicNameMatches":         {"pattern": "t.*"},
		"ReplaceField$Key":         {"exclude": "a"},
		"TimestampConverter$Value": {"target.type": "unix"},
		"AvroConverter":            {"schema.registry.url": "embedded", "converter.type": "value"},
	} {
		var v validation
		body := a.expect("PUT", "/connector-plugins/"+plugin+"/config/validate", cfg, 200, &v)
		if v.ErrorCount != 0 {
			t.Errorf("%s: %s", plugin, body)
		}
		for k, want := range cfg {
			if got := v.value(k); got != want {
				t.Errorf("%s: value of %s %q, want %q", plugin, k, got, want)
			}
		}
	}
	// Connectors are still validated by the herder, with connector.class.
	var v validation
	a.expect("PUT", "/connector-plugins/FileStreamSink/config/validate", map[string]string{"name": "s", "topics": "t"}, 200, &v)
	if v.Name != "FileStreamSink" {
		t.Errorf("connector validation named %q", v.Name)
	}
	// An unknown name is still the connector lookup's 400.
	a.expectError("PUT", "/connector-plugins/NoSuchPlugin/config/validate", map[string]string{}, 400, "NoSuchPlugin")
}
