package protoconv

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func mysqlSource() *schema.Schema {
	fields := append(cdc.CommonSourceFields(),
		schema.Field{Name: "table", Schema: schema.OptionalString},
		schema.Field{Name: "server_id", Schema: schema.Int64Schema},
		schema.Field{Name: "gtid", Schema: schema.OptionalString},
		schema.Field{Name: "file", Schema: schema.StringSchema},
		schema.Field{Name: "pos", Schema: schema.Int64Schema},
		schema.Field{Name: "row", Schema: schema.Int32Schema},
		schema.Field{Name: "thread", Schema: schema.OptionalInt64},
		schema.Field{Name: "query", Schema: schema.OptionalString},
	)
	return schema.NewStructSchema("io.debezium.connector.mysql.Source", fields...)
}

// debeziumCreate is one Debezium MySQL create event (the same record the
// Avro and JSON benchmarks use).
func debeziumCreate() (*schema.Schema, *schema.Struct) {
	row := schema.NewStructSchema("dbserver1.inventory.customers.Value",
		schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "first_name", Schema: schema.StringSchema},
		schema.Field{Name: "email", Schema: schema.StringSchema},
		schema.Field{Name: "balance", Schema: schema.DecimalSchema(2, 10, true)},
		schema.Field{Name: "created", Schema: schema.NewBuilder(schema.TypeInt64).Name(schema.DebeziumMicroTimestamp).Version(1).Build()},
	)
	src := mysqlSource()
	env := cdc.EnvelopeSchema("dbserver1.inventory.customers.Envelope", row, src)
	after := &schema.Struct{Schema: env.Fields[cdc.EnvAfter].Schema, Values: []any{int32(1004), "Anne", "annek@noanswer.org", dec("123.45"), int64(1465491411000000)}}
	source := &schema.Struct{Schema: src, Values: []any{"3.1.0.Final", "mysql", "dbserver1", int64(1465491411000), "false", "inventory", nil,
		int64(1465491411000000), int64(1465491411000000000), "customers", int64(223344), nil, "mysql-bin.000003", int64(154), int32(0), int64(7), nil}}
	return env, cdc.NewEnvelope(env, cdc.OpCreate, nil, after, source, nil, time.Unix(0, 1465491411815437158))
}

// The expected .proto texts are written by hand from ProtobufData's rules
// and ProtobufSchemaUtils' layout: the root message is the last part of the
// Connect name in the package of the rest; nested structs are nested
// messages named after their last name part and defined once per parent
// (before and after share Value; testFromConnectNameCollision); fields are
// numbered 1.. in order; int16 is int32 with (confluent.field_meta) params
// connect.type (testFromConnectComplex's int8/int16 fields are int32);
// Decimal is confluent.type.Decimal with precision and scale params (as in
// Confluent's diff/DecimalValue.proto); io.debezium.time.MicroTimestamp is
// a plain int64 (only Connect's logical names map to message types). The
// layout: fields, a blank line, nested messages then enums, each indented two
// spaces (appendIndented), options as formatOptionMap prints them.
const debeziumEnvelopeProto = `syntax = "proto3";
package dbserver1.inventory.customers;

import "confluent/meta.proto";
import "confluent/type/decimal.proto";

message Envelope {
  Value before = 1;
  Value after = 2;
  Source source = 3;
  block transaction = 4;
  string op = 5;
  int64 ts_ms = 6;
  int64 ts_us = 7;
  int64 ts_ns = 8;

  message Value {
    int32 id = 1;
    string first_name = 2;
    string email = 3;
    confluent.type.Decimal balance = 4 [(confluent.field_meta) = {
      params: [
        {
          key: "precision",
          value: "10"
        },
        {
          key: "scale",
          value: "2"
        }
      ]
    }];
    int64 created = 5;
  }
  message Source {
    string version = 1;
    string connector = 2;
    string name = 3;
    int64 ts_ms = 4;
    string snapshot = 5;
    string db = 6;
    string sequence = 7;
    int64 ts_us = 8;
    int64 ts_ns = 9;
    string table = 10;
    int64 server_id = 11;
    string gtid = 12;
    string file = 13;
    int64 pos = 14;
    int32 row = 15;
    int64 thread = 16;
    string query = 17;
  }
  message block {
    string id = 1;
    int64 total_order = 2;
    int64 data_collection_order = 3;
  }
}
`

const debeziumKeyProto = `syntax = "proto3";
package dbserver1.inventory.customers;

message Key {
  int32 id = 1;
}
`

func TestDebeziumProtoText(t *testing.T) {
	env, _ := debeziumCreate()
	got, msg, err := ProtoSchemaOf(env, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got != debeziumEnvelopeProto {
		t.Errorf("envelope .proto:\n%s\nwant:\n%s", got, debeziumEnvelopeProto)
	}
	if msg != "dbserver1.inventory.customers.Envelope" {
		t.Errorf("root message %s", msg)
	}
	key := schema.NewStructSchema("dbserver1.inventory.customers.Key", schema.Field{Name: "id", Schema: schema.Int32Schema})
	if got, _, _ := ProtoSchemaOf(key, DefaultOptions()); got != debeziumKeyProto {
		t.Errorf("key .proto:\n%s\nwant:\n%s", got, debeziumKeyProto)
	}
	if _, err := Compile(t.Context(), got, nil); err != nil {
		t.Fatalf("the generated text does not compile: %v", err)
	}
}

// complexSchema is ProtobufDataTest.testFromConnectComplex's schema (without
// the int8 default and doc, which proto3 cannot carry).
func complexSchema() *schema.Schema {
	return schema.StructBuilder().
		Field("int8", schema.Int8Schema).
		Field("int16", schema.Int16Schema).
		Field("int32", schema.Int32Schema).
		Field("int64", schema.Int64Schema).
		Field("float32", schema.Float32Schema).
		Field("float64", schema.Float64Schema).
		Field("boolean", schema.BooleanSchema).
		Field("string", schema.StringSchema).
		Field("bytes", schema.BytesSchema).
		Field("array", schema.ArrayOf(schema.StringSchema)).
		Field("map", schema.MapOf(schema.StringSchema, schema.Int32Schema)).
		Field("mapNonStringKeys", schema.MapOf(schema.Int32Schema, schema.Int32Schema)).
		Field("mapNullValues", schema.MapOf(schema.StringSchema, schema.OptionalString)).
		Field("enum", schema.NewBuilder(schema.TypeString).Name("Status").Optional().
			Param(ParamEnum, "Status").Param(ParamEnum+".ACTIVE", "0").Param(ParamEnum+".INACTIVE", "1").Build()).
		Build()
}

// complexProto follows testFromConnectComplex's assertions: int8/int16/int32
// → int32, int64, float, double, bool, string, bytes, array → repeated
// string, the three maps → ConnectDefault2Entry, ConnectDefault3Entry,
// ConnectDefault4Entry (the unnamed root took ConnectDefault1), enum →
// Status.
const complexProto = `syntax = "proto3";

import "confluent/meta.proto";

message ConnectDefault1 {
  int32 int8 = 1 [(confluent.field_meta) = {
    params: [
      {
        key: "connect.type",
        value: "int8"
      }
    ]
  }];
  int32 int16 = 2 [(confluent.field_meta) = {
    params: [
      {
        key: "connect.type",
        value: "int16"
      }
    ]
  }];
  int32 int32 = 3;
  int64 int64 = 4;
  float float32 = 5;
  double float64 = 6;
  bool boolean = 7;
  string string = 8;
  bytes bytes = 9;
  repeated string array = 10;
  repeated ConnectDefault2Entry map = 11;
  repeated ConnectDefault3Entry mapNonStringKeys = 12;
  repeated ConnectDefault4Entry mapNullValues = 13;
  Status enum = 14;

  message ConnectDefault2Entry {
    string key = 1;
    int32 value = 2;
  }
  message ConnectDefault3Entry {
    int32 key = 1;
    int32 value = 2;
  }
  message ConnectDefault4Entry {
    string key = 1;
    string value = 2;
  }
  enum Status {
    ACTIVE = 0;
    INACTIVE = 1;
  }
}
`

// roundTrip encodes v with the schema generated for s and decodes the bytes
// with the schema compiled from that text, as a sink reading the registry's
// copy would.
func roundTrip(t *testing.T, s *schema.Schema, v *schema.Struct, opts Options) (text string, wire []byte, rs *schema.Schema, rv any) {
	t.Helper()
	text, message, err := ProtoSchemaOf(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(t.Context(), text, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	md, ok := findMessage(f, protoreflect.FullName(message))
	if !ok {
		t.Fatalf("no message %s", message)
	}
	enc, err := compileStruct(s, md, opts)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := enc.encode(v)
	if err != nil {
		t.Fatal(err)
	}
	wire, err = proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newReader(f, md, opts)
	if err != nil {
		t.Fatal(err)
	}
	back := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(wire, back); err != nil {
		t.Fatal(err)
	}
	rv, err = r.dec(back)
	if err != nil {
		t.Fatal(err)
	}
	return text, wire, r.schema, rv
}

func TestComplexAsConfluent(t *testing.T) {
	s := complexSchema()
	v := &schema.Struct{Schema: s, Values: []any{int8(12), int16(12), int32(12), int64(12), float32(12.2), 12.2, true, "foo", []byte("foo"),
		[]any{"a", "b", "c"}, map[any]any{"field": int32(1)}, map[any]any{int32(1): int32(1)}, map[any]any{"field": nil}, "INACTIVE"}}
	text, _, rs, rv := roundTrip(t, s, v, DefaultOptions())
	if text != complexProto {
		t.Errorf(".proto:\n%s\nwant:\n%s", text, complexProto)
	}
	got := rv.(*schema.Struct)
	// As testFromConnectComplex: the null map value reads back as "" (a
	// proto3 string without presence).
	want := []any{int8(12), int16(12), int32(12), int64(12), float32(12.2), 12.2, true, "foo", []byte("foo"),
		[]any{"a", "b", "c"}, map[any]any{"field": int32(1)}, map[any]any{int32(1): int32(1)}, map[any]any{"field": ""}, "INACTIVE"}
	for i, f := range rs.Fields {
		if !schema.EqualValues(got.Values[i], want[i]) {
			t.Errorf("%s: got %#v, want %#v", f.Name, got.Values[i], want[i])
		}
	}
	// toConnectSchema: every field optional with its tag; int8/int16 back
	// from connect.type; maps named after their entry (toMapField); the enum
	// a string named Status with Confluent's enum parameters.
	tag := func(n string) schema.Param { return schema.Param{Key: ParamTag, Value: n} }
	checks := []struct {
		name   string
		typ    schema.Type
		sname  string
		params []schema.Param
	}{
		{"int8", schema.TypeInt8, "", []schema.Param{tag("1")}},
		{"int16", schema.TypeInt16, "", []schema.Param{tag("2")}},
		{"int64", schema.TypeInt64, "", []schema.Param{tag("4")}},
		{"map", schema.TypeMap, "connect_default2", []schema.Param{tag("11")}},
		{"enum", schema.TypeString, "Status", []schema.Param{{Key: ParamEnum, Value: "Status"}, {Key: ParamEnum + ".ACTIVE", Value: "0"}, {Key: ParamEnum + ".INACTIVE", Value: "1"}, tag("14")}},
	}
	for _, c := range checks {
		f, _ := rs.Field(c.name)
		if f.Schema.Type != c.typ || f.Schema.Name != c.sname || !f.Schema.Optional || !slices.Equal(f.Schema.Parameters, c.params) {
			t.Errorf("%s: read schema %+v", c.name, f.Schema)
		}
	}
	if rs.Name != "ConnectDefault1" {
		t.Errorf("root name %q", rs.Name)
	}
	// Written back with the read schema (tags, map and enum names kept),
	// the derived .proto is the same text: a sink → source round trip keeps
	// the registered schema.
	if text2, _, _, _ := roundTrip(t, rs, got, DefaultOptions()); text2 != complexProto {
		t.Errorf("re-derived from the read schema:\n%s", text2)
	}
}

// TestRoundTripEveryType writes every Connect type and logical type and
// reads it back: values equal (Date/Time/Timestamp at millisecond
// precision, Decimal at its scale), schemas as toConnectSchema gives them.
func TestRoundTripEveryType(t *testing.T) {
	inner := schema.StructBuilder().Name("com.example.Inner").Optional().
		Field("flag", schema.BooleanSchema).
		Field("note", schema.OptionalString).Build()
	s := schema.StructBuilder().Name("com.example.AllTypes").
		Field("i8", schema.Int8Schema).
		Field("i16", schema.Int16Schema).
		Field("i32", schema.Int32Schema).
		Field("i64", schema.Int64Schema).
		Field("f32", schema.Float32Schema).
		Field("f64", schema.Float64Schema).
		Field("b", schema.BooleanSchema).
		Field("s", schema.StringSchema).
		Field("raw", schema.BytesSchema).
		Field("amount", schema.DecimalSchema(2, 10, false)).
		Field("neg_amount", schema.DecimalSchema(4, 0, true)).
		Field("day", schema.DateSchema(false)).
		Field("tod", schema.TimeSchema(true)).
		Field("ts", schema.TimestampSchema(false)).
		Field("old_ts", schema.TimestampSchema(false)).
		Field("tags", schema.ArrayOf(schema.StringSchema)).
		Field("counts", schema.MapOf(schema.StringSchema, schema.Int64Schema)).
		Field("names", schema.MapOf(schema.Int32Schema, schema.StringSchema)).
		Field("inner", inner).
		Field("inners", schema.ArrayOf(inner)).
		Field("empty", schema.ArrayOf(schema.Int32Schema)).
		Field("u32", schema.NewBuilder(schema.TypeInt64).Param(ParamType, "uint32").Build()).
		Field("s64", schema.NewBuilder(schema.TypeInt64).Param(ParamType, "sint64").Build()).
		Build()
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	tod := time.UnixMilli(13*3600000 + 14*60000 + 15*1000 + 678).UTC()
	ts := time.UnixMilli(1700000000123).UTC()
	old := time.UnixMilli(-1234).UTC() // before 1970: seconds -2, nanos 766000000
	in := &schema.Struct{Schema: inner, Values: []any{true, "hi"}}
	v := &schema.Struct{Schema: s, Values: []any{int8(-8), int16(-16), int32(-32), int64(-64), float32(1.5), 2.25, true, "ünï", []byte{0, 1, 255},
		dec("12345678.90"), dec("-0.0001"), day, tod, ts, old,
		[]any{"x", "y"}, map[any]any{"a": int64(1)}, map[any]any{int32(7): "seven"}, in, []any{in, in}, []any{},
		int64(4000000000), int64(-5)}}
	_, _, rs, rv := roundTrip(t, s, v, DefaultOptions())
	got := rv.(*schema.Struct)
	for i, f := range s.Fields {
		want := v.Values[i]
		if f.Name == "inner" || f.Name == "inners" {
			continue // compared below: the read struct schema differs
		}
		if !schema.EqualValues(got.Values[i], want) {
			t.Errorf("%s: got %#v, want %#v", f.Name, got.Values[i], want)
		}
	}
	gi, _ := got.Get("inner").(*schema.Struct)
	if gi == nil || gi.Get("flag") != true || gi.Get("note") != "hi" || gi.Schema.Name != "Inner" {
		t.Errorf("inner: %#v", gi)
	}
	if l, _ := got.Get("inners").([]any); len(l) != 2 {
		t.Errorf("inners: %#v", got.Get("inners"))
	}
	for name, want := range map[string]string{"amount": schema.DecimalName, "day": schema.DateName, "tod": schema.TimeName, "ts": schema.TimestampName} {
		f, _ := rs.Field(name)
		if f.Schema.Name != want || !f.Schema.Optional {
			t.Errorf("%s: read schema %+v", name, f.Schema)
		}
	}
	if f, _ := rs.Field("amount"); f.Schema.Parameters[0] != (schema.Param{Key: schema.DecimalScaleParam, Value: "2"}) ||
		f.Schema.Parameters[1] != (schema.Param{Key: schema.DecimalPrecisionParam, Value: "10"}) {
		t.Errorf("amount params %v", f.Schema.Parameters)
	}
	if f, _ := rs.Field("u32"); f.Schema.Type != schema.TypeInt64 || f.Schema.Parameters[0] != (schema.Param{Key: ParamType, Value: "uint32"}) {
		t.Errorf("u32: %+v", f.Schema)
	}
	if f, _ := rs.Field("tags"); f.Schema.Type != schema.TypeArray || !f.Schema.ValueSchema.Optional {
		t.Errorf("tags: %+v", f.Schema)
	}
}

// TestNullables: by default a null string reads back as "" (proto3 scalars
// have no presence; Confluent's behaviour); optional.for.nullables writes
// proto3 optional and keeps the null; wrapper.for.nullables writes
// google.protobuf.StringValue and keeps it too (testRoundTripConnect*ForNullables).
func TestNullables(t *testing.T) {
	s := schema.StructBuilder().Name("ns.Row").
		Field("id", schema.Int32Schema).
		Field("note", schema.OptionalString).
		Field("n", schema.OptionalInt64).Build()
	v := &schema.Struct{Schema: s, Values: []any{int32(1), nil, nil}}
	cases := []struct {
		name     string
		opts     func(*Options)
		line     string
		note, n  any
		required bool
	}{
		{"default", func(*Options) {}, "  string note = 2;\n", "", int64(0), false},
		{"optional.for.nullables", func(o *Options) { o.OptionalForNullables = true }, "  optional string note = 2;\n", nil, nil, true},
		{"wrapper.for.nullables", func(o *Options) { o.WrapperForNullables = true }, "  google.protobuf.StringValue note = 2;\n", nil, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			c.opts(&o)
			text, _, rs, rv := roundTrip(t, s, v, o)
			if !strings.Contains(text, c.line) {
				t.Errorf(".proto lacks %q:\n%s", c.line, text)
			}
			got := rv.(*schema.Struct)
			if got.Get("note") != c.note || got.Get("n") != c.n {
				t.Errorf("note=%#v n=%#v, want %#v %#v", got.Get("note"), got.Get("n"), c.note, c.n)
			}
			if f, _ := rs.Field("id"); f.Schema.Optional == c.required {
				t.Errorf("id optional=%v", f.Schema.Optional)
			}
			if f, _ := rs.Field("note"); !f.Schema.Optional {
				t.Errorf("note is not optional")
			}
			// a set value survives too
			v2 := &schema.Struct{Schema: s, Values: []any{int32(2), "x", int64(0)}}
			_, _, _, rv2 := roundTrip(t, s, v2, o)
			if g := rv2.(*schema.Struct); g.Get("note") != "x" || g.Get("n") != int64(0) {
				t.Errorf("set values: %v", g.Values)
			}
		})
	}
	o := DefaultOptions()
	o.WrapperForNullables = true
	text, _, _ := ProtoSchemaOf(s, o)
	if !strings.Contains(text, `import "google/protobuf/wrappers.proto";`) || !strings.Contains(text, "google.protobuf.Int64Value n = 3;") {
		t.Errorf("wrapper text:\n%s", text)
	}
}

// TestReadConfluentSchemas reads schemas from Confluent's ProtobufDataTest
// (testMultipleOneofs, testToConnectFullyQualifiedSchema,
// testToConnectFullyQualifiedMapSchema) and checks what those tests assert.
func TestReadConfluentSchemas(t *testing.T) {
	oneofs := "syntax = \"proto3\";\n\npackage foo;\n\nmessage Customer {\n    int64 count = 1;\n    string first_name = 2;\n" +
		"    string last_name = 3;\n    string address = 4;\n    oneof survey_id {\n        string survey_response_id = 5;\n" +
		"        string outgoing_action_id = 6;\n    }\n    oneof comment {\n        string email = 7;\n        string platform = 8;\n    }\n}"
	f, err := Compile(t.Context(), oneofs, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := f.Messages().Get(0)
	msg := dynamicpb.NewMessage(md)
	msg.Set(md.Fields().ByName("first_name"), protoreflect.ValueOfString("Bob"))
	msg.Set(md.Fields().ByName("outgoing_action_id"), protoreflect.ValueOfString("my outgoing_action_id"))
	msg.Set(md.Fields().ByName("platform"), protoreflect.ValueOfString("my platform"))
	r, err := newReader(f, md, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.dec(msg)
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*schema.Struct)
	if u, _ := st.Get("survey_id_0").(*schema.Struct); u == nil || u.Get("outgoing_action_id") != "my outgoing_action_id" {
		t.Errorf("survey_id_0 = %#v", st.Get("survey_id_0"))
	}
	if u, _ := st.Get("comment_1").(*schema.Struct); u == nil || u.Get("platform") != "my platform" {
		t.Errorf("comment_1 = %#v", st.Get("comment_1"))
	}
	if r.schema.Fields[0].Name != "survey_id_0" || r.schema.Fields[0].Schema.Name != ParamUnionPrefix+"survey_id" {
		t.Errorf("first field %+v", r.schema.Fields[0])
	}

	fq := "syntax = \"proto3\";\n\npackage foo;\n\nmessage Event {\n  Action action = 1;\n  Target target = 2;\n\n  message Target {\n" +
		"    oneof payload {\n      string payload_id = 1;\n      Action action = 2;\n    }\n    enum Action {\n      ON  = 0;\n      OFF = 1;\n    }\n  }\n\n" +
		"  oneof payload {\n    string payload_id = 3;\n  }\n\n  enum Action {\n    ON  = 0;\n    OFF = 1;\n  }\n}"
	f, err = Compile(t.Context(), fq, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.EnhancedSchemaSupport = true
	r, err = newReader(f, f.Messages().Get(0), o)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := r.schema.Field("payload_0"); p.Schema == nil || p.Schema.Name != "io.confluent.connect.protobuf.Union.foo.Event.payload" {
		t.Errorf("payload_0: %+v", p.Schema)
	}
	if a, _ := r.schema.Field("action"); a.Schema == nil || a.Schema.Name != "foo.Event.Action" {
		t.Errorf("action: %+v", a.Schema)
	}

	maps := "syntax = \"proto3\";\n\noption java_package = \"io.confluent.connect.protobuf.test\";\n\nmessage Customer {\n" +
		"  map<string,string> tags = 1;\n  Meta meta = 2;\n}\n\nmessage Meta {\n  map<string,Value> tags = 2;\n}\n\nmessage Value{\n  float a=1;\n  float b=2;\n}\n"
	f, err = Compile(t.Context(), maps, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err = newReader(f, f.Messages().Get(0), o)
	if err != nil {
		t.Fatal(err)
	}
	if tg, _ := r.schema.Field("tags"); tg.Schema == nil || tg.Schema.Name != "Customer.tags" || tg.Schema.Type != schema.TypeMap {
		t.Errorf("tags: %+v", tg.Schema)
	}
	m, _ := r.schema.Field("meta")
	if tg, _ := m.Schema.Field("tags"); tg.Schema == nil || tg.Schema.Name != "Meta.tags" {
		t.Errorf("meta.tags: %+v", tg.Schema)
	}
	// and a map<> value decodes into a Connect map
	md = f.Messages().Get(0)
	msg = dynamicpb.NewMessage(md)
	msg.Mutable(md.Fields().ByName("tags")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfString("v"))
	v, err = r.dec(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*schema.Struct).Get("tags"); !schema.EqualValues(got, map[any]any{"k": "v"}) {
		t.Errorf("tags value %#v", got)
	}
}

// TestWireHeader: Confluent's MessageIndexes: [0] is the single byte 0,
// other paths are zig-zag varints, the count first.
func TestWireHeader(t *testing.T) {
	if got := header(258, []int{0}); !bytes.Equal(got, []byte{0, 0, 0, 1, 2, 0}) {
		t.Errorf("header [0] = % x", got)
	}
	if got := header(1, []int{1, 2}); !bytes.Equal(got, []byte{0, 0, 0, 0, 1, 4, 2, 4}) {
		t.Errorf("header [1 2] = % x", got)
	}
	for _, idx := range [][]int{{0}, {3}, {1, 0, 70}} {
		id, got, body, err := parseHeader(append(header(77, idx), 0xaa))
		if err != nil || id != 77 || !slices.Equal(got, idx) || !bytes.Equal(body, []byte{0xaa}) {
			t.Errorf("parse %v: %d %v % x %v", idx, id, got, body, err)
		}
	}
	if _, _, _, err := parseHeader([]byte{1, 0, 0, 0, 1, 0}); err == nil {
		t.Error("magic byte 1 accepted")
	}
}

func TestScrubName(t *testing.T) {
	// ProtobufDataTest.testNameScrubbing's cases
	for in, want := range map[string]string{"abc_DEF_123": "abc_DEF_123", "abc.DEF.123": "abc_DEF_123", "abc-DEF-123": "abc_DEF_123",
		"123abc": "x123abc", "_abc": "x_abc", "": ""} {
		if got := ScrubName(in); got != want {
			t.Errorf("ScrubName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRefused(t *testing.T) {
	for _, s := range []*schema.Schema{schema.ArrayOf(schema.Int32Schema), schema.MapOf(schema.StringSchema, schema.StringSchema), schema.DecimalSchema(2, 0, false)} {
		if _, _, err := ProtoSchemaOf(s, DefaultOptions()); err == nil {
			t.Errorf("a root %s schema was accepted", s)
		}
	}
	nested := schema.StructBuilder().Name("x.Y").Field("a", schema.ArrayOf(schema.ArrayOf(schema.Int32Schema))).Build()
	if _, _, err := ProtoSchemaOf(nested, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("nested arrays: %v", err)
	}
}

// TestOneofRoundTrip: testMultipleOneofs' Customer read into Connect (two
// union structs) is written back with its oneofs and field numbers
// (oneofDefinitionFromConnectSchema: members keep their tags) and reads
// back the same.
func TestOneofRoundTrip(t *testing.T) {
	src := "syntax = \"proto3\";\n\npackage foo;\n\nmessage Customer {\n    int64 count = 1;\n    string first_name = 2;\n" +
		"    string last_name = 3;\n    string address = 4;\n    oneof survey_id {\n        string survey_response_id = 5;\n" +
		"        string outgoing_action_id = 6;\n    }\n    oneof comment {\n        string email = 7;\n        string platform = 8;\n    }\n}"
	f, err := Compile(t.Context(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := f.Messages().Get(0)
	msg := dynamicpb.NewMessage(md)
	msg.Set(md.Fields().ByName("count"), protoreflect.ValueOfInt64(3))
	msg.Set(md.Fields().ByName("first_name"), protoreflect.ValueOfString("Bob"))
	msg.Set(md.Fields().ByName("outgoing_action_id"), protoreflect.ValueOfString("my outgoing_action_id"))
	msg.Set(md.Fields().ByName("platform"), protoreflect.ValueOfString("my platform"))
	r, err := newReader(f, md, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.dec(msg)
	if err != nil {
		t.Fatal(err)
	}
	const want = `syntax = "proto3";

message Customer {
  int64 count = 1;
  string first_name = 2;
  string last_name = 3;
  string address = 4;

  oneof survey_id {
    string survey_response_id = 5;
    string outgoing_action_id = 6;
  }
  oneof comment {
    string email = 7;
    string platform = 8;
  }
}
`
	text, _, rs, rv := roundTrip(t, r.schema, v.(*schema.Struct), DefaultOptions())
	if text != want {
		t.Errorf(".proto:\n%s\nwant:\n%s", text, want)
	}
	if !schema.EqualValues(rv, v) || rs.Fields[0].Name != "survey_id_0" {
		t.Errorf("read back %#v, want %#v", rv, v)
	}
	// a union struct with no member set cannot be written
	empty := v.(*schema.Struct)
	empty.Values[0] = schema.NewStruct(r.schema.Fields[0].Schema)
	text, message, _ := ProtoSchemaOf(r.schema, DefaultOptions())
	f2, _ := Compile(t.Context(), text, nil)
	md2, _ := findMessage(f2, protoreflect.FullName(message))
	enc, _ := compileStruct(r.schema, md2, DefaultOptions())
	if _, err := enc.encode(empty); err == nil || !strings.Contains(err.Error(), "non-null") {
		t.Errorf("empty union: %v", err)
	}
}
