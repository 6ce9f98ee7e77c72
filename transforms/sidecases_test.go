package transforms

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// Cases follow the examples of Kafka Connect's transform documentation
// (kafka.apache.org/documentation/#connect_transforms and Confluent's SMT
// reference pages), with the outputs Connect produces for them.

func TestCast(t *testing.T) {
	in := structSchema("rec", "ID", schema.Int32Schema, "score", schema.OptionalInt32, "name", schema.StringSchema)
	out := structSchema("rec", "ID", schema.StringSchema, "score", schema.OptionalFloat64, "name", schema.StringSchema)
	ts := structSchema("", "ts", schema.TimestampSchema(false), "d", schema.DateSchema(true), "raw", schema.BytesSchema)
	tsOut := structSchema("", "ts", schema.Int64Schema, "d", schema.OptionalString, "raw", schema.StringSchema)
	withDefault := structSchema("", "n", schema.NewBuilder(schema.TypeInt64).Optional().Default(int64(7)).Build())
	withDefaultOut := structSchema("", "n", schema.NewBuilder(schema.TypeString).Optional().Default("7").Build())
	arr := structSchema("", "a", schema.ArrayOf(schema.Int32Schema))
	day := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	runSideCases(t, []sideCase{
		{name: "docs example ID:string,score:float64", smt: "Cast", conf: []string{"spec", "ID:string,score:float64"},
			inS: in, in: mkStruct(in, int32(42), int32(7), "x"),
			wantS: out, want: mkStruct(out, "42", float64(7), "x")},
		{name: "null optional field stays null", smt: "Cast", conf: []string{"spec", "ID:string,score:float64"},
			inS: in, in: mkStruct(in, int32(42), nil, "x"),
			wantS: out, want: mkStruct(out, "42", nil, "x")},
		{name: "schemaless", smt: "Cast", conf: []string{"spec", "ID:string,score:float64,flag:boolean"},
			in:   map[string]any{"ID": int64(42), "score": int64(7), "name": "x", "flag": "TRUE"},
			want: map[string]any{"ID": "42", "score": float64(7), "name": "x", "flag": true}},
		{name: "schemaless missing field becomes null (as Connect)", smt: "Cast", conf: []string{"spec", "gone:int32"},
			in:   map[string]any{"a": int64(1)},
			want: map[string]any{"a": int64(1), "gone": nil}},
		{name: "whole value int64 to int8 wraps like Java", smt: "Cast", conf: []string{"spec", "int8"},
			inS: schema.Int64Schema, in: int64(300), wantS: schema.Int8Schema, want: int8(44)},
		{name: "whole value schemaless float to int32 truncates", smt: "Cast", conf: []string{"spec", "int32"},
			in: float64(3.99), want: int32(3)},
		{name: "whole value string to float64", smt: "Cast", conf: []string{"spec", "float64"},
			inS: schema.OptionalString, in: "1.5e3", wantS: schema.OptionalFloat64, want: float64(1500)},
		{name: "whole value float to string uses Java formatting", smt: "Cast", conf: []string{"spec", "string"},
			inS: schema.Float64Schema, in: float64(1e7), wantS: schema.StringSchema, want: "1.0E7"},
		{name: "whole value boolean to int16", smt: "Cast", conf: []string{"spec", "int16"},
			in: true, want: int16(1)},
		{name: "logical types: timestamp to int64, date to string, bytes to base64", smt: "Cast", conf: []string{"spec", "ts:int64,d:string,raw:string"},
			inS: ts, in: mkStruct(ts, testTime, day, []byte{1, 2, 3}),
			wantS: tsOut, want: mkStruct(tsOut, testTime.UnixMilli(), "2024-01-15", "AQID")},
		{name: "decimal to float64", smt: "Cast", conf: []string{"spec", "float64"},
			inS: schema.DecimalSchema(2, 10, false), in: decimal.RequireFromString("123.45"), wantS: schema.Float64Schema, want: 123.45},
		{name: "field default is cast too", smt: "Cast", conf: []string{"spec", "n:string"},
			inS: withDefault, in: mkStruct(withDefault, int64(1)), wantS: withDefaultOut, want: mkStruct(withDefaultOut, "1")},
		{name: "null with default is replaced by the default (replace.null.with.default=true)", smt: "Cast", conf: []string{"spec", "n:string"},
			inS: withDefault, in: mkStruct(withDefault, nil), wantS: withDefaultOut, want: mkStruct(withDefaultOut, "7")},
		{name: "unparseable string is out of range", smt: "Cast", conf: []string{"spec", "ID:int32"},
			in: map[string]any{"ID": "abc"}, wantErr: "field ID: Value (abc) was out of range"},
		{name: "array field cannot be cast", smt: "Cast", conf: []string{"spec", "a:string"},
			inS: arr, in: mkStruct(arr, []any{int32(1)}), wantErr: "field a: Cast transformation does not support casting from ARRAY"},
		{name: "bytes cannot become a number", smt: "Cast", conf: []string{"spec", "int32"},
			inS: schema.BytesSchema, in: []byte{1}, wantErr: "Unexpected type"},
		{name: "schema'd non-struct with a field spec", smt: "Cast", conf: []string{"spec", "a:int32"},
			inS: schema.StringSchema, in: "x", wantErr: "only Struct objects supported"},
		{name: "tombstone passes through", smt: "Cast", conf: []string{"spec", "int32"},
			inS: schema.OptionalInt64, in: nil, wantS: schema.OptionalInt64, want: nil},
	})
}

func TestFlatten(t *testing.T) {
	name := structSchema("name", "first", schema.StringSchema, "middle", schema.OptionalString, "last", schema.StringSchema)
	content := structSchema("content", "id", schema.Int32Schema, "name", name)
	top := structSchema("top", "content", content)
	flat := structSchema("top", "content_id", schema.Int32Schema, "content_name_first", schema.StringSchema,
		"content_name_middle", schema.OptionalString, "content_name_last", schema.StringSchema)
	optName := optional(name)
	top2 := structSchema("", "id", schema.Int32Schema, "name", optName, "tags", schema.ArrayOf(schema.StringSchema))
	flat2 := structSchema("", "id", schema.Int32Schema, "name.first", schema.OptionalString,
		"name.middle", schema.OptionalString, "name.last", schema.OptionalString, "tags", schema.ArrayOf(schema.StringSchema))
	mapField := structSchema("", "m", schema.MapOf(schema.StringSchema, schema.StringSchema))
	dup := structSchema("", "a.b", schema.Int32Schema, "a", structSchema("", "b", schema.Int32Schema))
	runSideCases(t, []sideCase{
		{name: "docs example delimiter _", smt: "Flatten", conf: []string{"delimiter", "_"},
			inS: top, in: mkStruct(top, mkStruct(content, int32(42), mkStruct(name, "David", nil, "Wong"))),
			wantS: flat, want: mkStruct(flat, int32(42), "David", nil, "Wong")},
		{name: "docs example schemaless", smt: "Flatten", conf: []string{"delimiter", "_"},
			in: map[string]any{"content": map[string]any{"id": int64(42),
				"name": map[string]any{"first": "David", "middle": nil, "last": "Wong"}}},
			want: map[string]any{"content_id": int64(42), "content_name_first": "David", "content_name_middle": nil, "content_name_last": "Wong"}},
		{name: "optional parent makes leaves optional; null parent gives nulls; arrays kept", smt: "Flatten",
			inS: top2, in: mkStruct(top2, int32(1), nil, []any{"a"}),
			wantS: flat2, want: mkStruct(flat2, int32(1), nil, nil, nil, []any{"a"})},
		{name: "schemaless arrays kept", smt: "Flatten",
			in:   map[string]any{"a": map[string]any{"b": []any{int64(1)}}},
			want: map[string]any{"a.b": []any{int64(1)}}},
		{name: "map with schema is not supported", smt: "Flatten",
			inS: mapField, in: mkStruct(mapField, map[any]any{"k": "v"}), wantErr: "Flatten transformation does not support MAP"},
		{name: "colliding names are an error", smt: "Flatten",
			inS: dup, in: mkStruct(dup, int32(1), mkStruct(dup.Fields[1].Schema, int32(2))), wantErr: `duplicate field name "a.b"`},
		{name: "not a map", smt: "Flatten", in: "x", wantErr: "only Map objects supported"},
	})
}

func TestMaskField(t *testing.T) {
	s := structSchema("", "string_field", schema.StringSchema, "int_field", schema.Int32Schema, "dec", schema.DecimalSchema(2, 0, false),
		"ts", schema.TimestampSchema(false), "bool", schema.BooleanSchema, "keep", schema.StringSchema, "opt", schema.OptionalInt64)
	bs := structSchema("", "b", schema.BytesSchema)
	runSideCases(t, []sideCase{
		{name: "empty values by type", smt: "MaskField", conf: []string{"fields", "string_field,int_field,dec,ts,bool,opt"},
			inS: s, in: mkStruct(s, "secret", int32(5), decimal.RequireFromString("1.23"), testTime, true, "k", nil),
			wantS: s, want: mkStruct(s, "", int32(0), decimal.Zero, time.UnixMilli(0).UTC(), false, "k", nil)},
		{name: "docs example replacement", smt: "MaskField", conf: []string{"fields", "string_field", "replacement", "<redacted>"},
			inS: s, in: mkStruct(s, "secret", int32(5), decimal.Zero, testTime, true, "k", int64(1)),
			wantS: s, want: mkStruct(s, "<redacted>", int32(5), decimal.Zero, testTime, true, "k", int64(1))},
		{name: "numeric replacement", smt: "MaskField", conf: []string{"fields", "int_field,dec", "replacement", "123"},
			inS: s, in: mkStruct(s, "secret", int32(5), decimal.Zero, testTime, true, "k", int64(1)),
			wantS: s, want: mkStruct(s, "secret", int32(123), decimal.RequireFromString("123"), testTime, true, "k", int64(1))},
		{name: "schemaless", smt: "MaskField", conf: []string{"fields", "ssn,n,list"},
			in:   map[string]any{"ssn": "123-45", "n": int64(9), "list": []any{"a"}, "x": "y"},
			want: map[string]any{"ssn": "", "n": int64(0), "list": []any{}, "x": "y"}},
		{name: "non-numeric replacement for a number", smt: "MaskField", conf: []string{"fields", "n", "replacement", "abc"},
			in: map[string]any{"n": int64(9)}, wantErr: "field n: Unable to convert abc"},
		{name: "replacement for a boolean", smt: "MaskField", conf: []string{"fields", "bool", "replacement", "x"},
			inS: s, in: mkStruct(s, "", int32(0), decimal.Zero, testTime, true, "", nil), wantErr: "field bool: Cannot mask value of type class java.lang.Boolean with custom replacement"},
		{name: "bytes cannot be masked", smt: "MaskField", conf: []string{"fields", "b"},
			inS: bs, in: mkStruct(bs, []byte{1}), wantErr: "field b: Cannot mask value of type: class [B"},
	})
}

func TestInsertField(t *testing.T) {
	s := structSchema("rec", "id", schema.Int32Schema)
	out := structSchema("rec", "id", schema.Int32Schema, "topic", schema.StringSchema, "part", schema.OptionalInt32,
		"off", schema.OptionalInt64, "ts", schema.TimestampSchema(true), "MessageSource", schema.OptionalString)
	all := []string{"topic.field", "topic!", "partition.field", "part", "offset.field", "off?", "timestamp.field", "ts",
		"static.field", "MessageSource", "static.value", "Kafka Connect framework"}
	src := structSchema("rec", "id", schema.Int32Schema, "MessageSource", schema.OptionalString)
	runSideCases(t, []sideCase{
		{name: "all metadata fields on a sink record", smt: "InsertField", conf: all,
			inS: s, in: mkStruct(s, int32(1)),
			wantS: out, want: mkStruct(out, int32(1), "test", int32(3), int64(42), testTime.Truncate(time.Millisecond), "Kafka Connect framework")},
		{name: "schemaless", smt: "InsertField", conf: all,
			in: map[string]any{"id": int64(1)},
			want: map[string]any{"id": int64(1), "topic": "test", "part": int64(3), "off": int64(42), "ts": testTime.UnixMilli(),
				"MessageSource": "Kafka Connect framework"}},
		{name: "docs example static field on a source record", smt: "InsertField", source: true,
			conf: []string{"static.field", "MessageSource", "static.value", "Kafka Connect framework"},
			inS:  s, in: mkStruct(s, int32(1)), wantS: src, want: mkStruct(src, int32(1), "Kafka Connect framework")},
		{name: "offset on a source record", smt: "InsertField", source: true, conf: []string{"offset.field", "off"},
			inS: s, in: mkStruct(s, int32(1)), wantErr: "Only SinkRecord supported"},
		{name: "tombstone passes through", smt: "InsertField", conf: all, inS: s, in: nil, wantS: s, want: nil},
		{name: "duplicate field name", smt: "InsertField", conf: []string{"topic.field", "id"},
			inS: s, in: mkStruct(s, int32(1)), wantErr: `duplicate field name "id"`},
	})
}

func TestReplaceField(t *testing.T) {
	s := structSchema("rec", "foo", schema.Int32Schema, "bar", schema.StringSchema, "baz", schema.BooleanSchema, "qux", optional(schema.Int64Schema))
	renamed := structSchema("rec", "c1", schema.Int32Schema, "c2", schema.StringSchema, "qux", optional(schema.Int64Schema))
	inc := structSchema("rec", "foo", schema.Int32Schema)
	in := mkStruct(s, int32(42), "b", true, int64(7))
	runSideCases(t, []sideCase{
		{name: "docs example exclude + renames", smt: "ReplaceField", conf: []string{"exclude", "baz", "renames", "foo:c1,bar:c2"},
			inS: s, in: in, wantS: renamed, want: mkStruct(renamed, int32(42), "b", int64(7))},
		{name: "exclude wins over include", smt: "ReplaceField", conf: []string{"include", "foo,bar", "exclude", "bar"},
			inS: s, in: in, wantS: inc, want: mkStruct(inc, int32(42))},
		{name: "deprecated blacklist and whitelist names", smt: "ReplaceField", conf: []string{"whitelist", "foo,bar", "blacklist", "bar"},
			inS: s, in: in, wantS: inc, want: mkStruct(inc, int32(42))},
		{name: "schemaless", smt: "ReplaceField", conf: []string{"exclude", "baz", "renames", "foo:c1,bar:c2"},
			in:   map[string]any{"foo": int64(42), "bar": "b", "baz": true, "qux": nil},
			want: map[string]any{"c1": int64(42), "c2": "b", "qux": nil}},
		{name: "renames of absent fields are ignored", smt: "ReplaceField", conf: []string{"renames", "nope:x"},
			inS: s, in: in, wantS: s, want: in},
		{name: "rename onto an existing field", smt: "ReplaceField", conf: []string{"renames", "foo:bar"},
			inS: s, in: in, wantErr: `duplicate field name "bar"`},
		{name: "tombstone passes through", smt: "ReplaceField", conf: []string{"exclude", "baz"}, inS: s, in: nil, wantS: s, want: nil},
	})
}

func TestExtractField(t *testing.T) {
	s := structSchema("k", "id", schema.Int32Schema, "cost", schema.Int32Schema)
	inner := structSchema("inner", "b", schema.OptionalString)
	nested := structSchema("", "a", optional(inner))
	runSideCases(t, []sideCase{
		{name: "docs example", smt: "ExtractField", conf: []string{"field", "id"},
			inS: s, in: mkStruct(s, int32(42), int32(4000)), wantS: schema.Int32Schema, want: int32(42)},
		{name: "docs example schemaless", smt: "ExtractField", conf: []string{"field", "id"},
			in: map[string]any{"id": int64(42), "cost": int64(4000)}, want: int64(42)},
		{name: "schemaless missing gives null", smt: "ExtractField", conf: []string{"field", "nope"},
			in: map[string]any{"id": int64(42)}, want: nil},
		{name: "unknown field", smt: "ExtractField", conf: []string{"field", "nope"},
			inS: s, in: mkStruct(s, int32(42), int32(1)), wantErr: "field nope: Unknown field: nope"},
		{name: "V2 nested path", smt: "ExtractField", conf: []string{"field", "a.b", "field.syntax.version", "V2"},
			inS: nested, in: mkStruct(nested, mkStruct(inner, "deep")), wantS: schema.OptionalString, want: "deep"},
		{name: "V2 nested path through null", smt: "ExtractField", conf: []string{"field", "a.b", "field.syntax.version", "V2"},
			inS: nested, in: mkStruct(nested, nil), wantS: schema.OptionalString, want: nil},
		{name: "V2 nested schemaless", smt: "ExtractField", conf: []string{"field", "a.b", "field.syntax.version", "V2"},
			in: map[string]any{"a": map[string]any{"b": "deep"}}, want: "deep"},
		{name: "V1 takes dots literally", smt: "ExtractField", conf: []string{"field", "a.b"},
			in: map[string]any{"a.b": "flat"}, want: "flat"},
		{name: "null value keeps the field schema", smt: "ExtractField", conf: []string{"field", "id"},
			inS: optional(s), in: nil, wantS: schema.Int32Schema, want: nil},
	})
}

func TestHoistField(t *testing.T) {
	out := structSchema("", "line", schema.StringSchema)
	runSideCases(t, []sideCase{
		{name: "docs example", smt: "HoistField", conf: []string{"field", "line"},
			inS: schema.StringSchema, in: "hello", wantS: out, want: mkStruct(out, "hello")},
		{name: "schemaless", smt: "HoistField", conf: []string{"field", "line"},
			in: "hello", want: map[string]any{"line": "hello"}},
		{name: "null for a required schema", smt: "HoistField", conf: []string{"field", "line"},
			inS: schema.StringSchema, in: nil, wantErr: "null used for required field"},
	})
}

func TestSetSchemaMetadata(t *testing.T) {
	s := structSchema("old", "id", schema.Int32Schema)
	renamed := structSchema("order-value", "id", schema.Int32Schema)
	renamed.Version = 2
	versioned := structSchema("old", "id", schema.Int32Schema)
	versioned.Version = 3
	runSideCases(t, []sideCase{
		{name: "docs example", smt: "SetSchemaMetadata", conf: []string{"schema.name", "order-value", "schema.version", "2"},
			inS: s, in: mkStruct(s, int32(1)), wantS: renamed, want: mkStruct(renamed, int32(1))},
		{name: "version only keeps the name", smt: "SetSchemaMetadata", conf: []string{"schema.version", "3"},
			inS: s, in: mkStruct(s, int32(1)), wantS: versioned, want: mkStruct(versioned, int32(1))},
		{name: "primitive", smt: "SetSchemaMetadata", conf: []string{"schema.name", "n"},
			inS: schema.Int64Schema, in: int64(5), wantS: schema.NewBuilder(schema.TypeInt64).Name("n").Build(), want: int64(5)},
		{name: "schemaless", smt: "SetSchemaMetadata", conf: []string{"schema.name", "n"},
			in: map[string]any{"a": int64(1)}, wantErr: "Schema required"},
	})
}

func TestTimestampConverter(t *testing.T) {
	s := structSchema("rec", "timestamp", schema.Int64Schema, "other", schema.StringSchema)
	strOut := structSchema("rec", "timestamp", schema.StringSchema, "other", schema.StringSchema)
	strIn := structSchema("rec", "when", schema.OptionalString)
	tsOut := structSchema("rec", "when", schema.TimestampSchema(true))
	const oct1 = int64(1696118400000) // 2023-10-01T00:00:00Z
	runSideCases(t, []sideCase{
		{name: "docs example unix to string", smt: "TimestampConverter", conf: []string{"field", "timestamp", "target.type", "string", "format", "yyyy-MM-dd"},
			inS: s, in: mkStruct(s, oct1, "x"), wantS: strOut, want: mkStruct(strOut, "2023-10-01", "x")},
		{name: "schemaless unix to string", smt: "TimestampConverter", conf: []string{"field", "timestamp", "target.type", "string", "format", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
			in: map[string]any{"timestamp": testTime.UnixMilli()}, want: map[string]any{"timestamp": "2023-10-01T12:34:56.789+0000"}},
		{name: "string to Timestamp", smt: "TimestampConverter", conf: []string{"field", "when", "target.type", "Timestamp", "format", "yyyy-MM-dd HH:mm:ss"},
			inS: strIn, in: mkStruct(strIn, "2023-10-01 12:34:56"), wantS: tsOut, want: mkStruct(tsOut, testTime.Truncate(time.Second))},
		{name: "whole Timestamp to Date", smt: "TimestampConverter", conf: []string{"target.type", "Date"},
			inS: schema.TimestampSchema(false), in: testTime, wantS: schema.DateSchema(false), want: time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC)},
		{name: "whole Timestamp to Time", smt: "TimestampConverter", conf: []string{"target.type", "Time"},
			inS: schema.TimestampSchema(false), in: testTime, wantS: schema.TimeSchema(false), want: time.Date(1970, 1, 1, 12, 34, 56, 789e6, time.UTC)},
		{name: "Timestamp to unix microseconds", smt: "TimestampConverter", conf: []string{"target.type", "unix", "unix.precision", "microseconds"},
			inS: schema.TimestampSchema(true), in: testTime, wantS: schema.OptionalInt64, want: testTime.UnixMilli() * 1000},
		{name: "unix seconds to Timestamp, schemaless", smt: "TimestampConverter", conf: []string{"target.type", "Timestamp", "unix.precision", "seconds"},
			in: int64(1696118400), want: time.UnixMilli(oct1).UTC()},
		{name: "schemaless string without format", smt: "TimestampConverter", conf: []string{"target.type", "unix"},
			in: "2023-10-01", wantErr: "needs the format option"},
		{name: "unparseable string", smt: "TimestampConverter", conf: []string{"target.type", "unix", "format", "yyyy-MM-dd"},
			in: "yesterday", wantErr: "Could not parse timestamp: value (yesterday) does not match pattern (yyyy-MM-dd)"},
		{name: "not a timestamp type", smt: "TimestampConverter", conf: []string{"target.type", "unix"},
			inS: schema.BooleanSchema, in: true, wantErr: "does not correspond to a known timestamp type"},
	})
}

func TestHoistThenExtractRoundTrip(t *testing.T) {
	c := mustChain(t, map[string]string{
		"transforms":               "hoist,extract",
		"transforms.hoist.type":    kafkaPkg + "HoistField$Value",
		"transforms.hoist.field":   "f",
		"transforms.extract.type":  kafkaPkg + "ExtractField$Value",
		"transforms.extract.field": "f",
	})
	in := baseRecord()
	in.ValueSchema, in.Value = schema.Int64Schema, int64(7)
	out, keep, err := applyChecked(t, c, in)
	if err != nil || !keep || out.ValueSchema != schema.Int64Schema || out.Value != int64(7) {
		t.Fatalf("got %s keep=%v err=%v", renderRecord(out), keep, err)
	}
}
