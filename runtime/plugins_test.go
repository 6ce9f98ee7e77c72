package runtime_test

import (
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/runtime"
)

// Every converter name the worker accepted before the registry held the
// converters (the alias map and switch of runtime/converters.go) is still
// accepted, and an unknown one gets the same error.
func TestStandardConverterNames(t *testing.T) {
	reg := connector.NewRegistry().Register(runtime.StandardPlugins()...)
	for _, name := range []string{
		"org.apache.kafka.connect.json.JsonConverter", "JsonConverter",
		"org.apache.kafka.connect.storage.StringConverter", "StringConverter",
		"org.apache.kafka.connect.converters.ByteArrayConverter", "ByteArrayConverter",
		"io.confluent.connect.avro.AvroConverter", "AvroConverter",
		"io.confluent.connect.protobuf.ProtobufConverter", "ProtobufConverter",
		"io.confluent.connect.json.JsonSchemaConverter", "JsonSchemaConverter",
		" JsonConverter ",
	} {
		props := map[string]string{"schema.registry.url": "http://localhost:8081", "converter.type": "value"}
		if c, err := reg.NewConverter(name, props, false); err != nil || c == nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	_, err := reg.NewConverter("com.example.Nope", nil, false)
	const want = `converter class "com.example.Nope" not found (JsonConverter, StringConverter, ByteArrayConverter, AvroConverter, ProtobufConverter, JsonSchemaConverter)`
	if err == nil || err.Error() != want {
		t.Errorf("unknown converter: %v, want %s", err, want)
	}
	// The header converter and the transforms are there too, under the
	// names the transforms catalog accepted.
	for _, c := range []struct {
		t    connector.Type
		name string
	}{
		{connector.HeaderConverter, "org.apache.kafka.connect.storage.SimpleHeaderConverter"},
		{connector.Transformation, "org.apache.kafka.connect.transforms.InsertField$Value"},
		{connector.Transformation, "InsertField$Value"},
		{connector.Transformation, "io.debezium.transforms.UnwrapFromEnvelope"},
		{connector.Transformation, "ExtractNewRecordState"},
		{connector.Predicate, "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"},
		{connector.Predicate, "TopicNameMatches"},
	} {
		if _, ok := reg.Find(c.t, c.name); !ok {
			t.Errorf("%s %s not found", c.t, c.name)
		}
	}
	if _, ok := reg.Find(connector.Transformation, "TopicNameMatches"); ok {
		t.Error("a predicate found as a transformation")
	}
}
