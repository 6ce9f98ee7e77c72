package avroconv

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema/registry"
)

// Class names under which the converter is configured.
const (
	ClassName = "io.confluent.connect.avro.AvroConverter"
	Alias     = "AvroConverter"
)

// Subject name strategies (key.subject.name.strategy / value.subject.name.strategy).
const (
	TopicNameStrategy       = "TopicNameStrategy"
	RecordNameStrategy      = "RecordNameStrategy"
	TopicRecordNameStrategy = "TopicRecordNameStrategy"
)

// Config keys, as Confluent's AvroConverterConfig names them (without the
// key.converter./value.converter. prefix).
const (
	KeyRegistryURL         = "schema.registry.url"
	KeyAutoRegister        = "auto.register.schemas"
	KeyUseLatestVersion    = "use.latest.version"
	KeyKeySubjectStrategy  = "key.subject.name.strategy"
	KeyValSubjectStrategy  = "value.subject.name.strategy"
	KeyBasicAuthSource     = "basic.auth.credentials.source"
	KeyBasicAuthUserInfo   = "basic.auth.user.info"
	KeyRegistryUserInfo    = "schema.registry.basic.auth.user.info"
	KeyScrubInvalidNames   = "scrub.invalid.names"
	KeyLatestCacheTTL      = "latest.cache.ttl.sec"
	KeyConnectMetaData     = "connect.meta.data"
	KeySchemasCacheSize    = "schemas.cache.size"
	KeyEnhancedAvroSupport = "enhanced.avro.schema.support"
)

// EmbeddedURL is the schema.registry.url value that means "the registry this
// process serves" (the runtime then sets Config.Registry).
const EmbeddedURL = "embedded"

// Config configures a Converter.
type Config struct {
	// IsKey says the converter serves record keys (subject <topic>-key).
	IsKey bool
	// URLs are the registry base URLs (schema.registry.url).
	URLs []string
	// AutoRegister registers schemas that are not in the registry yet
	// (auto.register.schemas, default true).
	AutoRegister bool
	// UseLatestVersion writes with the subject's latest registered schema
	// instead of the one derived from the record (use.latest.version); as in
	// Confluent's serializer it applies only with AutoRegister off.
	UseLatestVersion bool
	// SubjectStrategy is TopicNameStrategy (default), RecordNameStrategy or
	// TopicRecordNameStrategy.
	SubjectStrategy string
	// User and Password are basic-auth credentials (basic.auth.user.info with
	// basic.auth.credentials.source=USER_INFO; URL user-info otherwise).
	User, Password string
	// ScrubInvalidNames replaces characters Avro names do not allow.
	ScrubInvalidNames bool
	// LatestTTL bounds caching of the latest version (latest.cache.ttl.sec).
	LatestTTL time.Duration
	// TLS is the registry client's TLS (schema.registry.ssl.*); nil uses
	// the system roots for https URLs.
	TLS *tls.Config
	// Registry, when set, is used instead of a client built from URLs (the
	// embedded registry, or one client shared by key and value converters).
	Registry *registry.Client
}

// DefaultConfig returns Confluent's defaults for a value converter.
func DefaultConfig() Config {
	return Config{AutoRegister: true, SubjectStrategy: TopicNameStrategy}
}

// ConfigDef returns the definition of the converter's keys.
func ConfigDef() *config.Def {
	strategies := []string{TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy}
	strategyOK := func(v any) error {
		s, _ := v.(string)
		if _, err := parseStrategy(s); err != nil {
			return fmt.Errorf("must be one of %s (optionally with the io.confluent.kafka.serializers.subject. prefix)", strings.Join(strategies, ", "))
		}
		return nil
	}
	d := config.NewDef().
		Define(config.Key{Name: KeyRegistryURL, Type: config.List, Default: config.NoDefault, Importance: config.High,
			Doc: "Comma-separated list of schema registry URLs, or \"embedded\" for the registry this process serves."}).
		Define(config.Key{Name: KeyAutoRegister, Type: config.Boolean, Default: true, Importance: config.Medium,
			Doc: "Register new schemas automatically."}).
		Define(config.Key{Name: KeyUseLatestVersion, Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Serialize with the latest registered schema of the subject."}).
		Define(config.Key{Name: KeyKeySubjectStrategy, Type: config.Class, Default: TopicNameStrategy, Importance: config.Medium,
			Doc: "Subject name strategy for keys.", Validator: strategyOK}).
		Define(config.Key{Name: KeyValSubjectStrategy, Type: config.Class, Default: TopicNameStrategy, Importance: config.Medium,
			Doc: "Subject name strategy for values.", Validator: strategyOK}).
		Define(config.Key{Name: KeyBasicAuthSource, Type: config.String, Default: "URL", Importance: config.Medium,
			Doc: "Where basic-auth credentials come from: URL or USER_INFO.", Validator: config.OneOf("URL", "USER_INFO", "SASL_INHERIT")}).
		Define(config.Key{Name: KeyBasicAuthUserInfo, Type: config.Password, Default: "", Importance: config.Medium,
			Doc: "user:password for basic.auth.credentials.source=USER_INFO.", Aliases: []string{KeyRegistryUserInfo}}).
		Define(config.Key{Name: KeyScrubInvalidNames, Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Replace characters that are invalid in Avro names."}).
		Define(config.Key{Name: KeyLatestCacheTTL, Type: config.Long, Default: int64(-1), Importance: config.Low,
			Doc: "Seconds the latest version of a subject stays cached; -1 forever."}).
		Define(config.Key{Name: KeyConnectMetaData, Type: config.Boolean, Default: true, Importance: config.Low,
			Doc: "Keep Connect metadata (connect.name, connect.version, …) in Avro schemas; only true is supported.",
			Validator: func(v any) error {
				if b, _ := v.(bool); !b {
					return fmt.Errorf("only connect.meta.data=true is supported")
				}
				return nil
			}}).
		Define(config.Key{Name: KeySchemasCacheSize, Type: config.Int, Default: 1000, Importance: config.Low,
			Doc: "Accepted for compatibility; schemas are cached per schema version."}).
		Define(config.Key{Name: KeyEnhancedAvroSupport, Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Accepted for compatibility; enums are read as strings with Confluent's parameters."}).
		Define(config.Key{Name: "converter.type", Type: config.String, Default: "", Importance: config.Low,
			Doc: "How this converter is used: key, value or header."})
	for _, k := range registry.TLSKeys {
		typ := config.String
		if strings.HasSuffix(k, "password") || k == registry.KeySSLKeystoreKey {
			typ = config.Password
		}
		d.Define(config.Key{Name: k, Type: typ, Default: "", Importance: config.Low,
			Doc: "Registry client TLS (Confluent's " + k + ")."})
	}
	return d
}

func parseStrategy(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "io.confluent.kafka.serializers.subject.")
	switch s {
	case "", TopicNameStrategy:
		return TopicNameStrategy, nil
	case RecordNameStrategy, TopicRecordNameStrategy:
		return s, nil
	}
	return "", fmt.Errorf("unknown subject name strategy %q", s)
}

// ConfigFromMap reads the converter keys (prefix stripped). isKey selects
// key.subject.name.strategy instead of value.subject.name.strategy. Errors
// name the key (config.Errors). A URL of "embedded" is kept; the runtime must
// set Config.Registry to the embedded registry's client.
func ConfigFromMap(m map[string]string, isKey bool) (Config, error) {
	v, err := ConfigDef().Parse(m)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		IsKey:             isKey || strings.EqualFold(v.String("converter.type"), "key"),
		URLs:              v.List(KeyRegistryURL),
		AutoRegister:      v.Bool(KeyAutoRegister),
		UseLatestVersion:  v.Bool(KeyUseLatestVersion),
		ScrubInvalidNames: v.Bool(KeyScrubInvalidNames),
	}
	if ttl := v.Long(KeyLatestCacheTTL); ttl > 0 {
		cfg.LatestTTL = time.Duration(ttl) * time.Second
	}
	key := KeyValSubjectStrategy
	if cfg.IsKey {
		key = KeyKeySubjectStrategy
	}
	cfg.SubjectStrategy, _ = parseStrategy(v.String(key))
	if len(cfg.URLs) == 0 || (len(cfg.URLs) == 1 && cfg.URLs[0] == "") {
		return Config{}, config.Errors{{Key: KeyRegistryURL, Message: "Missing required configuration \"schema.registry.url\" which has no default value."}}
	}
	if strings.EqualFold(v.String(KeyBasicAuthSource), "USER_INFO") {
		info := v.String(KeyBasicAuthUserInfo)
		user, pass, ok := strings.Cut(info, ":")
		if !ok || user == "" {
			return Config{}, config.Errors{{Key: KeyBasicAuthUserInfo, Message: "basic.auth.credentials.source=USER_INFO needs basic.auth.user.info as user:password"}}
		}
		cfg.User, cfg.Password = user, pass
	}
	tlsProps := map[string]string{}
	for _, k := range registry.TLSKeys {
		if _, ok := m[k]; ok {
			tlsProps[k] = v.String(k)
		}
	}
	if cfg.TLS, err = registry.TLSConfig(tlsProps); err != nil {
		return Config{}, config.Errors{{Key: errKey(err), Message: err.Error()}}
	}
	return cfg, nil
}

// errKey is the registry TLS key an error names.
func errKey(err error) string {
	for _, k := range registry.TLSKeys {
		if strings.Contains(err.Error(), k) {
			return k
		}
	}
	return registry.KeySSLTruststoreLocation
}

// FromMap builds a converter from its properties (prefix stripped). When
// schema.registry.url is "embedded", embedded is the client of the registry
// this process serves; it must then be non-nil.
func FromMap(props map[string]string, isKey bool, embedded *registry.Client) (*Converter, error) {
	cfg, err := ConfigFromMap(props, isKey)
	if err != nil {
		return nil, err
	}
	if len(cfg.URLs) == 1 && strings.EqualFold(strings.TrimSpace(cfg.URLs[0]), EmbeddedURL) {
		if embedded == nil {
			return nil, config.Errors{{Key: KeyRegistryURL, Message: "schema.registry.url=embedded but this process serves no schema registry"}}
		}
		cfg.Registry = embedded
	}
	return New(cfg)
}
