package protoconv

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
	ClassName = "io.confluent.connect.protobuf.ProtobufConverter"
	Alias     = "ProtobufConverter"
)

// Subject name strategies (key.subject.name.strategy / value.subject.name.strategy).
const (
	TopicNameStrategy       = registry.TopicNameStrategy
	RecordNameStrategy      = registry.RecordNameStrategy
	TopicRecordNameStrategy = registry.TopicRecordNameStrategy

	// DefaultReferenceSubjectNameStrategy names a reference's subject after
	// its import path (the only reference.subject.name.strategy offered).
	DefaultReferenceSubjectNameStrategy = "DefaultReferenceSubjectNameStrategy"
)

// Config keys, as Confluent's ProtobufConverterConfig, ProtobufDataConfig
// and KafkaProtobufSerializerConfig name them (without the
// key.converter./value.converter. prefix).
const (
	KeyRegistryURL            = registry.KeyURL
	KeyAutoRegister           = registry.KeyAutoRegister
	KeyUseLatestVersion       = registry.KeyUseLatestVersion
	KeyKeySubjectStrategy     = registry.KeyKeySubjectStrategy
	KeyValSubjectStrategy     = registry.KeyValueSubjectStrategy
	KeyBasicAuthSource        = registry.KeyBasicAuthSource
	KeyBasicAuthUserInfo      = registry.KeyBasicAuthUserInfo
	KeyRegistryUserInfo       = registry.KeyRegistryUserInfo
	KeyLatestCacheTTL         = registry.KeyLatestCacheTTL
	KeySchemasCacheSize       = "schemas.cache.size"
	KeyScrubInvalidNames      = "scrub.invalid.names"
	KeyEnhancedSchemaSupport  = "enhanced.protobuf.schema.support"
	KeyIntForEnums            = "int.for.enums"
	KeyOptionalForNullables   = "optional.for.nullables"
	KeyOptionalForProto2      = "optional.for.proto2"
	KeyWrapperForNullables    = "wrapper.for.nullables"
	KeyWrapperForRawPrimitive = "wrapper.for.raw.primitives"
	KeyGenerateStructForNulls = "generate.struct.for.nulls"
	KeyGenerateIndexForUnions = "generate.index.for.unions"
	KeyFlattenUnions          = "flatten.unions"
	KeySkipKnownTypes         = "skip.known.types"
	KeyReferenceLookupOnly    = "reference.lookup.only"
	KeyReferenceSubjectStrat  = "reference.subject.name.strategy"
	KeyLatestCompatStrict     = "latest.compatibility.strict"
)

// EmbeddedURL is the schema.registry.url value that means "the registry this
// process serves" (the runtime then rewrites it or sets Config.Registry).
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
	// (use.latest.version; only with AutoRegister off, as Confluent's
	// serializer). The record's message must be in that schema.
	UseLatestVersion bool
	// LatestCompatStrict (latest.compatibility.strict, default true) refuses
	// to write with a latest schema that cannot read what the record's own
	// schema writes (Confluent's isBackwardCompatible sanity check).
	LatestCompatStrict bool
	// SubjectStrategy is TopicNameStrategy (default), RecordNameStrategy or
	// TopicRecordNameStrategy.
	SubjectStrategy string
	// SkipKnownTypes (skip.known.types, default true as in Confluent 7+)
	// registers no references for the dependencies every registry knows
	// (google/protobuf/*, google/type/*, confluent/*). With false, imports
	// are registered as references under subjects named after their import
	// path (DefaultReferenceSubjectNameStrategy).
	SkipKnownTypes bool
	// ReferenceLookupOnly (reference.lookup.only) looks references up
	// instead of registering them.
	ReferenceLookupOnly bool
	// User and Password are basic-auth credentials.
	User, Password string
	// LatestTTL bounds caching of the latest version (latest.cache.ttl.sec).
	LatestTTL time.Duration
	// CacheSize bounds each schema cache (schemas.cache.size).
	CacheSize int
	// TLS is the registry client's TLS (schema.registry.ssl.*).
	TLS *tls.Config
	// Data are the Connect ↔ Protobuf mapping switches.
	Data Options
	// Registry, when set, is used instead of a client built from URLs.
	Registry *registry.Client
}

// DefaultConfig returns Confluent's defaults for a value converter.
func DefaultConfig() Config {
	return Config{AutoRegister: true, LatestCompatStrict: true, SubjectStrategy: TopicNameStrategy, SkipKnownTypes: true, CacheSize: 1000, Data: DefaultOptions()}
}

// ConfigDef returns the definition of the converter's keys.
func ConfigDef() *config.Def {
	boolKey := func(name string, def bool, doc string) config.Key {
		return config.Key{Name: name, Type: config.Boolean, Default: def, Importance: config.Low, Doc: doc}
	}
	d := registry.DefineSerdeKeys(config.NewDef()).
		Define(config.Key{Name: KeyLatestCompatStrict, Type: config.Boolean, Default: true, Importance: config.Low,
			Doc: "With use.latest.version: refuse a latest schema that cannot read the record's schema (backward compatibility check)."}).
		Define(config.Key{Name: KeySchemasCacheSize, Type: config.Int, Default: 1000, Importance: config.Low,
			Doc: "Bound of each schema cache (derived schemas, writers, readers).", Validator: config.AtLeast(1)}).
		Define(boolKey(KeyScrubInvalidNames, false, "Replace characters that are invalid in Protobuf names.")).
		Define(boolKey(KeyEnhancedSchemaSupport, false, "Read structs and enums with their full Protobuf names (package preserved).")).
		Define(boolKey(KeyIntForEnums, false, "Read enums as int32 instead of string.")).
		Define(boolKey(KeyOptionalForNullables, false, "Write optional Connect fields with proto3's optional label, and read only labelled fields as optional.")).
		Define(boolKey(KeyOptionalForProto2, true, "Treat proto2 optional fields as optional (with optional.for.nullables).")).
		Define(boolKey(KeyWrapperForNullables, false, "Write optional primitives as google.protobuf wrapper messages and read wrappers as optional primitives.")).
		Define(boolKey(KeyWrapperForRawPrimitive, true, "Read a root wrapper message as its primitive.")).
		Define(boolKey(KeyGenerateStructForNulls, false, "Read an unset message field as a struct of defaults instead of null.")).
		Define(boolKey(KeyGenerateIndexForUnions, true, "Suffix the Connect field of a oneof with _<index>.")).
		Define(boolKey(KeyFlattenUnions, false, "Read oneof members as plain optional fields.")).
		Define(boolKey(KeySkipKnownTypes, true, "Register no references for well-known dependencies (google/protobuf/*, google/type/*, confluent/*).")).
		Define(boolKey(KeyReferenceLookupOnly, false, "Only look up references, never register them.")).
		Define(config.Key{Name: KeyReferenceSubjectStrat, Type: config.Class, Default: DefaultReferenceSubjectNameStrategy, Importance: config.Low,
			Doc: "How references' subjects are named; only DefaultReferenceSubjectNameStrategy (the import path) is supported.",
			Validator: func(v any) error {
				s, _ := v.(string)
				if strings.TrimPrefix(s, "io.confluent.kafka.serializers.subject.") != DefaultReferenceSubjectNameStrategy {
					return fmt.Errorf("only %s is supported", DefaultReferenceSubjectNameStrategy)
				}
				return nil
			}})
	return d
}

func parseStrategy(s string) (string, error) { return registry.ParseSubjectStrategy(s) }

// ConfigFromMap reads the converter keys (prefix stripped). Errors name the
// key (config.Errors). A URL of "embedded" is kept.
//
// Keys the converter does not know (Confluent's normalize.schemas,
// generalized.sum.type.support, bearer.auth.*, …) are refused by name rather
// than ignored.
func ConfigFromMap(m map[string]string, isKey bool) (Config, error) {
	def := ConfigDef()
	v, err := def.Parse(m)
	if err != nil {
		return Config{}, err
	}
	if unknown := def.Unknown(m); len(unknown) > 0 {
		var errs config.Errors
		for _, k := range unknown {
			errs = append(errs, config.KeyError{Key: k, Message: "not a ProtobufConverter key this converter supports"})
		}
		return Config{}, errs
	}
	sd, err := registry.ParseSerde(v, m, isKey)
	if err != nil {
		return Config{}, err
	}
	return Config{
		IsKey: sd.IsKey, URLs: sd.URLs, AutoRegister: sd.AutoRegister, UseLatestVersion: sd.UseLatestVersion,
		SubjectStrategy: sd.SubjectStrategy, User: sd.User, Password: sd.Password, LatestTTL: sd.LatestTTL, TLS: sd.TLS,
		LatestCompatStrict:  v.Bool(KeyLatestCompatStrict),
		SkipKnownTypes:      v.Bool(KeySkipKnownTypes),
		ReferenceLookupOnly: v.Bool(KeyReferenceLookupOnly),
		CacheSize:           v.Int(KeySchemasCacheSize),
		Data: Options{
			ScrubInvalidNames:       v.Bool(KeyScrubInvalidNames),
			OptionalForNullables:    v.Bool(KeyOptionalForNullables),
			WrapperForNullables:     v.Bool(KeyWrapperForNullables),
			EnhancedSchemaSupport:   v.Bool(KeyEnhancedSchemaSupport),
			IntForEnums:             v.Bool(KeyIntForEnums),
			GenerateIndexForUnions:  v.Bool(KeyGenerateIndexForUnions),
			FlattenUnions:           v.Bool(KeyFlattenUnions),
			GenerateStructForNulls:  v.Bool(KeyGenerateStructForNulls),
			WrapperForRawPrimitives: v.Bool(KeyWrapperForRawPrimitive),
			OptionalForProto2:       v.Bool(KeyOptionalForProto2),
		},
	}, nil
}
