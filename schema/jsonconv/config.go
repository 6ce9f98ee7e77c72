package jsonconv

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Decimal formats (decimal.format).
const (
	DecimalBase64  = "BASE64"
	DecimalNumeric = "NUMERIC"
)

// Converter config keys, as JsonConverterConfig names them (without the
// key.converter./value.converter. prefix).
const (
	KeySchemasEnable          = "schemas.enable"
	KeySchemasCacheSize       = "schemas.cache.size"
	KeyDecimalFormat          = "decimal.format"
	KeyReplaceNullWithDefault = "replace.null.with.default"
)

// DefaultCacheSize is schemas.cache.size's default.
const DefaultCacheSize = 1000

// Config configures a Converter.
type Config struct {
	// SchemasEnable writes and requires the {"schema","payload"} envelope
	// (schemas.enable). Connect's default is true; use DefaultConfig for it.
	SchemasEnable bool
	// DecimalFormat is BASE64 (default when empty) or NUMERIC, case-insensitive.
	DecimalFormat string
	// IsKey says the converter serves record keys.
	IsKey bool
	// ReplaceNullWithDefault writes/reads a schema's default in place of null
	// (replace.null.with.default, Connect's default true).
	ReplaceNullWithDefault bool
	// CacheSize bounds each schema cache (schemas.cache.size); 0 means 1000,
	// a negative value disables caching.
	CacheSize int
}

// DefaultConfig returns Connect's defaults: schemas on, BASE64 decimals,
// nulls replaced by defaults.
func DefaultConfig() Config {
	return Config{SchemasEnable: true, DecimalFormat: DecimalBase64, ReplaceNullWithDefault: true, CacheSize: DefaultCacheSize}
}

// ConfigDef returns the definition of JsonConverter's keys (for validation
// and documentation), with JsonConverterConfig's groups, display names and
// documentation (GET /connector-plugins/JsonConverter/config).
func ConfigDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeySchemasEnable, Type: config.Boolean, Default: true, Importance: config.High,
			Group: "Schemas", OrderInGroup: 0, DisplayName: "Enable Schemas",
			Doc: "Include schemas within each of the serialized values and keys."}).
		Define(config.Key{Name: KeySchemasCacheSize, Type: config.Int, Default: DefaultCacheSize, Importance: config.High,
			Group: "Schemas", OrderInGroup: 1, DisplayName: "Schema Cache Size",
			Doc: "The maximum number of schemas that can be cached in this converter instance.", Validator: config.AtLeast(0)}).
		Define(config.Key{Name: KeyDecimalFormat, Type: config.String, Default: DecimalBase64, Importance: config.Low,
			Group: "Serialization", OrderInGroup: 0, DisplayName: "Decimal Format",
			Doc:       "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
			Validator: oneOfCI(DecimalBase64, DecimalNumeric)}).
		Define(config.Key{Name: KeyReplaceNullWithDefault, Type: config.Boolean, Default: true, Importance: config.Low,
			Group: "Serialization", OrderInGroup: 1, DisplayName: "Replace null with default",
			Doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."}).
		Define(config.Key{Name: "converter.type", Type: config.String, Default: "", Importance: config.Low,
			Doc: "How this converter will be used.", Validator: oneOfCI("", "key", "value", "header")})
}

func oneOfCI(allowed ...string) config.Validator {
	return func(v any) error {
		s, _ := v.(string)
		for _, a := range allowed {
			if strings.EqualFold(a, s) {
				return nil
			}
		}
		return fmt.Errorf("String must be one of (case insensitive): %s", strings.Join(allowed, ", "))
	}
}

// ConfigFromMap reads Connect's converter keys from m, whose key.converter. or
// value.converter. prefix has already been stripped. Keys it does not know
// are ignored (converters share the prefix with other settings). IsKey comes
// from converter.type=key when present. Errors name the key (config.Errors).
func ConfigFromMap(m map[string]string) (Config, error) {
	v, err := ConfigDef().Parse(m)
	if err != nil {
		return Config{}, err
	}
	return Config{
		SchemasEnable:          v.Bool(KeySchemasEnable),
		DecimalFormat:          strings.ToUpper(v.String(KeyDecimalFormat)),
		IsKey:                  strings.EqualFold(v.String("converter.type"), "key"),
		ReplaceNullWithDefault: v.Bool(KeyReplaceNullWithDefault),
		CacheSize:              cacheSize(v.Int(KeySchemasCacheSize)),
	}, nil
}

func cacheSize(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
