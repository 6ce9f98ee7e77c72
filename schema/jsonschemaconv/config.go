package jsonschemaconv

import (
	"crypto/tls"
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
	TopicNameStrategy       = registry.TopicNameStrategy
	RecordNameStrategy      = registry.RecordNameStrategy
	TopicRecordNameStrategy = registry.TopicRecordNameStrategy
)

// Config keys, as Confluent's JsonSchemaConverterConfig,
// KafkaJsonSchemaSerializerConfig and JsonSchemaDataConfig name them
// (without the key.converter./value.converter. prefix).
const (
	KeyRegistryURL          = registry.KeyURL
	KeyAutoRegister         = registry.KeyAutoRegister
	KeyUseLatestVersion     = registry.KeyUseLatestVersion
	KeyKeySubjectStrategy   = registry.KeyKeySubjectStrategy
	KeyValSubjectStrategy   = registry.KeyValueSubjectStrategy
	KeyFailInvalidSchema    = "json.fail.invalid.schema"
	KeyBasicAuthSource      = registry.KeyBasicAuthSource
	KeyBasicAuthUserInfo    = registry.KeyBasicAuthUserInfo
	KeyRegistryUserInfo     = registry.KeyRegistryUserInfo
	KeyLatestCacheTTL       = registry.KeyLatestCacheTTL
	KeyDecimalFormat        = "decimal.format"
	KeyAdditionalProperties = "object.additional.properties"
	KeyOptionalNonRequired  = "use.optional.for.nonrequired"
	KeySchemasCacheSize     = "schemas.cache.size"
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
	return registry.DefineSerdeKeys(config.NewDef()).
		Define(config.Key{Name: KeyFailInvalidSchema, Type: config.Boolean, Default: false, Importance: config.Medium,
			Doc: "Validate every payload against its JSON schema, writing and reading; an invalid one fails the record."}).
		Define(config.Key{Name: KeyDecimalFormat, Type: config.String, Default: DecimalBase64, Importance: config.Low,
			Doc:       "How Decimals are written: BASE64 (a string of the unscaled bytes) or NUMERIC (a JSON number).",
			Validator: config.OneOf(DecimalBase64, DecimalNumeric)}).
		Define(config.Key{Name: KeyAdditionalProperties, Type: config.Boolean, Default: true, Importance: config.Low,
			Doc: "Whether struct schemas allow additional properties (false writes \"additionalProperties\": false)."}).
		Define(config.Key{Name: KeyOptionalNonRequired, Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Read properties that are not required as optional fields."}).
		Define(config.Key{Name: KeySchemasCacheSize, Type: config.Int, Default: 1000, Importance: config.Low,
			Doc: "Accepted for compatibility; schemas are cached per schema version."})
}

func parseStrategy(s string) (string, error) { return registry.ParseSubjectStrategy(s) }

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
	sd, err := registry.ParseSerde(v, m, isKey)
	if err != nil {
		return Config{}, err
	}
	return Config{
		IsKey: sd.IsKey, URLs: sd.URLs, AutoRegister: sd.AutoRegister, UseLatestVersion: sd.UseLatestVersion,
		SubjectStrategy: sd.SubjectStrategy, User: sd.User, Password: sd.Password, LatestTTL: sd.LatestTTL, TLS: sd.TLS,
		FailInvalidSchema:      v.Bool(KeyFailInvalidSchema),
		DecimalNumeric:         v.String(KeyDecimalFormat) == DecimalNumeric,
		NoAdditionalProperties: !v.Bool(KeyAdditionalProperties),
		OptionalForNonRequired: v.Bool(KeyOptionalNonRequired),
	}, nil
}
