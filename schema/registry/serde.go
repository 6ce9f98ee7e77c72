package registry

// The registry-client keys every registry-backed converter takes (Confluent's
// AbstractKafkaSchemaSerDeConfig: AvroConverter, ProtobufConverter and
// JsonSchemaConverter read the same ones), defined and parsed once here.

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Keys of the registry client, as Confluent names them (without the
// key.converter./value.converter. prefix).
const (
	KeyURL                  = "schema.registry.url"
	KeyAutoRegister         = "auto.register.schemas"
	KeyUseLatestVersion     = "use.latest.version"
	KeyKeySubjectStrategy   = "key.subject.name.strategy"
	KeyValueSubjectStrategy = "value.subject.name.strategy"
	KeyBasicAuthSource      = "basic.auth.credentials.source"
	KeyBasicAuthUserInfo    = "basic.auth.user.info"
	KeyRegistryUserInfo     = "schema.registry.basic.auth.user.info"
	KeyLatestCacheTTL       = "latest.cache.ttl.sec"
	KeyConverterType        = "converter.type"
)

// Subject name strategies (key.subject.name.strategy /
// value.subject.name.strategy), without Confluent's package prefix.
const (
	TopicNameStrategy       = "TopicNameStrategy"
	RecordNameStrategy      = "RecordNameStrategy"
	TopicRecordNameStrategy = "TopicRecordNameStrategy"
)

// EmbeddedURL is the schema.registry.url value that means "the registry this
// process serves".
const EmbeddedURL = "embedded"

const strategyPrefix = "io.confluent.kafka.serializers.subject."

// ParseSubjectStrategy returns the strategy s names (with or without
// Confluent's package prefix; empty is TopicNameStrategy).
func ParseSubjectStrategy(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), strategyPrefix)
	switch s {
	case "", TopicNameStrategy:
		return TopicNameStrategy, nil
	case RecordNameStrategy, TopicRecordNameStrategy:
		return s, nil
	}
	return "", fmt.Errorf("unknown subject name strategy %q", s)
}

// DefineSerdeKeys declares the registry-client keys on d.
func DefineSerdeKeys(d *config.Def) *config.Def {
	strategyOK := func(v any) error {
		s, _ := v.(string)
		if _, err := ParseSubjectStrategy(s); err != nil {
			return fmt.Errorf("must be one of %s, %s, %s (optionally with the %s prefix)", TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy, strategyPrefix)
		}
		return nil
	}
	d.Define(config.Key{Name: KeyURL, Type: config.List, Default: config.NoDefault, Importance: config.High,
		Doc: "Comma-separated list of schema registry URLs, or \"embedded\" for the registry this process serves."}).
		Define(config.Key{Name: KeyAutoRegister, Type: config.Boolean, Default: true, Importance: config.Medium,
			Doc: "Register new schemas automatically."}).
		Define(config.Key{Name: KeyUseLatestVersion, Type: config.Boolean, Default: false, Importance: config.Low,
			Doc: "Serialize with the latest registered schema of the subject (with auto.register.schemas=false)."}).
		Define(config.Key{Name: KeyKeySubjectStrategy, Type: config.Class, Default: TopicNameStrategy, Importance: config.Medium,
			Doc: "Subject name strategy for keys.", Validator: strategyOK}).
		Define(config.Key{Name: KeyValueSubjectStrategy, Type: config.Class, Default: TopicNameStrategy, Importance: config.Medium,
			Doc: "Subject name strategy for values.", Validator: strategyOK}).
		Define(config.Key{Name: KeyBasicAuthSource, Type: config.String, Default: "URL", Importance: config.Medium,
			Doc: "Where basic-auth credentials come from: URL or USER_INFO.", Validator: config.OneOf("URL", "USER_INFO")}).
		Define(config.Key{Name: KeyBasicAuthUserInfo, Type: config.Password, Default: "", Importance: config.Medium,
			Doc: "user:password for basic.auth.credentials.source=USER_INFO.", Aliases: []string{KeyRegistryUserInfo}}).
		Define(config.Key{Name: KeyLatestCacheTTL, Type: config.Long, Default: int64(-1), Importance: config.Low,
			Doc: "Seconds the latest version of a subject stays cached; -1 forever."}).
		Define(config.Key{Name: KeyConverterType, Type: config.String, Default: "", Importance: config.Low,
			Doc: "How this converter is used: key, value or header."})
	for _, k := range TLSKeys {
		typ := config.String
		if strings.HasSuffix(k, "password") || k == KeySSLKeystoreKey {
			typ = config.Password
		}
		d.Define(config.Key{Name: k, Type: typ, Default: "", Importance: config.Low,
			Doc: "Registry client TLS (Confluent's " + k + ")."})
	}
	return d
}

// Serde is what the registry-client keys configure.
type Serde struct {
	// IsKey: the converter serves record keys (the caller said so, or
	// converter.type=key).
	IsKey bool
	// URLs are the registry base URLs (schema.registry.url); a single
	// "embedded" names the registry this process serves.
	URLs []string
	// AutoRegister registers schemas not in the registry yet.
	AutoRegister bool
	// UseLatestVersion writes with the subject's latest registered schema.
	UseLatestVersion bool
	// SubjectStrategy is the strategy of the key or value subject.
	SubjectStrategy string
	// User and Password are basic-auth credentials from
	// basic.auth.user.info with basic.auth.credentials.source=USER_INFO
	// (URL user-info is read by the client).
	User, Password string
	// LatestTTL bounds caching of the latest version (0: forever).
	LatestTTL time.Duration
	// TLS is the client's TLS from schema.registry.ssl.* (nil: system roots).
	TLS *tls.Config
}

// ParseSerde reads the registry-client keys from v, parsed by a Def that
// DefineSerdeKeys declared them on; raw is what v was parsed from (the TLS
// keys given). Errors name the key.
func ParseSerde(v *config.Values, raw map[string]string, isKey bool) (Serde, error) {
	s := Serde{
		IsKey:            isKey || strings.EqualFold(v.String(KeyConverterType), "key"),
		URLs:             v.List(KeyURL),
		AutoRegister:     v.Bool(KeyAutoRegister),
		UseLatestVersion: v.Bool(KeyUseLatestVersion),
	}
	if ttl := v.Long(KeyLatestCacheTTL); ttl > 0 {
		s.LatestTTL = time.Duration(ttl) * time.Second
	}
	key := KeyValueSubjectStrategy
	if s.IsKey {
		key = KeyKeySubjectStrategy
	}
	s.SubjectStrategy, _ = ParseSubjectStrategy(v.String(key)) // checked by the Def's validator
	if len(s.URLs) == 0 || (len(s.URLs) == 1 && s.URLs[0] == "") {
		return Serde{}, config.Errors{{Key: KeyURL, Message: "Missing required configuration \"schema.registry.url\" which has no default value."}}
	}
	if strings.EqualFold(v.String(KeyBasicAuthSource), "USER_INFO") {
		user, pass, ok := strings.Cut(v.String(KeyBasicAuthUserInfo), ":")
		if !ok || user == "" {
			return Serde{}, config.Errors{{Key: KeyBasicAuthUserInfo, Message: "basic.auth.credentials.source=USER_INFO needs basic.auth.user.info as user:password"}}
		}
		s.User, s.Password = user, pass
	}
	tlsProps := map[string]string{}
	for _, k := range TLSKeys {
		if _, ok := raw[k]; ok {
			tlsProps[k] = v.String(k)
		}
	}
	var err error
	if s.TLS, err = TLSConfig(tlsProps); err != nil {
		return Serde{}, config.Errors{{Key: tlsErrKey(err), Message: err.Error()}}
	}
	return s, nil
}

// SerdeClient returns reg when it is set (the embedded registry, or a client
// shared by a key and a value converter), else a client built from o. URLs
// that name the embedded registry without reg are an error: nothing serves
// it. The registry-backed converters' New calls it.
func SerdeClient(reg *Client, o ClientOptions) (*Client, error) {
	if reg != nil {
		return reg, nil
	}
	if IsEmbeddedURL(o.URLs) {
		return nil, fmt.Errorf("schema.registry.url=%s but no embedded registry was started", EmbeddedURL)
	}
	return NewClient(o)
}

// IsEmbeddedURL reports whether schema.registry.url's URLs name the
// registry this process serves.
func IsEmbeddedURL(urls []string) bool {
	return len(urls) == 1 && strings.EqualFold(strings.TrimSpace(urls[0]), EmbeddedURL)
}

// tlsErrKey is the TLS key an error of TLSConfig names.
func tlsErrKey(err error) string {
	for _, k := range TLSKeys {
		if strings.Contains(err.Error(), k) {
			return k
		}
	}
	return KeySSLTruststoreLocation
}
