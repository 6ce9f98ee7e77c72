package protoconv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

// typesRow is a row with every Connect type Debezium and the JDBC source
// produce.
func typesRow() *schema.Schema {
	return schema.StructBuilder().Name("dbserver1.inventory.types.Value").
		Field("id", schema.Int32Schema).
		Field("tiny", schema.Int8Schema).
		Field("small", schema.Int16Schema).
		Field("big", schema.Int64Schema).
		Field("f32", schema.Float32Schema).
		Field("f64", schema.Float64Schema).
		Field("flag", schema.BooleanSchema).
		Field("name", schema.StringSchema).
		Field("blob", schema.OptionalBytes).
		Field("price", schema.DecimalSchema(2, 10, true)).
		Field("day", schema.DateSchema(true)).
		Field("tod", schema.TimeSchema(true)).
		Field("ts", schema.TimestampSchema(true)).
		Field("created", schema.NewBuilder(schema.TypeInt64).Name(schema.DebeziumMicroTimestamp).Version(1).Build()).
		Field("tags", schema.NewBuilder(schema.TypeArray).Items(schema.StringSchema).Optional().Build()).
		Field("attrs", schema.NewBuilder(schema.TypeMap).MapOf(schema.StringSchema, schema.Int32Schema).Optional().Build()).
		Build()
}

// TestIndependentPythonConsumer writes Debezium-style Protobuf records into
// the embedded broker, with schemas (and, with skip.known.types=false,
// their imports as references) in our embedded registry, and has a consumer
// nobody here wrote read them: python3-confluent-kafka's ProtobufDeserializer
// with a message class built from the registry's text by Google's protoc and
// python3-protobuf (see testdata/consume.py for how). The expected values
// are the proto3 JSON mapping (json_format) of what Confluent's ProtobufData
// writes, by hand: 64-bit integers as strings, bytes base64, zero values
// absent, Decimal as {value: unscaled two's complement, precision, scale},
// Date as {year, month, day}, Time as TimeOfDay, Timestamp as RFC 3339, maps
// as repeated {key, value} entries. scripts/install-deps.sh installs the
// packages; the test fails, not skips, without them.
func TestIndependentPythonConsumer(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import confluent_kafka.schema_registry.protobuf, google.protobuf.message_factory, requests").CombinedOutput(); err != nil {
		t.Fatalf("the independent Protobuf check needs Debian's python3-confluent-kafka, python3-protobuf and python3-requests "+
			"(run scripts/install-deps.sh): %v\n%s", err, out)
	}
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Fatalf("the independent Protobuf check needs protoc (Debian's protobuf-compiler; run scripts/install-deps.sh)")
	}
	const topic = "dbserver1.inventory.types"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
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
	cfg := DefaultConfig()
	cfg.Registry, cfg.SkipKnownTypes = regClient, false
	valConv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.IsKey = true
	keyConv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	row := typesRow()
	src := mysqlSource()
	env := cdc.EnvelopeSchema(topic+".Envelope", row, src)
	keySchema := schema.NewStructSchema(topic+".Key", schema.Field{Name: "id", Schema: schema.Int32Schema})
	_, first := debeziumCreate()
	source := &schema.Struct{Schema: src, Values: first.Values[cdc.EnvSource].(*schema.Struct).Values}
	rowSchema := env.Fields[cdc.EnvAfter].Schema
	rows := []*schema.Struct{
		{Schema: rowSchema, Values: []any{int32(1), int8(-7), int16(300), int64(1) << 40, float32(1.5), -2.25, true, "Ünïcødé ✓", []byte{0, 1, 0xfe},
			dec("12345678.90"), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.UnixMilli(13*3600000 + 14*60000 + 15*1000 + 678).UTC(),
			time.UnixMilli(1700000000123).UTC(), int64(1465491411000001), []any{"a", "b"}, map[any]any{"k": int32(5)}}},
		{Schema: rowSchema, Values: []any{int32(2), int8(1), int16(-1), int64(-9), float32(-0.5), 1e300, false, "x", nil,
			dec("-0.01"), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), nil,
			time.UnixMilli(-1).UTC(), int64(7), nil, nil}},
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ops := []cdc.Op{cdc.OpRead, cdc.OpUpdate}
	for i, r := range rows {
		var before *schema.Struct
		if ops[i] == cdc.OpUpdate {
			before = r
		}
		v := cdc.NewEnvelope(env, ops[i], before, r, source, nil, time.UnixMilli(1700000000999))
		kb, err := keyConv.FromConnect(topic, nil, keySchema, &schema.Struct{Schema: keySchema, Values: []any{r.Values[0]}})
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
	kb, _ := keyConv.FromConnect(topic, nil, keySchema, &schema.Struct{Schema: keySchema, Values: []any{int32(2)}})
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
	t.Logf("python3-confluent-kafka + protoc + python3-protobuf decoded:\n%s", out)
	type decoded struct {
		Key         map[string]any `json:"key"`
		Value       map[string]any `json:"value"`
		KeySchema   string         `json:"key_schema"`
		ValueSchema string         `json:"value_schema"`
	}
	var got []decoded
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
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
	b64 := func(b ...byte) string { return base64.StdEncoding.EncodeToString(b) }
	want := []map[string]any{
		{"id": 1.0, "tiny": -7.0, "small": 300.0, "big": "1099511627776", "f32": 1.5, "f64": -2.25, "flag": true, "name": "Ünïcødé ✓",
			"blob": b64(0, 1, 0xfe),
			// 1234567890 = 0x499602D2, 10 digits
			"price": map[string]any{"value": b64(0x49, 0x96, 0x02, 0xd2), "precision": 10.0, "scale": 2.0},
			"day":   map[string]any{"year": 2024.0, "month": 2.0, "day": 29.0},
			"tod":   map[string]any{"hours": 13.0, "minutes": 14.0, "seconds": 15.0, "nanos": 678000000.0},
			"ts":    "2023-11-14T22:13:20.123Z", "created": "1465491411000001",
			"tags": []any{"a", "b"}, "attrs": []any{map[string]any{"key": "k", "value": 5.0}}},
		// zero values (flag false) are absent in proto3 JSON; -1 = 0xff at scale 2 → precision 1
		{"id": 2.0, "tiny": 1.0, "small": -1.0, "big": "-9", "f32": -0.5, "f64": 1e300, "name": "x",
			"price": map[string]any{"value": b64(0xff), "precision": 1.0, "scale": 2.0},
			"day":   map[string]any{"year": 1969.0, "month": 12.0, "day": 31.0},
			"ts":    "1969-12-31T23:59:59.999Z", "created": "7"},
	}
	for i := range rows {
		d := got[i]
		if d.ValueSchema != topic+".Envelope" || d.KeySchema != topic+".Key" {
			t.Errorf("record %d messages %s / %s", i, d.KeySchema, d.ValueSchema)
		}
		if d.Key["id"] != float64(i+1) {
			t.Errorf("record %d key %v", i, d.Key)
		}
		if !reflect.DeepEqual(d.Value["after"], want[i]) {
			t.Errorf("record %d after:\n got %v\nwant %v", i, d.Value["after"], want[i])
		}
		if d.Value["op"] != string(ops[i]) || d.Value["ts_ms"] != "1700000000999" {
			t.Errorf("record %d op %v ts_ms %v", i, d.Value["op"], d.Value["ts_ms"])
		}
		if (ops[i] == cdc.OpUpdate) != (d.Value["before"] != nil) {
			t.Errorf("record %d before %v", i, d.Value["before"])
		}
		srcv, _ := d.Value["source"].(map[string]any)
		if srcv["file"] != "mysql-bin.000003" || srcv["pos"] != "154" || srcv["snapshot"] != "false" || srcv["connector"] != "mysql" {
			t.Errorf("record %d source %v", i, srcv)
		}
	}
	if last := got[len(rows)]; last.Value != nil || last.Key["id"] != 2.0 {
		t.Errorf("tombstone decoded as %+v", last)
	}

	// Our own reader agrees with what we wrote (sink side, same registry).
	rs, rv, err := valConv.ToConnect(topic, nil, mustFrom(t, valConv, topic, env, cdc.NewEnvelope(env, cdc.OpRead, nil, rows[0], source, nil, time.UnixMilli(5))))
	if err != nil {
		t.Fatal(err)
	}
	after := rv.(*schema.Struct).Get("after").(*schema.Struct)
	for i, f := range row.Fields {
		if !schema.EqualValues(after.Values[i], rows[0].Values[i]) {
			t.Errorf("read back %s = %#v, want %#v", f.Name, after.Values[i], rows[0].Values[i])
		}
	}
	if rs.Name != "Envelope" {
		t.Errorf("read schema name %q (ProtobufData names structs by the message name)", rs.Name)
	}
}

func mustFrom(t *testing.T, c *Converter, topic string, s *schema.Schema, v any) []byte {
	t.Helper()
	b, err := c.FromConnect(topic, nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIndependentPythonProducer is the sink direction: python3-protobuf
// builds and serializes an Order (map<>, oneof, enum, nested and repeated
// messages, Timestamp, a StringValue wrapper, sint32/fixed64/uint32, bytes)
// from a class protoc made of a hand-written .proto, python3-confluent-kafka
// registers that text in our registry and produces the framed record (see
// testdata/produce.py), and our converter reads it. The expected Connect
// values and schemas are ProtobufData.toConnectSchema/toConnectData's rules,
// by hand: the oneof first as contact_0 (a union struct), enums as their
// symbol, fixed64 as the signed long of its bits, uint32 widened to int64,
// absent scalars as their defaults, absent messages as null; with
// wrapper.for.nullables the wrapper reads as an optional string.
func TestIndependentPythonProducer(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import confluent_kafka.schema_registry, google.protobuf.message_factory").CombinedOutput(); err != nil {
		t.Fatalf("needs python3-confluent-kafka and python3-protobuf (run scripts/install-deps.sh): %v\n%s", err, out)
	}
	const topic = "shop.orders"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := registry.NewServer(ctx, registry.Options{Addr: "127.0.0.1:0", Brokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cmd := exec.CommandContext(ctx, py, "testdata/produce.py", strings.Join(cluster.ListenAddrs(), ","), srv.URL(), topic)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python producer: %v\n%s", err, out)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var recs [][]byte
	for len(recs) < 2 {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r.Value) })
	}
	regClient, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Registry = regClient
	conv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, v, err := conv.ToConnect(topic, nil, recs[0])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range s.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "contact_0,id,customer,placed,status,counts,tags,note,item,delta,big,small,ratio,paid,raw,items" {
		t.Errorf("fields %s", got)
	}
	st := v.(*schema.Struct)
	want := map[string]any{
		"id": int64(9000000000), "customer": "Zoë", "placed": time.UnixMilli(1700000000123).UTC(), "status": "SHIPPED",
		"counts": map[any]any{"a": int32(1), "b": int32(2)}, "tags": []any{"x", "y"},
		"delta": int32(-5), "big": int64(-446744073709551616), "small": int64(4000000000), "ratio": 0.25, "paid": true, "raw": []byte{0, 0xff},
	}
	for k, w := range want {
		if !schema.EqualValues(st.Get(k), w) {
			t.Errorf("%s = %#v, want %#v", k, st.Get(k), w)
		}
	}
	if u, _ := st.Get("contact_0").(*schema.Struct); u == nil || u.Schema.Name != ParamUnionPrefix+"contact" || u.Get("phone") != "+41 44 000 00 00" || u.Get("email") != nil {
		t.Errorf("contact_0 = %#v", st.Get("contact_0"))
	}
	if n, _ := st.Get("note").(*schema.Struct); n == nil || n.Schema.Name != "StringValue" || n.Get("value") != "fragile" {
		t.Errorf("note = %#v", st.Get("note"))
	}
	if it, _ := st.Get("item").(*schema.Struct); it == nil || it.Schema.Name != "Item" || it.Get("sku") != "S-1" || it.Get("qty") != int32(3) {
		t.Errorf("item = %#v", st.Get("item"))
	}
	if l, _ := st.Get("items").([]any); len(l) != 1 || l[0].(*schema.Struct).Get("sku") != "S-2" {
		t.Errorf("items = %#v", st.Get("items"))
	}
	if f, _ := s.Field("delta"); f.Schema.Parameters[0] != (schema.Param{Key: ParamType, Value: "sint32"}) {
		t.Errorf("delta schema %v", f.Schema.Parameters)
	}
	if f, _ := s.Field("status"); f.Schema.Name != "Status" || f.Schema.Type != schema.TypeString {
		t.Errorf("status schema %+v", f.Schema)
	}

	_, v, err = conv.ToConnect(topic, nil, recs[1])
	if err != nil {
		t.Fatal(err)
	}
	empty := v.(*schema.Struct)
	for k, w := range map[string]any{"id": int64(0), "customer": "", "status": "NEW", "counts": map[any]any{}, "tags": []any{}, "big": int64(0), "paid": false, "raw": []byte{}} {
		if !schema.EqualValues(empty.Get(k), w) {
			t.Errorf("empty %s = %#v, want %#v", k, empty.Get(k), w)
		}
	}
	for _, k := range []string{"contact_0", "placed", "note", "item"} {
		if empty.Get(k) != nil {
			t.Errorf("empty %s = %#v, want null", k, empty.Get(k))
		}
	}

	cfg.Data.WrapperForNullables = true
	wconv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ws, wv, err := wconv.ToConnect(topic, nil, recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := ws.Field("note"); f.Schema.Type != schema.TypeString || !f.Schema.Optional || wv.(*schema.Struct).Get("note") != "fragile" {
		t.Errorf("wrapper.for.nullables note: %+v %#v", f.Schema, wv.(*schema.Struct).Get("note"))
	}
	if f, _ := ws.Field("customer"); f.Schema.Optional {
		t.Errorf("wrapper.for.nullables: a plain scalar is required, got optional")
	}
	if _, wv, err = wconv.ToConnect(topic, nil, recs[1]); err != nil || wv.(*schema.Struct).Get("note") != nil {
		t.Errorf("wrapper.for.nullables, absent note: %#v %v", wv, err)
	}
}
