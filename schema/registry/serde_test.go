package registry

import (
	"errors"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
)

// The registry-client keys, as Confluent's serde configs read them.
func TestParseSerde(t *testing.T) {
	parse := func(m map[string]string, isKey bool) (Serde, error) {
		v, err := DefineSerdeKeys(config.NewDef()).Parse(m)
		if err != nil {
			return Serde{}, err
		}
		return ParseSerde(v, m, isKey)
	}
	s, err := parse(map[string]string{
		"schema.registry.url":           "http://a:8081,http://b:8081",
		"key.subject.name.strategy":     "io.confluent.kafka.serializers.subject.RecordNameStrategy",
		"basic.auth.credentials.source": "USER_INFO",
		"basic.auth.user.info":          "fred:s3:cret",
		"latest.cache.ttl.sec":          "30",
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsKey || len(s.URLs) != 2 || !s.AutoRegister || s.UseLatestVersion || s.SubjectStrategy != RecordNameStrategy ||
		s.User != "fred" || s.Password != "s3:cret" || s.LatestTTL != 30*time.Second || s.TLS != nil {
		t.Fatalf("parsed %+v", s)
	}
	// A value converter uses value.subject.name.strategy; converter.type=key
	// makes it a key converter.
	if s, _ := parse(map[string]string{"schema.registry.url": "embedded", "key.subject.name.strategy": "RecordNameStrategy"}, false); s.IsKey || s.SubjectStrategy != TopicNameStrategy || !IsEmbeddedURL(s.URLs) {
		t.Fatalf("value converter: %+v", s)
	}
	if s, _ := parse(map[string]string{"schema.registry.url": "embedded", "converter.type": "key"}, false); !s.IsKey {
		t.Fatalf("converter.type=key: %+v", s)
	}
	for _, c := range []struct {
		m   map[string]string
		key string
	}{
		{map[string]string{}, KeyURL},
		{map[string]string{"schema.registry.url": "http://a", "value.subject.name.strategy": "MyStrategy"}, KeyValueSubjectStrategy},
		// Confluent's SASL_INHERIT needs the Kafka client's SASL login, which
		// a converter does not see: refused, not accepted and ignored.
		{map[string]string{"schema.registry.url": "http://a", "basic.auth.credentials.source": "SASL_INHERIT"}, KeyBasicAuthSource},
		{map[string]string{"schema.registry.url": "http://a", "basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": "nopassword"}, KeyBasicAuthUserInfo},
		{map[string]string{"schema.registry.url": "https://a", "schema.registry.ssl.truststore.location": "/nonexistent/ts.pem"}, KeySSLTruststoreLocation},
	} {
		_, err := parse(c.m, false)
		var errs config.Errors
		if !errors.As(err, &errs) || len(errs) == 0 || errs[0].Key != c.key {
			t.Errorf("%v: error %v, want one naming %s", c.m, err, c.key)
		}
	}
}
