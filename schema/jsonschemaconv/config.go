package jsonschemaconv

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
	ClassName = "io.confluent.connect.json.JsonSchemaConverter"
	Alias     = "JsonSchemaConverter"
)

// Subject name strategies (key.subject.name.strategy / value.subject.name.strategy).
const (
	TopicNameStrategy       = "TopicNameStrategy"
	RecordNameStrategy      = "RecordNameStrategy"
	TopicRecordNameStrategy = "TopicRecordNameStrategy"
)

// Config keys, as Confluent's JsonSchemaConverterConfig,
// KafkaJsonSchemaSerializerConfig and JsonSchemaDataConfig name them
// (without the key.converter./value.converter. prefix).
const (
	KeyRegistryURL          = "schema.registry.url"
	KeyAutoRegister         = "auto.register.schemas"
	KeyUseLatestVersion     = "use.latest.version"
	KeyKeySubjectStrategy   = "key.subject.name.strategy"
	KeyValSubjectStrategy   = "value.subject.name.strategy"
	KeyFailInvalidSchema    = "json.fail.invalid.schema"
	KeyBasicAuthSource      = "basic.auth.credentials.source"
	KeyBasicAuthUserInfo    = "basic.auth.user.info"
	KeyRegistryUserInfo     = "schema.registry.basic.auth.user.info"
	KeyLatestCacheTTL       = "latest.cache.ttl.sec"
	KeyDecimalFormat        = "decimal.format"
	KeyAdditionalProperties = "object.additional.properties"
	KeyOptionalNonRequired  = "use.optional.for.nonrequired"
	KeySchemasCacheSize     = "schemas.cache.size"
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
	// UseLatestVersion writes with the id of the subject's latest schema
	// (use.latest.version); as in Confluent's serializer it applies only
	// with AutoRegister off.
	UseLatestVersion bool
	// SubjectStrategy is TopicNameStrategy (default), RecordNameStrategy or
	// TopicRecordNameStrategy; the record name is the schema's title.
	SubjectStrategy string
	// FailInvalidSchema validates every payload against its JSON schema,
	// writing and reading (json.fail.invalid.schema, default false).
	FailInvalidSchema bool
	// DecimalNumeric writes Decimals as JSON numbers (decimal.format=NUMERIC)
	// instead of base64 strings of the unscaled bytes (BASE64, the default).
	DecimalNumeric bool
	// NoAdditionalProperties writes "additionalProperties": false on struct
	// schemas (object.additional.properties=false).
	NoAdditionalProperties bool
	// OptionalForNonRequired reads properties not in "required" as optional
	// fields (use.optional.for.nonrequired).
	OptionalForNonRequired bool
	// User and Password are basic-auth credentials.
	User, Password string
	// LatestTTL bounds caching of the latest version (latest.cache.ttl.sec).
	LatestTTL time.Duration
	// TLS is the registry client's TLS (schema.registry.ssl.*).
	TLS *tls.Config
	// Registry, when set, is used instead of a client built from URLs.
	Registry *registry.Client
}

// DefaultConfig returns Confluent's defaults for a value converter.
func DefaultConfig() Config {
	return Config{AutoRegister: true, SubjectStrategy: TopicNameStrategy}
}

func (c Config) data() dataConfig {
	return dataConfig{decimalNumeric: c.DecimalNumeric, additionalProperties: !c.NoAdditionalProperties, optionalNonRequired: c.OptionalForNonRequired}
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
			Doc: "Serialize with the latest registered schema of the subject (with auto.register.schemas=false)."}).
		Define(config.Key{Name: KeyKeySubjectStrategy, Type: config.Class, Default: TopicNameStrategy, Importance: config.Medium,
			Doc: "Subject name strategy for keys.", Validator: strategyOK}).
		Define(config.Key{Name: KeyValSubjectStrategy, Type: config.Class, Default: TopicNameStrategy, Importance: config.Medium,
			Doc: "Subject name strategy for values.", Validator: strategyOK}).
		Define(config.Key{Name: KeyFailInvalidSchema, Type: config.Boolean, Default: false, Importance: config.Medium,
			Doc: "Validate every payload against its JSON schema, writing and reading; an invalid one fails the record."}).
		Define(config.Key{Name: KeyBasicAuthSource, Type: config.String, Default: "URL", Importance: config.Medium,
			Doc: "Where basic-auth credentials come from: URL or USER_INFO.", Validator: config.OneOf("URL", "USER_INFO")}).
		Define(config.Key{Name: KeyBasicAuthUserInfo, Type: config.Password, Default: "", Importance: config.Medium,
			Doc: "user:password for basic.auth.credentials.source=USER_INFO.", Aliases: []string{KeyRegistryUserInfo}}).
		Define(config.Key{Name: KeyLatestCacheTTL, Type: config.Long, Default: int64(-1), Importance: config.Low,
			Doc: "Seconds the latest version of a subject stays cached; -1 forever."}).
		Define(config.Key{Name: KeyDecimalFormat, Type: config.String, Default: DecimalBase64, Importance: config.Low,
			Doc:       "How Decimals are written: BASE64 (a string of the unscaled bytes) or NUMERIC (a JSON number).",
			Validator: config.OneOf(DecimalBase64, DecimalNumeric)}).
		Define(config.Key{Name: KeyAdditionalProperties, Type: config.Boolean, Default: true, Importance: config.Low,
			Doc: "Whether struct schemas allow additional properties (false writes \"additionalProperties\": false)."}).
		Define(config.Key{Name: KeyOptionalNonRequired, Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Read properties that are not required as optional fields."}).
		Define(config.Key{Name: KeySchemasCacheSize, Type: config.Int, Default: 1000, Importance: config.Low,
			Doc: "Accepted for compatibility; schemas are cached per schema version."}).
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
// name the key (config.Errors); an undeclared key is one. A URL of "embedded" is kept; the runtime must
// set Config.Registry to the embedded registry's client.
func ConfigFromMap(m map[string]string, isKey bool) (Config, error) {
	def := ConfigDef()
	if unknown := def.Unknown(m); len(unknown) > 0 {
		var errs config.Errors
		for _, k := range unknown {
			errs = append(errs, config.KeyError{Key: k, Message: "unknown JsonSchemaConverter key " + k})
		}
		return Config{}, errs
	}
	v, err := def.Parse(m)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		IsKey:                  isKey || strings.EqualFold(v.String("converter.type"), "key"),
		URLs:                   v.List(KeyRegistryURL),
		AutoRegister:           v.Bool(KeyAutoRegister),
		UseLatestVersion:       v.Bool(KeyUseLatestVersion),
		FailInvalidSchema:      v.Bool(KeyFailInvalidSchema),
		DecimalNumeric:         v.String(KeyDecimalFormat) == DecimalNumeric,
		NoAdditionalProperties: !v.Bool(KeyAdditionalProperties),
		OptionalForNonRequired: v.Bool(KeyOptionalNonRequired),
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
		user, pass, ok := strings.Cut(v.String(KeyBasicAuthUserInfo), ":")
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
