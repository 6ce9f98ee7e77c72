package jsonconv

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

type golden struct {
	name    string
	cfg     Config
	schema  *schema.Schema
	value   any
	decoded any  // expected value after decoding; value when nil and !decodedNil
	decNil  bool // the decoded value is nil
	want    string
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func mysqlSourceSchema() *schema.Schema {
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

// debeziumCreate is the spec §2.3 example: an insert into inventory.customers.
func debeziumCreate() (*schema.Schema, *schema.Struct, *schema.Schema, *schema.Struct) {
	row := schema.NewStructSchema("dbserver1.inventory.customers.Value",
		schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "first_name", Schema: schema.StringSchema},
		schema.Field{Name: "email", Schema: schema.StringSchema},
		schema.Field{Name: "balance", Schema: schema.DecimalSchema(2, 10, true)},
	)
	src := mysqlSourceSchema()
	env := cdc.EnvelopeSchema("dbserver1.inventory.customers.Envelope", row, src)
	after := &schema.Struct{Schema: env.Fields[cdc.EnvAfter].Schema, Values: []any{int32(1004), "Anne", "annek@noanswer.org", dec("123.45")}}
	source := &schema.Struct{Schema: src, Values: []any{"3.1.0.Final", "mysql", "dbserver1", int64(1465491411000), "false", "inventory", nil,
		int64(1465491411000000), int64(1465491411000000000), "customers", int64(223344), nil, "mysql-bin.000003", int64(154), int32(0), int64(7), nil}}
	now := time.Unix(0, 1465491411815437158)
	v := cdc.NewEnvelope(env, cdc.OpCreate, nil, after, source, nil, now)
	key := schema.NewStructSchema("dbserver1.inventory.customers.Key", schema.Field{Name: "id", Schema: schema.Int32Schema})
	return env, v, key, &schema.Struct{Schema: key, Values: []any{int32(1004)}}
}

func goldens() []golden {
	on := DefaultConfig()
	off := DefaultConfig()
	off.SchemasEnable = false
	numeric := DefaultConfig()
	numeric.DecimalFormat = DecimalNumeric
	noReplace := DefaultConfig()
	noReplace.ReplaceNullWithDefault = false

	nested := schema.StructBuilder().Name("com.example.Outer").Version(3).Doc("outer doc").Param("p1", "v1").Param("a", "b").
		Field("id", schema.Int64Schema).
		Field("inner", schema.StructBuilder().Name("com.example.Inner").Optional().
			Field("flag", schema.BooleanSchema).
			Field("note", schema.NewBuilder(schema.TypeString).Optional().Default("none").Build()).Build()).
		Build()
	inner := nested.Fields[1].Schema
	tags := schema.NewBuilder(schema.TypeArray).Optional().Items(schema.StringSchema).Build()
	strMap := schema.MapOf(schema.StringSchema, schema.OptionalInt32)
	intMap := schema.MapOf(schema.Int32Schema, schema.StringSchema)
	dec2 := schema.DecimalSchema(2, 0, false)
	dec7 := schema.DecimalSchema(7, 0, false)
	temporal := schema.NewStructSchema("temporal",
		schema.Field{Name: "d", Schema: schema.DateSchema(false)},
		schema.Field{Name: "t", Schema: schema.TimeSchema(false)},
		schema.Field{Name: "ts", Schema: schema.TimestampSchema(true)},
		schema.Field{Name: "ts_null", Schema: schema.TimestampSchema(true)},
	)
	env, envVal, key, keyVal := debeziumCreate()
	withDefault := schema.NewBuilder(schema.TypeInt32).Default(int32(42)).Build()
	optDefault := schema.NewBuilder(schema.TypeString).Optional().Default("dflt").Build()
	spec14 := schema.NewStructSchema("s.db.t.Value",
		schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "amount", Schema: schema.DecimalSchema(2, 10, true)},
	)

	return []golden{
		{name: "int8", cfg: on, schema: schema.Int8Schema, value: int8(-128), want: `{"schema":{"type":"int8","optional":false},"payload":-128}`},
		{name: "int16", cfg: on, schema: schema.Int16Schema, value: int16(32767), want: `{"schema":{"type":"int16","optional":false},"payload":32767}`},
		{name: "int32", cfg: on, schema: schema.Int32Schema, value: int32(-2147483648), want: `{"schema":{"type":"int32","optional":false},"payload":-2147483648}`},
		{name: "int64", cfg: on, schema: schema.Int64Schema, value: int64(math.MaxInt64), want: `{"schema":{"type":"int64","optional":false},"payload":9223372036854775807}`},
		{name: "float32", cfg: on, schema: schema.Float32Schema, value: float32(1e7), want: `{"schema":{"type":"float","optional":false},"payload":1.0E7}`},
		{name: "float32_small", cfg: on, schema: schema.Float32Schema, value: float32(0.1), want: `{"schema":{"type":"float","optional":false},"payload":0.1}`},
		{name: "float64", cfg: on, schema: schema.Float64Schema, value: float64(1), want: `{"schema":{"type":"double","optional":false},"payload":1.0}`},
		{name: "float64_exp", cfg: on, schema: schema.Float64Schema, value: 1.5e-4, want: `{"schema":{"type":"double","optional":false},"payload":1.5E-4}`},
		{name: "float64_big", cfg: on, schema: schema.Float64Schema, value: 123456789.125, want: `{"schema":{"type":"double","optional":false},"payload":1.23456789125E8}`},
		{name: "float64_plain", cfg: on, schema: schema.Float64Schema, value: 9999999.5, want: `{"schema":{"type":"double","optional":false},"payload":9999999.5}`},
		{name: "float64_nan", cfg: on, schema: schema.Float64Schema, value: math.NaN(), want: `{"schema":{"type":"double","optional":false},"payload":"NaN"}`},
		{name: "boolean", cfg: on, schema: schema.BooleanSchema, value: true, want: `{"schema":{"type":"boolean","optional":false},"payload":true}`},
		{name: "string", cfg: on, schema: schema.StringSchema, value: "héllo \"q\" \\ <a&b> \n\t\x01 \u2028 日本",
			want: "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"héllo \\\"q\\\" \\\\ <a&b> \\n\\t\\u0001 \u2028 日本\"}"},
		{name: "bytes", cfg: on, schema: schema.BytesSchema, value: []byte{0, 1, 2, 0xfb, 0xff}, want: `{"schema":{"type":"bytes","optional":false},"payload":"AAEC+/8="}`},
		{name: "optional_null", cfg: on, schema: schema.OptionalInt32, value: nil, decNil: true, want: `{"schema":{"type":"int32","optional":true},"payload":null}`},
		{name: "default_replaces_null", cfg: on, schema: withDefault, value: nil, decoded: int32(42), want: `{"schema":{"type":"int32","optional":false,"default":42},"payload":42}`},
		{name: "default_kept_null", cfg: noReplace, schema: optDefault, value: nil, decNil: true, want: `{"schema":{"type":"string","optional":true,"default":"dflt"},"payload":null}`},
		{name: "nested_struct", cfg: on, schema: nested,
			value:   &schema.Struct{Schema: nested, Values: []any{int64(7), &schema.Struct{Schema: inner, Values: []any{true, nil}}}},
			decoded: &schema.Struct{Schema: nested, Values: []any{int64(7), &schema.Struct{Schema: inner, Values: []any{true, "none"}}}},
			want:    `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"flag"},{"type":"string","optional":true,"default":"none","field":"note"}],"optional":true,"name":"com.example.Inner","field":"inner"}],"optional":false,"name":"com.example.Outer","version":3,"doc":"outer doc","parameters":{"p1":"v1","a":"b"}},"payload":{"id":7,"inner":{"flag":true,"note":"none"}}}`},
		{name: "array", cfg: on, schema: tags, value: []any{"a", "b", "c"}, want: `{"schema":{"type":"array","items":{"type":"string","optional":false},"optional":true},"payload":["a","b","c"]}`},
		{name: "map_string_keys", cfg: on, schema: strMap, value: map[any]any{"b": int32(2), "a": nil},
			want: `{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":true},"optional":false},"payload":{"a":null,"b":2}}`},
		{name: "map_int_keys", cfg: on, schema: intMap, value: map[any]any{int32(10): "ten", int32(-1): "minus one"},
			want: `{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false},"optional":false},"payload":[[-1,"minus one"],[10,"ten"]]}`},
		{name: "decimal_base64", cfg: on, schema: dec2, value: dec("123.45"),
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"MDk="}`},
		{name: "decimal_base64_negative", cfg: on, schema: dec2, value: dec("-1.00"),
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"nA=="}`},
		{name: "decimal_base64_zero", cfg: on, schema: dec2, value: dec("0"),
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AA=="}`},
		{name: "decimal_base64_big", cfg: on, schema: dec2, value: dec("-92233720368547758.09"),
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"/3//////////"}`},
		{name: "decimal_numeric", cfg: numeric, schema: dec2, value: dec("123.40"),
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":123.40}`},
		{name: "decimal_numeric_negative", cfg: numeric, schema: dec2, value: dec("-1"),
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":-1.00}`},
		{name: "decimal_numeric_exponent", cfg: numeric, schema: dec7, value: dec("0.0000001"),
			want: `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"7"}},"payload":1E-7}`},
		{name: "temporal", cfg: on, schema: temporal,
			value: &schema.Struct{Schema: temporal, Values: []any{
				time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
				time.Date(1970, 1, 1, 13, 45, 30, 123e6, time.UTC),
				time.Date(2024, 1, 15, 13, 45, 30, 123e6, time.UTC),
				nil}},
			want: `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"d"},{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1,"field":"t"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts_null"}],"optional":false,"name":"temporal"},"payload":{"d":19737,"t":49530123,"ts":1705326330123,"ts_null":null}}`},
		{name: "spec_1_4_example", cfg: on, schema: spec14, value: &schema.Struct{Schema: spec14, Values: []any{int32(1), dec("123.45")}},
			want: `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"}],"optional":false,"name":"s.db.t.Value"},"payload":{"id":1,"amount":"MDk="}}`},
		{name: "debezium_key", cfg: on, schema: key, value: keyVal,
			want: `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1004}}`},
		{name: "debezium_mysql_envelope", cfg: on, schema: env, value: envVal},
		{name: "debezium_mysql_envelope_schemaless", cfg: off, schema: env, value: envVal, decoded: schemalessEnvelope()},
		{name: "schemas_off_primitive", cfg: off, schema: schema.Int32Schema, value: int32(5), decoded: int64(5), want: `5`},
		{name: "schemaless_value", cfg: on, schema: nil, value: map[string]any{"b": []any{int64(1), 2.5, "x", nil, true}, "a": map[string]any{}},
			want: `{"schema":null,"payload":{"a":{},"b":[1,2.5,"x",null,true]}}`},
		{name: "schema_with_null_payload", cfg: on, schema: key.WithOptional(true), value: nil, decNil: true, want: `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":true,"name":"dbserver1.inventory.customers.Key"},"payload":null}`},
	}
}

func schemalessEnvelope() map[string]any {
	return map[string]any{
		"before": nil,
		"after":  map[string]any{"id": int64(1004), "first_name": "Anne", "email": "annek@noanswer.org", "balance": "MDk="},
		"source": map[string]any{"version": "3.1.0.Final", "connector": "mysql", "name": "dbserver1", "ts_ms": int64(1465491411000),
			"snapshot": "false", "db": "inventory", "sequence": nil, "ts_us": int64(1465491411000000), "ts_ns": int64(1465491411000000000),
			"table": "customers", "server_id": int64(223344), "gtid": nil, "file": "mysql-bin.000003", "pos": int64(154), "row": int64(0),
			"thread": int64(7), "query": nil},
		"transaction": nil, "op": "c", "ts_ms": int64(1465491411815), "ts_us": int64(1465491411815437), "ts_ns": int64(1465491411815437158),
	}
}

func TestGolden(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			c := New(g.cfg)
			got, err := c.FromConnect("topic", nil, g.schema, g.value)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			path := filepath.Join("testdata", g.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("golden file (run with -update to create): %v", err)
			}
			if g.want != "" && string(want) != g.want {
				t.Fatalf("golden file %s differs from the vector in the test:\nfile: %s\ntest: %s", path, want, g.want)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encode mismatch\n got: %s\nwant: %s", got, want)
			}
			s, v, err := c.ToConnect("topic", nil, want)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			wantSchema := g.schema
			if !g.cfg.SchemasEnable {
				wantSchema = nil
			}
			if !schema.Equal(s, wantSchema) {
				t.Fatalf("decoded schema differs:\n got %#v\nwant %#v", s, wantSchema)
			}
			wantVal := g.value
			if g.decoded != nil {
				wantVal = g.decoded
			}
			if g.decNil {
				wantVal = nil
			}
			if !schema.EqualValues(v, wantVal) {
				t.Fatalf("decoded value differs:\n got %#v\nwant %#v", v, wantVal)
			}
			// Encoding the decoded data again gives the same bytes.
			if g.cfg.SchemasEnable {
				again, err := c.FromConnect("topic", nil, s, v)
				if err != nil {
					t.Fatalf("re-encode: %v", err)
				}
				if !bytes.Equal(again, want) {
					t.Fatalf("re-encode differs\n got: %s\nwant: %s", again, want)
				}
			}
		})
	}
}

func TestTombstone(t *testing.T) {
	for _, cfg := range []Config{DefaultConfig(), {SchemasEnable: false}} {
		c := New(cfg)
		b, err := c.FromConnect("t", nil, nil, nil)
		if err != nil || b != nil {
			t.Fatalf("tombstone: got %q, %v; want nil bytes", b, err)
		}
		s, v, err := c.ToConnect("t", nil, nil)
		if s != nil || v != nil || err != nil {
			t.Fatalf("decode nil: %v %v %v", s, v, err)
		}
	}
}

func TestEnvelopeStrict(t *testing.T) {
	c := New(DefaultConfig())
	for _, in := range []string{
		`{"payload":1}`,
		`{"schema":null}`,
		`{"schema":null,"payload":1,"extra":2}`,
		`{}`,
		`[1,2]`,
		`42`,
		`{"id":1,"name":"x"}`,
	} {
		_, _, err := c.ToConnect("t", nil, []byte(in))
		if !errors.Is(err, ErrEnvelope) {
			t.Errorf("%s: got %v, want ErrEnvelope", in, err)
			continue
		}
		if !strings.Contains(err.Error(), `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`) {
			t.Errorf("error text: %v", err)
		}
	}
	// payload before schema is fine
	s, v, err := c.ToConnect("t", nil, []byte(` { "payload" : {"id": 3} , "schema" : {"type":"struct","fields":[{"type":"int32","field":"id"}]} } `))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*schema.Struct).Get("id"); got != int32(3) || s.Fields[0].Schema.Optional {
		t.Fatalf("got %v %v", got, s)
	}
	// syntax errors say so
	if _, _, err := c.ToConnect("t", nil, []byte(`{"schema":null,"payload":[1,}`)); err == nil || !strings.Contains(err.Error(), "serialization error") {
		t.Fatalf("syntax error: %v", err)
	}
}

func TestMismatchNamesField(t *testing.T) {
	c := New(DefaultConfig())
	sch := `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"email"},{"type":"array","items":{"type":"int64","optional":false},"optional":true,"field":"scores"}],"optional":true,"field":"after"}],"optional":false}`
	cases := []struct{ payload, path, text string }{
		{`{"id":"one","after":null}`, "id", "schema expects int32, payload has string"},
		{`{"id":1,"after":{"email":5}}`, "after.email", "schema expects string, payload has number"},
		{`{"id":1,"after":{"email":null}}`, "after.email", "invalid null value for required string field"},
		{`{"id":1,"after":{"email":"a","scores":[1,2,"x"]}}`, "after.scores[2]", "schema expects int64"},
		{`{"id":1,"after":{}}`, "after.email", "invalid null value"},
		{`{"id":4294967296}`, "id", "does not fit int32"},
		{`{"after":null}`, "id", "invalid null value"},
	}
	for _, tc := range cases {
		_, _, err := c.ToConnect("t", nil, []byte(`{"schema":`+sch+`,"payload":`+tc.payload+`}`))
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a FieldError", tc.payload, err)
			continue
		}
		if fe.Path != tc.path || !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), `"`+tc.path+`"`) {
			t.Errorf("%s: got %q (path %q), want path %q and %q", tc.payload, err, fe.Path, tc.path, tc.text)
		}
	}
	// Encoding names the field too.
	s := schema.NewStructSchema("x", schema.Field{Name: "a", Schema: schema.NewStructSchema("y", schema.Field{Name: "b", Schema: schema.Int32Schema}).WithOptional(true)})
	inner := s.Fields[0].Schema
	_, err := c.FromConnect("t", nil, s, &schema.Struct{Schema: s, Values: []any{&schema.Struct{Schema: inner, Values: []any{"str"}}}})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "a.b" {
		t.Fatalf("encode error %v, want path a.b", err)
	}
	_, err = c.FromConnect("t", nil, s, &schema.Struct{Schema: s, Values: []any{&schema.Struct{Schema: inner, Values: []any{nil}}}})
	if !errors.As(err, &fe) || fe.Path != "a.b" || !strings.Contains(err.Error(), "required") {
		t.Fatalf("encode error %v, want path a.b, required", err)
	}
}

func TestSchemaErrors(t *testing.T) {
	c := New(DefaultConfig())
	for _, tc := range []struct{ schema, text string }{
		{`{"optional":true}`, "'type'"},
		{`{"type":"float64"}`, "unknown schema type"},
		{`{"type":"struct"}`, `"fields" argument is not an array`},
		{`{"type":"array"}`, "element type"},
		{`{"type":"map","keys":{"type":"string"}}`, "value type"},
		{`{"type":"string","parameters":{"a":1}}`, "string values"},
		{`{"type":"struct","fields":[{"type":"int32"}]}`, "field name"},
		{`{"type":"struct","fields":[{"type":"int32","field":"a"},{"type":"int32","field":"a"}]}`, "duplication"},
		{`{"type":"struct","fields":[{"type":"int32","field":"a","default":"x"}]}`, `field "schema.a.default"`},
	} {
		_, _, err := c.ToConnect("t", nil, []byte(`{"schema":`+tc.schema+`,"payload":null}`))
		if err == nil || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: got %v, want %q", tc.schema, err, tc.text)
		}
	}
}

func TestSchemaCache(t *testing.T) {
	c := New(DefaultConfig())
	msg := []byte(`{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"k"},"payload":{"id":1}}`)
	s1, _, err := c.ToConnect("t", nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	s2, _, err := c.ToConnect("t", nil, bytes.Clone(msg))
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 {
		t.Fatal("same schema JSON parsed twice gave different pointers")
	}
	j1, _ := c.SchemaJSON(s1)
	j2, _ := c.SchemaJSON(s1)
	if &j1[0] != &j2[0] {
		t.Fatal("schema JSON not cached per pointer")
	}
	// alternating schemas, and a caller that reuses its buffer
	other := []byte(`{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],"optional":false,"name":"k"},"payload":{"id":"x"}}`)
	buf := make([]byte, 0, 512)
	for i := 0; i < 4; i++ {
		for _, m := range [][]byte{msg, other} {
			buf = append(buf[:0], m...)
			_, v, err := c.ToConnect("t", nil, buf)
			if err != nil {
				t.Fatal(err)
			}
			want := any(int32(1))
			if bytes.Equal(m, other) {
				want = "x"
			}
			if got := v.(*schema.Struct).Get("id"); got != want {
				t.Fatalf("round %d: id %v, want %v", i, got, want)
			}
			for j := range buf {
				buf[j] = ' '
			}
		}
	}
	small := New(Config{SchemasEnable: true, CacheSize: 2})
	for i := 0; i < 10; i++ {
		m := []byte(`{"schema":{"type":"int32","optional":false,"name":"n` + string(rune('a'+i)) + `"},"payload":1}`)
		if _, _, err := small.ToConnect("t", nil, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := small.dec.len(); n > 2 {
		t.Fatalf("cache holds %d schemas, bound is 2", n)
	}
}

func TestSchemalessDecoding(t *testing.T) {
	c := New(Config{SchemasEnable: false})
	_, v, err := c.ToConnect("t", nil, []byte(`{"i":12,"f":1.5,"e":1e3,"big":123456789012345678901234,"s":"\u00e9\ud83d\ude00","a":[true,false,null],"o":{"x":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(12), "f": 1.5, "e": 1000.0, "big": 1.2345678901234568e23, "s": "é😀",
		"a": []any{true, false, nil}, "o": map[string]any{"x": map[string]any{}}}
	if !schema.EqualValues(v, want) {
		t.Fatalf("got %#v", v)
	}
	// decimals given as numbers are accepted whatever decimal.format is
	on := New(DefaultConfig())
	_, v, err = on.ToConnect("t", nil, []byte(`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":12.5}`))
	if err != nil || !v.(decimal.Decimal).Equal(dec("12.5")) {
		t.Fatalf("numeric decimal: %v %v", v, err)
	}
}

func TestConfigFromMap(t *testing.T) {
	cfg, err := ConfigFromMap(map[string]string{"schemas.enable": "FALSE", "decimal.format": "numeric", "replace.null.with.default": "false", "schema.registry.url": "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SchemasEnable || cfg.DecimalFormat != DecimalNumeric || cfg.ReplaceNullWithDefault || cfg.CacheSize != DefaultCacheSize {
		t.Fatalf("got %+v", cfg)
	}
	cfg, err = ConfigFromMap(nil)
	if err != nil || cfg != DefaultConfig() {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	_, err = ConfigFromMap(map[string]string{"schemas.enable": "yes", "decimal.format": "HEX"})
	if err == nil || !strings.Contains(err.Error(), "schemas.enable") || !strings.Contains(err.Error(), "decimal.format") {
		t.Fatalf("want errors naming both keys, got %v", err)
	}
}

func TestJavaNumberFormatting(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0.0"}, {math.Copysign(0, -1), 64, "-0.0"}, {1, 64, "1.0"}, {100, 64, "100.0"}, {0.001, 64, "0.001"},
		{0.0001, 64, "1.0E-4"}, {1e7, 64, "1.0E7"}, {9999999, 64, "9999999.0"}, {-1.25e-10, 64, "-1.25E-10"},
		{1e21, 64, "1.0E21"}, {0.1, 64, "0.1"}, {123.456, 64, "123.456"}, {math.MaxFloat64, 64, "1.7976931348623157E308"},
		{5e-324, 64, "4.9E-324"}, {float64(float32(0.1)), 32, "0.1"}, {float64(float32(3.4028235e38)), 32, "3.4028235E38"},
		{float64(float32(1.1)), 32, "1.1"}, {math.Inf(1), 64, `"Infinity"`},
	} {
		if got := string(appendJavaDouble(nil, tc.f, tc.bits)); got != tc.want {
			t.Errorf("%v/%d: got %s want %s", tc.f, tc.bits, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"123.45", "123.45"}, {"0.0000001", "1E-7"}, {"0.000001", "0.000001"}, {"-0.00", "0.00"}, {"1.23E+5", "1.23E+5"}, {"-5E+2", "-5E+2"},
	} {
		d := dec(tc.in)
		scale := -d.Exponent()
		if got := string(appendBigDecimal(nil, d.Coefficient(), scale)); got != tc.want {
			t.Errorf("BigDecimal %s: got %s want %s", tc.in, got, tc.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := New(DefaultConfig())
	env, v, key, kv := debeziumCreate()
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 100; i++ {
				s, val := env, any(v)
				if (i+g)%2 == 0 {
					s, val = key, kv
				}
				b, err := c.FromConnect("t", nil, s, val)
				if err == nil {
					var got any
					_, got, err = c.ToConnect("t", nil, b)
					if err == nil && !schema.EqualValues(got, val) {
						err = errors.New("value changed")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
