package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/magiconair/properties"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
	"github.com/tributary-cdc/tributary/schema/simpleconv"
)

// Worker config keys (connect-standalone.properties / connect-distributed.properties).
const (
	KeyBootstrapServers      = "bootstrap.servers"
	KeyKeyConverter          = "key.converter"
	KeyValueConverter        = "value.converter"
	KeyHeaderConverter       = "header.converter"
	KeyOffsetFile            = "offset.storage.file.filename"
	KeyOffsetFlushInterval   = "offset.flush.interval.ms"
	KeyOffsetFlushTimeout    = "offset.flush.timeout.ms"
	KeyRestPort              = "rest.port"
	KeyRestHost              = "rest.host.name"
	KeyListeners             = "listeners"
	KeyRestAdvertisedHost    = "rest.advertised.host.name"
	KeyRestAdvertisedPort    = "rest.advertised.port"
	KeyPluginPath            = "plugin.path"
	KeyTaskShutdownTimeout   = "task.shutdown.graceful.timeout.ms"
	KeyGroupID               = "group.id"
	KeyOffsetStorageTopic    = "offset.storage.topic"
	KeyConfigStorageTopic    = "config.storage.topic"
	KeyStatusStorageTopic    = "status.storage.topic"
	KeyEmbeddedBrokerPort    = kafka.KeyEmbeddedPort
	KeyEmbeddedBrokerDataDir = kafka.KeyEmbeddedDataDir
)

// Converter class names (each converter's package owns its name).
const (
	JSONConverterClass      = jsonconv.ClassName
	StringConverterClass    = simpleconv.StringClass
	ByteArrayConverterClass = simpleconv.ByteArrayClass
)

// WorkerDef declares the worker keys Tributary reads. Other keys (producer.*,
// consumer.*, admin.*, key.converter.*, security and SASL settings, keys of
// Connect features not built yet) are passed through.
func WorkerDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeyBootstrapServers, Type: config.List, Default: []string{}, Importance: config.High,
			Doc: "Kafka brokers (host:port,…). Empty or \"embedded\" starts the embedded broker in-process."}).
		Define(config.Key{Name: KeyKeyConverter, Type: config.Class, Default: JSONConverterClass, Importance: config.High,
			Doc: "Converter class for record keys: JsonConverter, StringConverter or ByteArrayConverter."}).
		Define(config.Key{Name: KeyValueConverter, Type: config.Class, Default: JSONConverterClass, Importance: config.High,
			Doc: "Converter class for record values."}).
		Define(config.Key{Name: KeyHeaderConverter, Type: config.Class, Default: simpleconv.SimpleHeaderClass, Importance: config.Low,
			Doc: "Header converter class; headers are passed as raw bytes."}).
		Define(config.Key{Name: KeyOffsetFile, Type: config.String, Default: "", Importance: config.High,
			Doc: "Standalone mode: file holding source offsets."}).
		Define(config.Key{Name: KeyOffsetFlushInterval, Type: config.Long, Default: int64(60000), Importance: config.Low,
			Validator: config.AtLeast(1), Doc: "How often offsets are committed (ms)."}).
		Define(config.Key{Name: KeyOffsetFlushTimeout, Type: config.Long, Default: int64(5000), Importance: config.Low,
			Validator: config.AtLeast(1), Doc: "How long an offset commit waits for outstanding records (ms)."}).
		Define(config.Key{Name: KeyTaskShutdownTimeout, Type: config.Long, Default: int64(5000), Importance: config.Low,
			Validator: config.AtLeast(0), Doc: "How long a stopping task may take (ms)."}).
		Define(config.Key{Name: KeyRestPort, Type: config.Int, Default: 8083, Importance: config.Low,
			Doc: "Port of the REST API (deprecated in Connect in favour of listeners)."}).
		Define(config.Key{Name: KeyRestHost, Type: config.String, Default: "", Importance: config.Low,
			Doc: "Host name the REST API binds to."}).
		Define(config.Key{Name: KeyListeners, Type: config.List, Default: []string{}, Importance: config.Low,
			Doc: "REST listeners, e.g. http://:8083."}).
		Define(config.Key{Name: KeyRestAdvertisedHost, Type: config.String, Default: "", Importance: config.Low,
			Doc: "Host name given to other workers."}).
		Define(config.Key{Name: KeyRestAdvertisedPort, Type: config.Int, Default: 0, Importance: config.Low,
			Doc: "Port given to other workers."}).
		Define(config.Key{Name: KeyPluginPath, Type: config.List, Default: []string{}, Importance: config.Low,
			Doc: "Accepted for compatibility; connectors are built in."}).
		Define(config.Key{Name: KeyEmbeddedBrokerPort, Type: config.Int, Default: kafka.DefaultEmbeddedPort, Importance: config.Medium,
			Validator: config.AtLeast(0), Doc: "Port of the embedded broker on 127.0.0.1 (0: any free port)."}).
		Define(config.Key{Name: KeyEmbeddedBrokerDataDir, Type: config.String, Default: "", Importance: config.Medium,
			Doc: "Data directory of the embedded broker; default data/broker beside the offsets file."}).
		PassThrough("producer.", "consumer.", "admin.", "key.converter.", "value.converter.", "header.converter.",
			"security.", "sasl.", "ssl.", "config.providers", "metrics.", "rest.", "listeners.", "client.",
			"errors.", "exactly.once.", "connector.client.config.override.policy", "offset.", "config.", "status.",
			"group.", "topic.", "task.", "scheduled.", "worker.", "response.", "access.control.", "admin.listeners")
}

// connectWorkerKeys are Kafka Connect worker keys (WorkerConfig,
// StandaloneConfig, DistributedConfig) Tributary passes through or that
// runtime/distributed declares: known, so never reported as typos.
func connectWorkerKeys() []string {
	return []string{KeyGroupID, KeyOffsetStorageTopic, KeyConfigStorageTopic, KeyStatusStorageTopic,
		"offset.storage.partitions", "offset.storage.replication.factor",
		"config.storage.replication.factor", "status.storage.partitions", "status.storage.replication.factor",
		"session.timeout.ms", "heartbeat.interval.ms", "rebalance.timeout.ms", "scheduled.rebalance.max.delay.ms",
		"connect.protocol", "rest.advertised.listener", "worker.sync.timeout.ms", "worker.unsync.backoff.ms",
		"exactly.once.source.support", "config.providers", "connector.client.config.override.policy",
		"access.control.allow.origin", "access.control.allow.methods", "admin.listeners",
		"response.http.headers.config", "rest.extension.classes", "rest.basic.auth.jaas.config.file", "topic.creation.enable",
		"metrics.sample.window.ms", "metrics.num.samples", "metrics.recording.level", "metric.reporters",
		"client.dns.lookup", "client.id", "inter.worker.key.generation.algorithm", "inter.worker.key.size",
		"inter.worker.key.ttl.ms", "inter.worker.signature.algorithm", "inter.worker.verification.algorithms",
		"task.shutdown.graceful.timeout.ms", "offset.flush.timeout.ms", "security.protocol",
		"receive.buffer.bytes", "send.buffer.bytes", "request.timeout.ms", "retry.backoff.ms",
		"reconnect.backoff.ms", "reconnect.backoff.max.ms", "connections.max.idle.ms", "metadata.max.age.ms"}
}

// WorkerTypos reports worker keys that look like a misspelt worker key
// ("offset.flush.interval.mss"), naming both. Keys under the client and
// converter prefixes belong to others and are not checked.
func WorkerTypos(raw map[string]string) config.Errors {
	known := append(WorkerDef().Names(), connectWorkerKeys()...)
	return config.Typos(raw, known, []string{"producer.", "consumer.", "admin.", "key.converter.", "value.converter.",
		"header.converter.", "listeners.https.", "config.providers.", "ssl.", "sasl.", "security."})
}

// WorkerConfig is a parsed worker config.
type WorkerConfig struct {
	// Raw is every key as given (converter and client settings are read
	// from it by prefix).
	Raw map[string]string

	BootstrapServers    string // "" when the embedded broker is used
	Embedded            bool
	EmbeddedPort        int
	EmbeddedDataDir     string
	KeyConverter        string
	ValueConverter      string
	OffsetFile          string
	OffsetFlushInterval time.Duration
	OffsetFlushTimeout  time.Duration
	ShutdownTimeout     time.Duration
	RestPort            int
	RestHost            string
	Listeners           []string
}

// ParseWorkerConfig parses worker properties. Every bad key is reported.
func ParseWorkerConfig(raw map[string]string) (*WorkerConfig, error) {
	v, err := WorkerDef().Parse(raw)
	if typos := WorkerTypos(raw); len(typos) > 0 {
		var errs config.Errors
		if err != nil && !errors.As(err, &errs) {
			return nil, err
		}
		return nil, append(errs, typos...)
	}
	if err != nil {
		return nil, err
	}
	servers := strings.Join(v.List(KeyBootstrapServers), ",")
	wc := &WorkerConfig{
		Raw:                 raw,
		Embedded:            kafka.IsEmbedded(servers),
		EmbeddedPort:        v.Int(KeyEmbeddedBrokerPort),
		EmbeddedDataDir:     v.String(KeyEmbeddedBrokerDataDir),
		KeyConverter:        v.String(KeyKeyConverter),
		ValueConverter:      v.String(KeyValueConverter),
		OffsetFile:          v.String(KeyOffsetFile),
		OffsetFlushInterval: v.Duration(KeyOffsetFlushInterval),
		OffsetFlushTimeout:  v.Duration(KeyOffsetFlushTimeout),
		ShutdownTimeout:     v.Duration(KeyTaskShutdownTimeout),
		RestPort:            v.Int(KeyRestPort),
		RestHost:            v.String(KeyRestHost),
		Listeners:           v.List(KeyListeners),
	}
	if !wc.Embedded {
		wc.BootstrapServers = servers
	}
	if wc.Embedded && wc.EmbeddedDataDir == "" {
		base := "."
		if wc.OffsetFile != "" {
			base = filepath.Dir(wc.OffsetFile)
		}
		wc.EmbeddedDataDir = filepath.Join(base, "data", "broker")
	}
	return wc, nil
}

// LoadProperties reads a Java .properties file (escapes, continuations,
// \uXXXX) into a map. ${…} references are kept as written: config providers
// resolve them later.
func LoadProperties(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	l := &properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return p.Map(), nil
}

// LoadConnectorFile reads a connector config as connect-standalone accepts
// it: a .properties file, or a .json file either as {"name": …, "config":
// {…}} or as a flat map of keys. The name comes from the "name" key (or the
// JSON "name" field).
func LoadConnectorFile(path string) (string, map[string]string, error) {
	var cfg map[string]string
	if strings.EqualFold(filepath.Ext(path), ".json") {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", nil, fmt.Errorf("read %s: %w", path, err)
		}
		c, name, err := ParseConnectorJSON(b)
		if err != nil {
			return "", nil, fmt.Errorf("parse %s: %w", path, err)
		}
		cfg = c
		if name != "" {
			cfg["name"] = name
		}
	} else {
		p, err := LoadProperties(path)
		if err != nil {
			return "", nil, err
		}
		cfg = p
	}
	name := strings.TrimSpace(cfg["name"])
	if name == "" {
		return "", nil, fmt.Errorf("%s: name: Missing required configuration \"name\" which has no default value.", path)
	}
	return name, cfg, nil
}

// ParseConnectorJSON parses a connector config in either JSON shape
// ({"name":…,"config":{…}} or a flat map). Values may be JSON strings,
// numbers or booleans; they are kept as their string form.
func ParseConnectorJSON(b []byte) (map[string]string, string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, "", err
	}
	name := ""
	if raw, ok := top["name"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, "", fmt.Errorf("name: not a string")
		}
	}
	if raw, ok := top["config"]; ok && len(raw) > 0 && raw[0] == '{' {
		cfg, err := stringMap(raw)
		if err != nil {
			return nil, "", fmt.Errorf("config: %w", err)
		}
		return cfg, name, nil
	}
	cfg, err := stringMap(b)
	return cfg, name, err
}

func stringMap(b []byte) (map[string]string, error) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		case bool:
			if x {
				out[k] = "true"
			} else {
				out[k] = "false"
			}
		case nil:
			// Connect ignores nulls in config maps.
		default:
			return nil, fmt.Errorf("%s: value must be a string, number or boolean", k)
		}
	}
	return out, nil
}
