package pipelines

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// jsonSchemaConverters are the converter keys a Confluent user writes for
// JSON Schema through the worker's embedded registry. Struct schemas are
// closed (object.additional.properties=false): under the registry's default
// BACKWARD rule Confluent's STRICT JSON Schema policy accepts a property
// added to a closed model, not to an open one, so added columns need it,
// with Confluent's registry as with ours.
var jsonSchemaConverters = map[string]string{
	"key.converter":                                "io.confluent.connect.json.JsonSchemaConverter",
	"key.converter.schema.registry.url":            "embedded",
	"key.converter.object.additional.properties":   "false",
	"value.converter":                              "io.confluent.connect.json.JsonSchemaConverter",
	"value.converter.schema.registry.url":          "embedded",
	"value.converter.object.additional.properties": "false",
	"value.converter.json.fail.invalid.schema":     "true",
}

func withJSONSchema(cfg map[string]string) map[string]string {
	for k, v := range jsonSchemaConverters {
		cfg[k] = v
	}
	return cfg
}

// TestJSONSchemaCDCToJDBCSink is the Avro pipeline test with
// JsonSchemaConverter on both sides: MariaDB and PostgreSQL CDC sources
// write JSON Schema keys and values (registry "embedded", payloads validated
// against their schemas), JDBC sinks read them into the other database, and
// the targets equal the sources after the snapshot, streamed changes and
// added columns (new schema versions, compatible under BACKWARD).
func TestJSONSchemaCDCToJDBCSink(t *testing.T) {
	msrc, pdst := harness.MariaDB(t), harness.Postgres(t)
	psrc, mdst := harness.Postgres(t), harness.MariaDB(t)
	msconn, pdconn := msrc.Open(t), pdst.Open(t)
	psconn, mdconn := psrc.Open(t), mdst.Open(t)
	mariadbSchema(t, msconn)
	postgresSchema(t, psconn)
	slot := fmt.Sprintf("pipelines_jsonschema_%d", time.Now().UnixNano()%1e9)
	dropSlotAtEnd(t, psconn, slot)

	mTopics := []string{"js_m." + msrc.Name + ".customers", "js_m." + msrc.Name + ".tags"}
	pTopics := []string{"js_p.public.customers", "js_p.public.tags"}
	w := startWorker(t, workerOpts{registry: true},
		connector{"mariadb-js-source", withJSONSchema(mariadbSource(msrc, "js_m"))},
		connector{"postgres-js-sink", withJSONSchema(debeziumSink(pdst.JDBCURL(), mTopics...))},
		connector{"postgres-js-source", withJSONSchema(postgresSource(psrc, "js_p", slot))},
		connector{"mariadb-js-sink", withJSONSchema(debeziumSink(mdst.JDBCURL(), pTopics...))})
	w.waitRunning("mariadb-js-source", "postgres-js-sink", "postgres-js-source", "mariadb-js-sink")

	verifyTables(t, w, msconn, pdconn, "mariadb→postgres snapshot")
	verifyTables(t, w, psconn, mdconn, "postgres→mariadb snapshot")
	mariadbChanges(t, msconn)
	postgresChanges(t, psconn)
	verifyTables(t, w, msconn, pdconn, "mariadb→postgres streaming")
	verifyTables(t, w, psconn, mdconn, "postgres→mariadb streaming")
	schemaChanges(t, msconn)
	schemaChanges(t, psconn)
	verifyTables(t, w, msconn, pdconn, "mariadb→postgres after DDL")
	verifyTables(t, w, psconn, mdconn, "postgres→mariadb after DDL")

	reg := fmt.Sprintf("http://127.0.0.1:%d", w.registryPort)
	checkSubjects(t, reg, append(append([]string{}, mTopics...), pTopics...)...)
	// Every record is in Confluent's wire format with a registered JSON
	// schema id; the value schemas are Debezium envelopes titled after the
	// topic, and the added columns made a second version.
	for _, topic := range []string{mTopics[0], pTopics[0]} {
		ids := wireSchemaIDs(t, w, topic, func(p []byte) bool { return len(p) >= 6 && p[0] == 0 && p[5] == '{' }, "Confluent wire format with a JSON object")
		var envelope bool
		for id := range ids {
			var s struct {
				SchemaType string `json:"schemaType"`
				Schema     string `json:"schema"`
			}
			getJSON(t, fmt.Sprintf("%s/schemas/ids/%d", reg, id), &s)
			if s.SchemaType != "JSON" {
				t.Fatalf("schema %d has schemaType %q", id, s.SchemaType)
			}
			var js struct{ Title, Type string }
			if err := json.Unmarshal([]byte(s.Schema), &js); err != nil {
				t.Fatalf("schema %d: %v: %s", id, err, s.Schema)
			}
			if js.Type == "object" && js.Title == topic+".Envelope" {
				envelope = true
			}
		}
		if !envelope {
			t.Errorf("no schema id used in %s is the JSON schema titled %s.Envelope (ids %v)", topic, topic, ids)
		}
		var versions []int
		getJSON(t, reg+"/subjects/"+topic+"-value/versions", &versions)
		if len(versions) < 2 {
			t.Errorf("%s-value has versions %v, want a second one after ADD COLUMN", topic, versions)
		}
	}
	w.stop()
}
