package avroconv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

// TestIndependentPythonConsumer writes Debezium-style Avro records into the
// embedded broker, with schemas in our embedded registry (itself stored in
// the broker's _schemas topic), and has a consumer nobody here wrote read
// them: Debian's python3-confluent-kafka (librdkafka + its schema_registry
// client) with Apache's python3-avro decoder. scripts/install-deps.sh
// installs those packages; the test fails, not skips, without them.
func TestIndependentPythonConsumer(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import confluent_kafka, confluent_kafka.schema_registry, avro.io, requests").CombinedOutput(); err != nil {
		t.Fatalf("the independent Avro check needs Debian's python3-confluent-kafka, python3-requests and python3-avro "+
			"(run scripts/install-deps.sh): %v\n%s", err, out)
	}
	const topic = "dbserver1.inventory.customers"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := registry.NewServer(ctx, registry.Options{Addr: "127.0.0.1:0", Brokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	regClient, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	keyConv, err := New(Config{IsKey: true, AutoRegister: true, Registry: regClient})
	if err != nil {
		t.Fatal(err)
	}
	valConv, err := New(Config{AutoRegister: true, Registry: regClient})
	if err != nil {
		t.Fatal(err)
	}

	env, first := debeziumCreate()
	keySchema := schema.NewStructSchema("dbserver1.inventory.customers.Key", schema.Field{Name: "id", Schema: schema.Int32Schema})
	rowSchema := env.Fields[cdc.EnvAfter].Schema
	source := first.Values[cdc.EnvSource].(*schema.Struct)
	type row struct {
		id      int32
		name    string
		balance string
		op      cdc.Op
	}
	rows := []row{{1001, "Sally", "10.50", cdc.OpRead}, {1002, "Ünïcødé ✓", "-0.01", cdc.OpCreate}, {1003, "Anne", "99999999.99", cdc.OpUpdate}, {1004, "Del", "0.00", cdc.OpDelete}}
	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for _, r := range rows {
		after := &schema.Struct{Schema: rowSchema, Values: []any{r.id, r.name, "x@example.com", dec(r.balance), int64(1700000000000000)}}
		var before *schema.Struct
		if r.op == cdc.OpUpdate || r.op == cdc.OpDelete {
			before = after
		}
		if r.op == cdc.OpDelete {
			after = nil
		}
		v := cdc.NewEnvelope(env, r.op, before, after, source, nil, time.UnixMilli(1700000000123))
		kb, err := keyConv.FromConnect(topic, nil, keySchema, &schema.Struct{Schema: keySchema, Values: []any{r.id}})
		if err != nil {
			t.Fatal(err)
		}
		vb, err := valConv.FromConnect(topic, nil, env, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: kb, Value: vb}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// and a tombstone after the delete, as Debezium writes it
	kb, _ := keyConv.FromConnect(topic, nil, keySchema, &schema.Struct{Schema: keySchema, Values: []any{int32(1004)}})
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: kb}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, py, "testdata/consume.py", strings.Join(cluster.ListenAddrs(), ","), srv.URL(), topic, fmt.Sprint(len(rows)+1))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python consumer: %v\n%s\n%s", err, out, stderr.String())
	}
	t.Logf("python3-confluent-kafka + python3-avro decoded:\n%s", out)
	type decoded struct {
		Key     map[string]any `json:"key"`
		Value   map[string]any `json:"value"`
		KeyID   *int           `json:"key_id"`
		ValueID *int           `json:"value_id"`
	}
	var got []decoded
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var d decoded
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, d)
	}
	if len(got) != len(rows)+1 {
		t.Fatalf("python printed %d records:\n%s", len(got), out)
	}
	for i, r := range rows {
		d := got[i]
		if d.Key["id"] != float64(r.id) {
			t.Errorf("record %d key %v, want id %d", i, d.Key, r.id)
		}
		if d.Value["op"] != string(r.op) {
			t.Errorf("record %d op %v, want %s", i, d.Value["op"], r.op)
		}
		img, _ := d.Value["after"].(map[string]any)
		if r.op == cdc.OpDelete {
			img, _ = d.Value["before"].(map[string]any)
			if d.Value["after"] != nil {
				t.Errorf("delete has after %v", d.Value["after"])
			}
		}
		if img == nil || img["first_name"] != r.name || img["id"] != float64(r.id) {
			t.Errorf("record %d row %v, want %d %s", i, img, r.id, r.name)
			continue
		}
		bal, _ := img["balance"].(map[string]any)
		if bal["decimal"] != r.balance {
			t.Errorf("record %d balance %v, want %s", i, img["balance"], r.balance)
		}
		src, _ := d.Value["source"].(map[string]any)
		if src["file"] != "mysql-bin.000003" || src["pos"] != float64(154) || src["snapshot"] != "false" {
			t.Errorf("record %d source %v", i, src)
		}
	}
	if last := got[len(rows)]; last.Value != nil || last.Key["id"] != float64(1004) {
		t.Errorf("tombstone decoded as %+v", last)
	}
}
