package jsonschemaconv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

const python = "/usr/bin/python3"

func needPython(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import confluent_kafka, confluent_kafka.schema_registry.json_schema, jsonschema, requests").CombinedOutput(); err != nil {
		t.Fatalf("the independent JSON Schema check needs Debian's python3-confluent-kafka, python3-jsonschema and python3-requests "+
			"(run scripts/install-deps.sh): %v\n%s", err, out)
	}
}

func runPython(t *testing.T, ctx context.Context, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, python, append([]string{"testdata/jsonschema_check.py"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python %v: %v\n%s\n%s", args, err, out, stderr.String())
	}
	return out
}

// TestIndependentPython has code nobody here wrote read what our converter
// writes and write what it reads: records our JsonSchemaConverter writes
// into the embedded broker, with schemas in our embedded registry (stored in
// the broker's _schemas topic), are decoded by Debian's python3-confluent-
// kafka JSONDeserializer (which validates each payload with
// python3-jsonschema) with the writer's schema fetched by id; and records
// its JSONSerializer produced, registering its own schema, are read by our
// converter. scripts/install-deps.sh installs the packages; the test fails,
// not skips, without them.
func TestIndependentPython(t *testing.T) {
	needPython(t)
	const topic, people = "dbserver1.inventory.customers", "people"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic, people))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	srv, err := registry.NewServer(ctx, registry.Options{Addr: "127.0.0.1:0", Brokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	keyConv := newConv(t, srv, func(c *Config) { c.IsKey = true })
	valConv := newConv(t, srv, func(c *Config) { c.FailInvalidSchema = true })

	keySchema := schema.StructBuilder().Name("dbserver1.inventory.customers.Key").Field("id", schema.Int32Schema).Build()
	addr := schema.StructBuilder().Name("Address").Field("street", schema.StringSchema).Field("zip", schema.OptionalInt32).Build().WithOptional(true)
	row := schema.StructBuilder().Name("dbserver1.inventory.customers.Value").
		Field("id", schema.Int32Schema).Field("name", schema.StringSchema).Field("email", schema.OptionalString).
		Field("balance", schema.DecimalSchema(2, 10, false)).Field("created", schema.TimestampSchema(false)).
		Field("active", schema.BooleanSchema).Field("ratio", schema.Float64Schema).
		Field("tags", schema.ArrayOf(schema.StringSchema)).Field("attrs", schema.MapOf(schema.StringSchema, schema.Int32Schema)).
		Field("addr", addr).Field("raw", schema.BytesSchema).Build()
	type rec struct {
		id      int32
		name    string
		email   any
		balance string
		addr    any
	}
	recs := []rec{
		{1001, "Sally", "s@example.com", "10.50", &schema.Struct{Schema: addr, Values: []any{"Main St 1", int32(12345)}}},
		{1002, "Ünïcødé ✓ \"q\"", nil, "-0.01", nil},
		{1003, "Anne", "a@example.com", "99999999.99", &schema.Struct{Schema: addr, Values: []any{"Elm", nil}}},
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i, r := range recs {
		v := &schema.Struct{Schema: row, Values: []any{r.id, r.name, r.email, decimal.RequireFromString(r.balance),
			time.UnixMilli(1700000000123 + int64(i)).UTC(), i%2 == 0, 0.5 * float64(i), []any{"a", "b"},
			map[any]any{"k": int32(i)}, r.addr, []byte{byte(i), 0xff}}}
		kb, err := keyConv.FromConnect(topic, nil, keySchema, &schema.Struct{Schema: keySchema, Values: []any{r.id}})
		if err != nil {
			t.Fatal(err)
		}
		vb, err := valConv.FromConnect(topic, nil, row, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: kb, Value: vb}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// a tombstone, as Debezium writes after a delete
	kb, _ := keyConv.FromConnect(topic, nil, keySchema, &schema.Struct{Schema: keySchema, Values: []any{int32(1003)}})
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: kb}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	out := runPython(t, ctx, "consume", strings.Join(cluster.ListenAddrs(), ","), srv.URL(), topic, "4")
	t.Logf("python3-confluent-kafka JSONDeserializer decoded:\n%s", out)
	var got []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var d map[string]any
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, d)
	}
	// The values as JSON (numbers are float64 in Go's decoding): Decimals as
	// the python side decoded them from their base64 bytes, Timestamps as
	// epoch milliseconds, bytes as base64.
	want := []string{
		`{"key":{"id":1001},"key_id":1,"key_type":"JSON","value_id":2,"value_type":"JSON","value":{"id":1001,"name":"Sally","email":"s@example.com",
			"balance":"10.50","created":1700000000123,"active":true,"ratio":0,"tags":["a","b"],"attrs":{"k":0},
			"addr":{"street":"Main St 1","zip":12345},"raw":"AP8="}}`,
		`{"key":{"id":1002},"key_id":1,"key_type":"JSON","value_id":2,"value_type":"JSON","value":{"id":1002,"name":"Ünïcødé ✓ \"q\"","email":null,
			"balance":"-0.01","created":1700000000124,"active":false,"ratio":0.5,"tags":["a","b"],"attrs":{"k":1},
			"addr":null,"raw":"Af8="}}`,
		`{"key":{"id":1003},"key_id":1,"key_type":"JSON","value_id":2,"value_type":"JSON","value":{"id":1003,"name":"Anne","email":"a@example.com",
			"balance":"99999999.99","created":1700000000125,"active":true,"ratio":1,"tags":["a","b"],"attrs":{"k":2},
			"addr":{"street":"Elm","zip":null},"raw":"Av8="}}`,
		`{"key":{"id":1003},"key_id":1,"key_type":"JSON","value":null}`,
	}
	if len(got) != len(want) {
		t.Fatalf("python printed %d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		var wv map[string]any
		if err := json.Unmarshal([]byte(w), &wv); err != nil {
			t.Fatalf("literal %d: %v", i, err)
		}
		if !reflect.DeepEqual(got[i], wv) {
			g, _ := json.Marshal(got[i])
			t.Errorf("record %d:\n got %s\nwant %s", i, g, w)
		}
	}

	// The other way: JSONSerializer writes, our converter reads.
	runPython(t, ctx, "produce", strings.Join(cluster.ListenAddrs(), ","), srv.URL(), people)
	cons, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(people), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var values [][]byte
	for len(values) < 2 && ctx.Err() == nil {
		cons.PollFetches(ctx).EachRecord(func(r *kgo.Record) { values = append(values, r.Value) })
	}
	reader := newConv(t, srv, func(c *Config) { c.FailInvalidSchema = true })
	person := schema.StructBuilder().Name("Person").
		Field("id", schema.Int64Schema).Field("name", schema.StringSchema).Field("score", schema.Float64Schema).
		Field("active", schema.BooleanSchema).Field("tags", schema.ArrayOf(schema.StringSchema)).Field("nick", schema.OptionalString).Build()
	wantPeople := [][]any{
		{int64(1), "Ada", 9.5, true, []any{"x", "y"}, nil},
		{int64(2), "Ünïcødé ✓", -0.25, false, []any{}, "bob"},
	}
	for i, b := range values {
		s, v, err := reader.ToConnect(people, nil, b)
		if err != nil {
			t.Fatalf("record %d (%s): %v", i, b, err)
		}
		if !schema.Equal(s, person) {
			t.Fatalf("schema of python's record: %+v\nwant %+v", s, person)
		}
		if w := (&schema.Struct{Schema: person, Values: wantPeople[i]}); !schema.EqualValues(v, w) {
			t.Errorf("record %d: %+v, want %+v", i, v, w)
		}
	}
	// python registered schemaType JSON under people-value
	if _, sch, err := reader.Registry().LatestSchema(ctx, people+"-value"); err != nil || sch.Type != registry.TypeJSON {
		t.Fatalf("people-value: %+v %v", sch, err)
	}
}
