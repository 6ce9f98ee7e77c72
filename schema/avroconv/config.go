package avroconv

import (
	"crypto/tls"
	"fmt"
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
	TopicNameStrategy       = registry.TopicNameStrategy
	RecordNameStrategy      = registry.RecordNameStrategy
	TopicRecordNameStrategy = registry.TopicRecordNameStrategy
)

// Config keys, as Confluent's AvroConverterConfig names them (without the
// key.converter./value.converter. prefix).
const (
	KeyRegistryURL         = registry.KeyURL
	KeyAutoRegister        = registry.KeyAutoRegister
	KeyUseLatestVersion    = registry.KeyUseLatestVersion
	KeyKeySubjectStrategy  = registry.KeyKeySubjectStrategy
	KeyValSubjectStrategy  = registry.KeyValueSubjectStrategy
	KeyBasicAuthSource     = registry.KeyBasicAuthSource
	KeyBasicAuthUserInfo   = registry.KeyBasicAuthUserInfo
	KeyRegistryUserInfo    = registry.KeyRegistryUserInfo
	KeyScrubInvalidNames   = "scrub.invalid.names"
	KeyLatestCacheTTL      = registry.KeyLatestCacheTTL
	KeyConnectMetaData     = "connect.meta.data"
	KeySchemasCacheSize    = "schemas.cache.size"
	KeyEnhancedAvroSupport = "enhanced.avro.schema.support"
)

// EmbeddedURL is the schema.registry.url value that means "the registry this
// process serves" (the runtime then sets Config.Registry).
const EmbeddedURL = registry.EmbeddedURL

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
	return registry.DefineSerdeKeys(config.NewDef()).
		Define(config.Key{Name: KeyScrubInvalidNames, Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Replace characters that are invalid in Avro names."}).
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
			Doc: "Accepted for compatibility; enums are read as strings with Confluent's parameters."})
}

func parseStrategy(s string) (string, error) { return registry.ParseSubjectStrategy(s) }

// ConfigFromMap reads the converter keys (prefix stripped). isKey selects
// key.subject.name.strategy instead of value.subject.name.strategy. Errors
// name the key (config.Errors). A URL of "embedded" is kept; the runtime must
// set Config.Registry to the embedded registry's client.
func ConfigFromMap(m map[string]string, isKey bool) (Config, error) {
	v, err := ConfigDef().Parse(m)
	if err != nil {
		return Config{}, err
	}
	sd, err := registry.ParseSerde(v, m, isKey)
	if err != nil {
		return Config{}, err
	}
	return Config{
		IsKey: sd.IsKey, URLs: sd.URLs, AutoRegister: sd.AutoRegister, UseLatestVersion: sd.UseLatestVersion,
		SubjectStrategy: sd.SubjectStrategy, User: sd.User, Password: sd.Password, LatestTTL: sd.LatestTTL, TLS: sd.TLS,
		ScrubInvalidNames: v.Bool(KeyScrubInvalidNames),
	}, nil
}

// FromMap builds a converter from its properties (prefix stripped). When
// schema.registry.url is "embedded", embedded is the client of the registry
// this process serves; it must then be non-nil.
func FromMap(props map[string]string, isKey bool, embedded *registry.Client) (*Converter, error) {
	cfg, err := ConfigFromMap(props, isKey)
	if err != nil {
		return nil, err
	}
	if registry.IsEmbeddedURL(cfg.URLs) {
		if embedded == nil {
			return nil, config.Errors{{Key: KeyRegistryURL, Message: "schema.registry.url=embedded but this process serves no schema registry"}}
		}
		cfg.Registry = embedded
	}
	return New(cfg)
}
