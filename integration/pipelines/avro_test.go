package pipelines

import (
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// avroConverters are the connector-level converter keys a Confluent user
// writes for Avro through the worker's embedded registry.
var avroConverters = map[string]string{
	"key.converter":                       "io.confluent.connect.avro.AvroConverter",
	"key.converter.schema.registry.url":   "embedded",
	"value.converter":                     "io.confluent.connect.avro.AvroConverter",
	"value.converter.schema.registry.url": "embedded",
}

func withAvro(cfg map[string]string) map[string]string {
	for k, v := range avroConverters {
		cfg[k] = v
	}
	return cfg
}

// TestAvroCDCToJDBCSink is issue 8's pipeline acceptance test: both CDC
// sources write Avro keys and values (AvroConverter, registry "embedded"
// served by the worker), JDBC sinks read them with AvroConverter into the
// other database, and the targets equal the sources after the snapshot and
// after streamed inserts, updates, deletes, key changes and added columns. The topics hold
// Confluent wire-format records whose schema ids resolve in the registry
// under TopicNameStrategy subjects.
func TestAvroCDCToJDBCSink(t *testing.T) {
	msrc, pdst := harness.MariaDB(t), harness.Postgres(t)
	psrc, mdst := harness.Postgres(t), harness.MariaDB(t)
	msconn, pdconn := msrc.Open(t), pdst.Open(t)
	psconn, mdconn := psrc.Open(t), mdst.Open(t)
	mariadbSchema(t, msconn)
	postgresSchema(t, psconn)
	slot := fmt.Sprintf("pipelines_avro_%d", time.Now().UnixNano()%1e9)
	dropSlotAtEnd(t, psconn, slot)

	mTopics := []string{"avro_m." + msrc.Name + ".customers", "avro_m." + msrc.Name + ".tags"}
	pTopics := []string{"avro_p.public.customers", "avro_p.public.tags"}
	w := startWorker(t, workerOpts{registry: true},
		connector{"mariadb-avro-source", withAvro(mariadbSource(msrc, "avro_m"))},
		connector{"postgres-avro-sink", withAvro(debeziumSink(pdst.JDBCURL(), mTopics...))},
		connector{"postgres-avro-source", withAvro(postgresSource(psrc, "avro_p", slot))},
		connector{"mariadb-avro-sink", withAvro(debeziumSink(mdst.JDBCURL(), pTopics...))})
	w.waitRunning("mariadb-avro-source", "postgres-avro-sink", "postgres-avro-source", "mariadb-avro-sink")

	verifyTables(t, w, msconn, pdconn, "mariadb→postgres snapshot")
	verifyTables(t, w, psconn, mdconn, "postgres→mariadb snapshot")
	mariadbChanges(t, msconn)
	postgresChanges(t, psconn)
	verifyTables(t, w, msconn, pdconn, "mariadb→postgres streaming")
	verifyTables(t, w, psconn, mdconn, "postgres→mariadb streaming")
	// New columns while running: new Avro schema versions, compatible
	// under the registry's default BACKWARD rule, and evolved tables.
	schemaChanges(t, msconn)
	schemaChanges(t, psconn)
	verifyTables(t, w, msconn, pdconn, "mariadb→postgres after DDL")
	verifyTables(t, w, psconn, mdconn, "postgres→mariadb after DDL")

	// The registry holds <topic>-key and <topic>-value for every topic.
	reg := fmt.Sprintf("http://127.0.0.1:%d", w.registryPort)
	checkSubjects(t, reg, append(append([]string{}, mTopics...), pTopics...)...)
	// Every record is in Confluent's wire format with a registered id; the
	// value schemas are Debezium envelopes named after the topic.
	for _, topic := range []string{mTopics[0], pTopics[0]} {
		ids := wireSchemaIDs(t, w, topic, func(p []byte) bool { return len(p) >= 5 && p[0] == 0 }, "Confluent wire format")
		var envelope bool
		for id := range ids {
			var s struct {
				Schema string `json:"schema"`
			}
			getJSON(t, fmt.Sprintf("%s/schemas/ids/%d", reg, id), &s)
			var avsc struct {
				Type, Name, Namespace string
			}
			if err := json.Unmarshal([]byte(s.Schema), &avsc); err != nil {
				t.Fatalf("schema %d: %v: %s", id, err, s.Schema)
			}
			if avsc.Type == "record" && avsc.Name == "Envelope" && avsc.Namespace == topic {
				envelope = true
			}
		}
		if !envelope {
			t.Errorf("no schema id used in %s is the Avro record %s.Envelope (ids %v)", topic, topic, ids)
		}
	}
	w.stop()
}

// checkSubjects checks that the registry at reg holds <topic>-key and
// <topic>-value for every topic (TopicNameStrategy).
func checkSubjects(t *testing.T, reg string, topics ...string) {
	t.Helper()
	var subjects []string
	getJSON(t, reg+"/subjects", &subjects)
	for _, topic := range topics {
		for _, s := range []string{topic + "-key", topic + "-value"} {
			if !slices.Contains(subjects, s) {
				t.Errorf("registry subjects %v lack %s", subjects, s)
			}
		}
	}
}

// wireSchemaIDs reads topic (at least 20 records) and returns the schema
// ids of its keys and values; each must be in the converter's wire format
// (wireOK; format names it in the failure). Tombstone values are skipped.
func wireSchemaIDs(t *testing.T, w *worker, topic string, wireOK func([]byte) bool, format string) map[uint32]bool {
	t.Helper()
	recs := w.readTopic(topic)
	if len(recs) < 20 {
		t.Fatalf("%s holds %d records, want at least 20", topic, len(recs))
	}
	ids := map[uint32]bool{}
	for _, r := range recs {
		for _, part := range [][]byte{r.Key, r.Value} {
			if part == nil {
				continue // tombstone value
			}
			if !wireOK(part) {
				t.Fatalf("%s offset %d: not %s: % x", topic, r.Offset, format, part[:min(len(part), 8)])
			}
			ids[bin.BigEndian.Uint32(part[1:5])] = true
		}
	}
	return ids
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}
