package jsonschemaconv

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

func startRegistry(t testing.TB) *registry.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := registry.NewServer(ctx, registry.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newConv(t testing.TB, srv *registry.Server, mod func(*Config)) *Converter {
	t.Helper()
	cl, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Registry = cl
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad literal %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Expected JSON Schemas and payloads are those of Confluent's
// JsonSchemaDataTest (json-schema-converter), written out as JSON: the
// everit builders there (NumberSchema.requiresInteger(true) is
// "type":"integer", unprocessedProperties are the connect.* members).
func TestFromConnectAsJsonSchemaData(t *testing.T) {
	record := schema.StructBuilder().Name("Record").
		Field("int8", schema.Int8Schema).Field("string", schema.StringSchema).Build()
	ts := schema.TimestampSchema(false)
	tsDefault := *ts
	tsDefault.Default = time.UnixMilli(0).UTC()
	cases := []struct {
		name        string
		dc          dataConfig
		s           *schema.Schema
		v           any
		wantSchema  string
		wantPayload string
	}{
		// testFromConnectNull
		{"optional boolean", defaultDataConfig(), schema.OptionalBoolean, nil,
			`{"oneOf":[{"type":"null"},{"type":"boolean"}]}`, `null`},
		// testFromConnectBoolean … testFromConnectString
		{"boolean", defaultDataConfig(), schema.BooleanSchema, true, `{"type":"boolean"}`, `true`},
		{"int8", defaultDataConfig(), schema.Int8Schema, int8(12), `{"type":"integer","connect.type":"int8"}`, `12`},
		{"int16", defaultDataConfig(), schema.Int16Schema, int16(12), `{"type":"integer","connect.type":"int16"}`, `12`},
		{"int32", defaultDataConfig(), schema.Int32Schema, int32(12), `{"type":"integer","connect.type":"int32"}`, `12`},
		{"int64", defaultDataConfig(), schema.Int64Schema, int64(12), `{"type":"integer","connect.type":"int64"}`, `12`},
		{"float32", defaultDataConfig(), schema.Float32Schema, float32(12.2), `{"type":"number","connect.type":"float32"}`, `12.2`},
		{"float64", defaultDataConfig(), schema.Float64Schema, 12.2, `{"type":"number","connect.type":"float64"}`, `12.2`},
		{"bytes", defaultDataConfig(), schema.BytesSchema, []byte("foo"), `{"type":"string","connect.type":"bytes"}`, `"Zm9v"`},
		{"string", defaultDataConfig(), schema.StringSchema, "string", `{"type":"string"}`, `"string"`},
		// testFromConnectBase64Decimal: the bytes {0, -100} of 1.56 at scale 2
		{"base64 decimal", defaultDataConfig(), schema.DecimalSchema(2, 0, false), decimal.RequireFromString("1.56"),
			`{"title":"org.apache.kafka.connect.data.Decimal","type":"string","connect.type":"bytes","connect.version":1,"connect.parameters":{"scale":"2"}}`,
			`"AJw="`},
		// testFromConnectNumericDecimal and …WithTrailingZeros
		{"numeric decimal", dataConfig{decimalNumeric: true, additionalProperties: true}, schema.DecimalSchema(2, 0, false), decimal.RequireFromString("1.56"),
			`{"title":"org.apache.kafka.connect.data.Decimal","type":"number","connect.type":"bytes","connect.version":1,"connect.parameters":{"scale":"2"}}`,
			`1.56`},
		{"numeric decimal trailing zeros", dataConfig{decimalNumeric: true, additionalProperties: true}, schema.DecimalSchema(4, 0, false), decimal.RequireFromString("1.56"),
			`{"title":"org.apache.kafka.connect.data.Decimal","type":"number","connect.type":"bytes","connect.version":1,"connect.parameters":{"scale":"4"}}`,
			`1.5600`},
		// testFromConnectTimestampWithDefault
		{"timestamp with default", defaultDataConfig(), &tsDefault, time.UnixMilli(1234567890).UTC(),
			`{"title":"org.apache.kafka.connect.data.Timestamp","default":0,"type":"integer","connect.type":"int64","connect.version":1}`,
			`1234567890`},
		// testFromConnectMapWithStringKey
		{"map with string key", defaultDataConfig(), schema.MapOf(schema.StringSchema, schema.Int32Schema), map[any]any{"hi": int32(32)},
			`{"type":"object","additionalProperties":{"type":"integer","connect.type":"int32"},"connect.type":"map"}`,
			`{"hi":32}`},
		// testFromConnectMapWithOptionalKey
		{"map with optional key", defaultDataConfig(), schema.MapOf(schema.OptionalString, schema.Int32Schema), map[any]any{"hi": int32(32)},
			`{"type":"array","items":{"type":"object","properties":{
				"key":{"oneOf":[{"type":"null"},{"type":"string"}],"connect.index":0},
				"value":{"type":"integer","connect.index":1,"connect.type":"int32"}}},"connect.type":"map"}`,
			`[{"key":"hi","value":32}]`},
		// testFromConnectMapWithNonStringKey
		{"map with non-string key", defaultDataConfig(), schema.MapOf(schema.Int32Schema, schema.Int32Schema), map[any]any{int32(54): int32(32)},
			`{"type":"array","items":{"type":"object","properties":{
				"key":{"type":"integer","connect.index":0,"connect.type":"int32"},
				"value":{"type":"integer","connect.index":1,"connect.type":"int32"}}},"connect.type":"map"}`,
			`[{"key":54,"value":32}]`},
		// testFromConnectRecordWithMissingNonoptional: the unset string is left out
		{"record with missing non-optional", defaultDataConfig(), record, &schema.Struct{Schema: record, Values: []any{int8(12), nil}},
			`{"title":"Record","type":"object","properties":{
				"int8":{"type":"integer","connect.index":0,"connect.type":"int8"},
				"string":{"type":"string","connect.index":1}}}`,
			`{"int8":12}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := tc.dc.jsonSchemaOf(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, string(appendJSON(nil, doc)), tc.wantSchema)
			b, err := tc.dc.appendValue(nil, tc.s, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, string(b), tc.wantPayload)
			if string(b) != strings.Join(strings.Fields(tc.wantPayload), "") {
				t.Fatalf("payload %s, want the bytes %s", b, tc.wantPayload)
			}
		})
	}
}

// Cases of JsonSchemaDataTest's toConnect tests.
func TestToConnectAsJsonSchemaData(t *testing.T) {
	oneOf := schema.StructBuilder().Name(OneOfName).
		Field(OneOfName+".field.0", schema.OptionalInt8).
		Field(OneOfName+".field.1", schema.OptionalInt16).Build()
	enum := schema.NewBuilder(schema.TypeString).Param(EnumParam, "").
		Param(EnumParam+".one", "one").Param(EnumParam+".two", "two").Param(EnumParam+".three", "three").Build()
	record := schema.StructBuilder().Name("Record").
		Field("int8", schema.Int8Schema).Field("string", schema.StringSchema).Build()
	cases := []struct {
		name       string
		jsonSchema string
		payload    string
		wantSchema *schema.Schema
		wantValue  any
	}{
		// testToConnectUnion
		{"union", `{"oneOf":[{"type":"integer","connect.type":"int8"},{"type":"integer","connect.type":"int16"}]}`, `12`,
			oneOf, &schema.Struct{Schema: oneOf, Values: []any{int8(12), nil}}},
		// testToConnectSingletonUnion
		{"singleton union", `{"oneOf":[{"type":"string"}]}`, `"bar"`, schema.StringSchema, "bar"},
		// testToConnectEnum
		{"enum", `{"enum":["one","two","three"]}`, `"one"`, enum, "one"},
		// testToConnectRecord
		{"record", `{"title":"Record","type":"object","properties":{"int8":{"type":"integer","connect.index":0,"connect.type":"int8"},"string":{"type":"string","connect.index":1}}}`,
			`{"int8":12,"string":"sample string"}`, record, &schema.Struct{Schema: record, Values: []any{int8(12), "sample string"}}},
		// testToConnectNullableString…: a type array is an anyOf
		{"nullable string", `{"type":["null","string"]}`, `"x"`, schema.OptionalString, "x"},
		// plain JSON types without connect.type: int64 and float64
		{"integer", `{"type":"integer"}`, `7`, schema.Int64Schema, int64(7)},
		{"number", `{"type":"number"}`, `7.5`, schema.Float64Schema, 7.5},
		// testToConnectMapStringKeys
		{"map", `{"type":"object","additionalProperties":{"type":"integer","connect.type":"int32"},"connect.type":"map"}`,
			`{"a":1}`, schema.MapOf(schema.StringSchema, schema.Int32Schema), map[any]any{"a": int32(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dc := defaultDataConfig()
			s, err := dc.connectSchemaOf(tc.jsonSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !schema.Equal(s, tc.wantSchema) {
				t.Fatalf("schema %+v, want %+v", s, tc.wantSchema)
			}
			p, err := parseOrdered([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			v, err := dc.toValue(s, p, true)
			if err != nil {
				t.Fatal(err)
			}
			if !schema.EqualValues(v, tc.wantValue) {
				t.Fatalf("value %#v, want %#v", v, tc.wantValue)
			}
		})
	}

	// testToConnectRecordWithOptionalReference (draft-04 there; $refs into
	// definitions, use.optional.for.nonrequired=true)
	text := `{"$schema":"http://json-schema.org/draft-07/schema#","title":"Event","type":"object",
		"properties":{"vehicle":{"$ref":"#/definitions/VehicleDto"}},
		"definitions":{
			"PriceDto":{"type":"object","required":["amount"],"properties":{"amount":{"type":"number","format":"decimal"}}},
			"VehicleDto":{"type":"object","required":["offerPrice","firstRegistrationDate"],"properties":{
				"offerPrice":{"connect.index":1,"$ref":"#/definitions/PriceDto"},
				"catalogPrice":{"connect.index":2,"oneOf":[{"type":"null"},{"$ref":"#/definitions/PriceDto"}]},
				"firstRegistrationDate":{"connect.index":3,"type":"string","format":"date-time"}}}}}`
	dc := dataConfig{additionalProperties: true, optionalNonRequired: true}
	s, err := dc.connectSchemaOf(text, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := parseOrdered([]byte(`{"vehicle":{"offerPrice":{"amount":20000},"firstRegistrationDate":"2020-08-19T12:05:15.953Z"}}`))
	v, err := dc.toValue(s, p, true)
	if err != nil {
		t.Fatal(err)
	}
	vehicle := s.Fields[0].Schema
	offer, _ := vehicle.Field("offerPrice")
	catalog, _ := vehicle.Field("catalogPrice")
	if offer.Schema.Optional || !catalog.Schema.Optional {
		t.Fatalf("offerPrice optional %v, catalogPrice optional %v", offer.Schema.Optional, catalog.Schema.Optional)
	}
	vs := v.(*schema.Struct).Values[0].(*schema.Struct)
	if vs.Get("offerPrice") == nil || vs.Get("catalogPrice") != nil {
		t.Fatalf("vehicle %+v", vs.Values)
	}
}

// allTypes is a struct of every Connect type, optional and required,
// logical types, nested structs, arrays, both kinds of map and a union.
func allTypes() (*schema.Schema, *schema.Struct) {
	inner := schema.StructBuilder().Name("io.example.Inner").Doc("an inner struct").
		Field("a", schema.Int32Schema).Field("b", schema.OptionalString).Build()
	optInner := inner.WithOptional(true)
	union := schema.StructBuilder().Name(OneOfName).
		Field(OneOfName+".field.0", schema.OptionalInt64).
		Field(OneOfName+".field.1", schema.OptionalString).Build()
	enum := schema.NewBuilder(schema.TypeString).Param(EnumParam, "").
		Param(EnumParam+".red", "red").Param(EnumParam+".green", "green").Build()
	withDefault := schema.NewBuilder(schema.TypeInt32).Default(int32(42)).Build()
	named := schema.NewBuilder(schema.TypeString).Name("io.debezium.data.Json").Version(1).Param("custom", "p").Build()
	s := schema.StructBuilder().Name("io.example.All").Version(3).
		Field("i8", schema.Int8Schema).Field("i16", schema.Int16Schema).Field("i32", schema.Int32Schema).Field("i64", schema.Int64Schema).
		Field("f32", schema.Float32Schema).Field("f64", schema.Float64Schema).Field("bool", schema.BooleanSchema).
		Field("str", schema.StringSchema).Field("bytes", schema.BytesSchema).
		Field("oi8", schema.OptionalInt8).Field("oi16", schema.OptionalInt16).Field("oi32", schema.OptionalInt32).Field("oi64", schema.OptionalInt64).
		Field("of32", schema.OptionalFloat32).Field("of64", schema.OptionalFloat64).Field("obool", schema.OptionalBoolean).
		Field("ostr", schema.OptionalString).Field("obytes", schema.OptionalBytes).
		Field("dec", schema.DecimalSchema(3, 10, false)).Field("odec", schema.DecimalSchema(2, 0, true)).
		Field("date", schema.DateSchema(false)).Field("time", schema.TimeSchema(false)).Field("ts", schema.TimestampSchema(false)).
		Field("ots", schema.TimestampSchema(true)).
		Field("arr", schema.ArrayOf(schema.Int32Schema)).Field("arrOpt", schema.ArrayOf(schema.OptionalString)).
		Field("smap", schema.MapOf(schema.StringSchema, schema.Float64Schema)).
		Field("imap", schema.MapOf(schema.Int64Schema, schema.StringSchema)).
		Field("inner", inner).Field("oinner", optInner).Field("arrInner", schema.ArrayOf(inner)).
		Field("union", union).Field("enum", enum).Field("withDefault", withDefault).Field("named", named).
		Build()
	v := &schema.Struct{Schema: s, Values: []any{
		int8(-128), int16(32767), int32(-2147483648), int64(math.MaxInt64),
		float32(3.25), -1.5e300, true,
		"Ünïcødé \"quoted\" \\ \n✓", []byte{0, 1, 0xff},
		int8(1), nil, int32(3), nil,
		nil, 2.5, false,
		nil, []byte("x"),
		decimal.RequireFromString("-12345.678"), nil,
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.UnixMilli(45296789).UTC(), time.UnixMilli(1700000000123).UTC(),
		nil,
		[]any{int32(1), int32(2)}, []any{"a", nil},
		map[any]any{"x": 1.0, "y": -0.5},
		map[any]any{int64(7): "seven", int64(-1): "minus"},
		&schema.Struct{Schema: inner, Values: []any{int32(1), "b"}},
		nil,
		[]any{&schema.Struct{Schema: inner, Values: []any{int32(2), nil}}},
		&schema.Struct{Schema: union, Values: []any{nil, "text"}},
		"green", int32(7), `{"k":1}`,
	}}
	return s, v
}

func TestRoundTripEveryType(t *testing.T) {
	srv := startRegistry(t)
	c := newConv(t, srv, func(c *Config) { c.FailInvalidSchema = true })
	s, v := allTypes()
	b, err := c.FromConnect("all", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0 || binary.BigEndian.Uint32(b[1:5]) != 1 {
		t.Fatalf("header % x", b[:5])
	}
	// a fresh converter reads it through the registry
	r := newConv(t, srv, func(c *Config) { c.FailInvalidSchema = true })
	gs, gv, err := r.ToConnect("all", nil, b)
	if err != nil {
		t.Fatalf("%v\npayload %s", err, b[5:])
	}
	if !schema.Equal(gs, s) {
		js, _ := c.JSONSchema(s)
		t.Fatalf("schema read back differs\n got %+v\nwant %+v\njson schema %s", gs, s, js)
	}
	if !schema.EqualValues(gv, v) {
		t.Fatalf("value read back differs\n got %+v\nwant %+v\npayload %s", gv, v, b[5:])
	}
	// the registered schema is schemaType JSON under all-value
	id, got, err := c.Registry().LatestSchema(context.Background(), "all-value")
	if err != nil || id != 1 || got.Type != registry.TypeJSON {
		t.Fatalf("registered %d %+v %v", id, got, err)
	}
	// tombstones
	if b, err := c.FromConnect("all", nil, s, nil); err != nil || b != nil {
		t.Fatalf("tombstone %v %v", b, err)
	}
	if s, v, err := r.ToConnect("all", nil, nil); s != nil || v != nil || err != nil {
		t.Fatalf("nil bytes %v %v %v", s, v, err)
	}
	// keys use <topic>-key
	k := newConv(t, srv, func(c *Config) { c.IsKey = true })
	if _, err := k.FromConnect("all", nil, schema.Int32Schema, int32(1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Registry().LatestSchema(context.Background(), "all-key"); err != nil {
		t.Fatal(err)
	}
}

func TestConfigAndErrors(t *testing.T) {
	srv := startRegistry(t)
	// unknown and malformed keys are refused by name
	for _, m := range []map[string]string{
		{KeyRegistryURL: srv.URL(), "json.fail.invalid.schemas": "true"},
		{KeyRegistryURL: srv.URL(), KeyFailInvalidSchema: "maybe"},
		{KeyRegistryURL: srv.URL(), KeyDecimalFormat: "HEX"},
		{KeyRegistryURL: srv.URL(), KeyValSubjectStrategy: "Nope"},
		{},
	} {
		if _, err := ConfigFromMap(m, false); err == nil {
			t.Errorf("%v accepted", m)
		}
	}
	cfg, err := ConfigFromMap(map[string]string{KeyRegistryURL: srv.URL(), KeyAutoRegister: "false", KeyUseLatestVersion: "true",
		KeyFailInvalidSchema: "true", KeyDecimalFormat: "NUMERIC", KeyAdditionalProperties: "false", KeyOptionalNonRequired: "true",
		KeyKeySubjectStrategy: "io.confluent.kafka.serializers.subject.RecordNameStrategy"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AutoRegister || !cfg.UseLatestVersion || !cfg.FailInvalidSchema || !cfg.DecimalNumeric || !cfg.NoAdditionalProperties ||
		!cfg.OptionalForNonRequired || cfg.SubjectStrategy != RecordNameStrategy || !cfg.IsKey {
		t.Fatalf("config %+v", cfg)
	}

	rec := schema.StructBuilder().Name("io.example.Rec").Field("a", schema.Int32Schema).Build()
	val := &schema.Struct{Schema: rec, Values: []any{int32(1)}}
	// auto.register.schemas=false: the lookup fails until the schema is there
	noReg := newConv(t, srv, func(c *Config) { c.AutoRegister = false })
	if _, err := noReg.FromConnect("t", nil, rec, val); err == nil {
		t.Fatal("lookup of an unregistered schema succeeded")
	}
	// RecordNameStrategy names the subject by the title
	byName := newConv(t, srv, func(c *Config) { c.SubjectStrategy = RecordNameStrategy })
	if _, err := byName.FromConnect("t", nil, rec, val); err != nil {
		t.Fatal(err)
	}
	if _, _, err := byName.Registry().LatestSchema(context.Background(), "io.example.Rec"); err != nil {
		t.Fatal(err)
	}
	if _, err := byName.FromConnect("t", nil, schema.Int32Schema, int32(1)); err == nil {
		t.Fatal("RecordNameStrategy without a title accepted")
	}
	// use.latest.version writes with the latest id of the subject
	latest := newConv(t, srv, func(c *Config) {
		c.AutoRegister = false
		c.UseLatestVersion = true
		c.SubjectStrategy = RecordNameStrategy
	})
	b, err := latest.FromConnect("t", nil, rec, val)
	if err != nil {
		t.Fatal(err)
	}
	if id := binary.BigEndian.Uint32(b[1:5]); id != 1 {
		t.Fatalf("use.latest.version wrote id %d", id)
	}
	// json.fail.invalid.schema: a payload that does not match the writer's
	// schema is refused when read
	strict := newConv(t, srv, func(c *Config) { c.FailInvalidSchema = true })
	bad := append(append([]byte{}, b[:5]...), `{"a":"not a number"}`...)
	if _, _, err := strict.ToConnect("t", nil, bad); !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("invalid payload read: %v", err)
	}
	lax := newConv(t, srv, nil)
	if _, _, err := lax.ToConnect("t", nil, bad); err == nil || errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("lax read of a bad payload: %v", err) // fails in the mapping instead
	}
	if _, _, err := lax.ToConnect("t", nil, []byte{1, 0, 0, 0, 1, '1'}); !errors.Is(err, ErrUnknownMagicByte) {
		t.Fatalf("magic: %v", err)
	}
	if _, err := lax.FromConnect("t", nil, nil, "x"); err == nil {
		t.Fatal("schemaless value accepted")
	}
}

// An added optional field is a new schema version: refused by the
// registry's default BACKWARD check for open struct schemas (Confluent's
// STRICT OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL), accepted for closed
// ones (object.additional.properties=false).
func TestSchemaEvolution(t *testing.T) {
	srv := startRegistry(t)
	v1 := schema.StructBuilder().Name("R").Field("a", schema.Int32Schema).Build()
	v2 := schema.StructBuilder().Name("R").Field("a", schema.Int32Schema).Field("b", schema.OptionalString).Build()
	for _, closed := range []bool{false, true} {
		c := newConv(t, srv, func(c *Config) { c.NoAdditionalProperties = closed })
		topic := fmt.Sprintf("evolve-%v", closed)
		if _, err := c.FromConnect(topic, nil, v1, &schema.Struct{Schema: v1, Values: []any{int32(1)}}); err != nil {
			t.Fatal(err)
		}
		_, err := c.FromConnect(topic, nil, v2, &schema.Struct{Schema: v2, Values: []any{int32(1), "x"}})
		if closed && err != nil {
			t.Fatalf("closed model: %v", err)
		}
		if !closed && (err == nil || !strings.Contains(err.Error(), "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")) {
			t.Fatalf("open model: %v", err)
		}
	}
}

// allOf as JsonSchemaDataTest reads it (testToConnect*InAllOf,
// testCombinedSchemaAllOfRef).
func TestToConnectAllOf(t *testing.T) {
	enum := schema.NewBuilder(schema.TypeString).Param(EnumParam, "").
		Param(EnumParam+".one", "one").Param(EnumParam+".two", "two").Param(EnumParam+".three", "three").Build()
	oneOf := schema.StructBuilder().Name(OneOfName).
		Field(OneOfName+".field.0", schema.OptionalInt8).Field(OneOfName+".field.1", schema.OptionalInt16).Build()
	cases := []struct {
		name, jsonSchema string
		want             *schema.Schema
	}{
		{"enum in allOf", `{"allOf":[{"type":"string"},{"enum":["one","two","three"]}]}`, enum},
		{"int enum in allOf", `{"allOf":[{"type":"number"},{"enum":[1,2,3]}]}`, schema.Float64Schema},
		{"union enum in allOf", `{"allOf":[{"oneOf":[{"type":"integer","connect.type":"int8"},{"type":"integer","connect.type":"int16"}]},{"enum":[1,2,3]}]}`, oneOf},
		{"string const", `{"const":"money","type":"string"}`, schema.StringSchema},
		{"integer const", `{"const":123,"type":"integer"}`, schema.Int64Schema},
		{"number const", `{"const":123.45,"type":"number"}`, schema.Float64Schema},
		{"reference in allOf", `{"allOf":[{"$ref":"#/definitions/n"}],"definitions":{"n":{"type":"integer","connect.type":"int64"}}}`, schema.Int64Schema},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := defaultDataConfig().connectSchemaOf(tc.jsonSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !schema.Equal(s, tc.want) {
				t.Fatalf("got %+v, want %+v", s, tc.want)
			}
		})
	}
	s, err := defaultDataConfig().connectSchemaOf(`{"$schema":"http://json-schema.org/draft-07/schema#",
		"allOf":[{"$ref":"#/definitions/MessageBase"},{"$ref":"#/definitions/MessageBase2"}],
		"title":"IdentifyUserMessage","description":"An IdentifyUser message","type":"object",
		"properties":{"prevUserId":{"type":"string"},"newUserId":{"type":"string"}},
		"definitions":{"MessageBase":{"properties":{"id":{"type":"string"},"type":{"type":"string"}}},
			"MessageBase2":{"properties":{"id2":{"type":"string"}}}}}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"id", "type", "id2", "newUserId", "prevUserId"} {
		if _, ok := s.Field(f); !ok {
			t.Errorf("allOf struct lacks %s: %+v", f, s.Fields)
		}
	}
	// testCombinedSchemaTitleAndObject
	s, err = defaultDataConfig().connectSchemaOf(`{"title":"Product Identifier","type":"object","anyOf":[
		{"type":"object","properties":{"keycode":{"type":"string"}}},{"type":"object","properties":{"itemCode":{"type":"string"}}}]}`, nil)
	if err != nil || s.Name != OneOfName {
		t.Fatalf("title and object: %+v %v", s, err)
	}
}
