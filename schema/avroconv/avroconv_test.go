package avroconv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func newConv(t *testing.T, url string, mod func(*Config)) *Converter {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URLs = []string{url}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeRegistry starts our registry server in memory mode (the Kafka-backed
// mode is tested in schema/registry and TestIndependentPythonConsumer).
func fakeRegistry(t testing.TB) *registry.Server {
	t.Helper()
	r, err := registry.NewServer(context.Background(), registry.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// allTypes is a struct with every Connect type and logical type.
func allTypes() (*schema.Schema, *schema.Struct) {
	inner := schema.StructBuilder().Name("com.example.Inner").Optional().Doc("inner doc").
		Field("flag", schema.BooleanSchema).
		Field("note", schema.OptionalString).Build()
	s := schema.StructBuilder().Name("com.example.AllTypes").Version(3).Doc("all the types").Param("owner", "tests").
		Field("i8", schema.Int8Schema).
		Field("i16", schema.Int16Schema).
		Field("i32", schema.Int32Schema).
		Field("i64", schema.Int64Schema).
		Field("f32", schema.Float32Schema).
		Field("f64", schema.Float64Schema).
		Field("b", schema.BooleanSchema).
		Field("s", schema.StringSchema).
		Field("raw", schema.BytesSchema).
		Field("opt_i32", schema.OptionalInt32).
		Field("opt_null", schema.OptionalString).
		Field("with_default", schema.NewBuilder(schema.TypeInt16).Default(int16(7)).Build()).
		Field("opt_with_default", schema.NewBuilder(schema.TypeString).Optional().Default("dflt").Build()).
		Field("amount", schema.DecimalSchema(2, 10, false)).
		Field("big_amount", schema.DecimalSchema(4, 0, true)).
		Field("day", schema.DateSchema(false)).
		Field("tod", schema.TimeSchema(true)).
		Field("ts", schema.TimestampSchema(false)).
		Field("micro_ts", schema.NewBuilder(schema.TypeInt64).Name(schema.DebeziumMicroTimestamp).Version(1).Build()).
		Field("tags", schema.NewBuilder(schema.TypeArray).Items(schema.OptionalString).Build()).
		Field("counts", schema.MapOf(schema.StringSchema, schema.Int64Schema)).
		Field("names", schema.MapOf(schema.Int32Schema, schema.StringSchema)).
		Field("inner", inner).
		Field("inner_null", inner).
		Build()
	v := &schema.Struct{Schema: s, Values: []any{
		int8(-8), int16(-1600), int32(32), int64(math.MinInt64), float32(1.5), math.Pi, true, "héllo ✓",
		[]byte{0, 1, 0xff}, int32(42), nil, int16(9), nil,
		dec("123.45"), dec("-92233720368547758.0809"),
		time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 13, 45, 30, 123e6, time.UTC),
		time.Date(2024, 1, 15, 13, 45, 30, 123e6, time.UTC),
		int64(1705326330123456),
		[]any{"a", nil, "c"},
		map[any]any{"x": int64(1), "y": int64(-2)},
		map[any]any{int32(1): "one", int32(-5): "minus five"},
		&schema.Struct{Schema: inner, Values: []any{true, "n"}},
		nil,
	}}
	return s, v
}

func TestRoundTripAllTypes(t *testing.T) {
	reg := fakeRegistry(t)
	c := newConv(t, reg.URL(), nil)
	s, v := allTypes()
	b, err := c.FromConnect("all", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0 || binary.BigEndian.Uint32(b[1:5]) == 0 {
		t.Fatalf("no Confluent header: % x", b[:5])
	}
	// A fresh converter (empty caches) reads it through the registry.
	c2 := newConv(t, reg.URL(), nil)
	gs, gv, err := c2.ToConnect("all", nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if !schema.Equal(gs, s) {
		t.Fatalf("schema differs after round trip\n got %s\nwant %s", mustAvro(t, gs), mustAvro(t, s))
	}
	want := &schema.Struct{Schema: s, Values: slices.Clone(v.Values)}
	want.Values[12] = "dflt" // null with a default is written as the default, as Connect's Struct.get does
	if !schema.EqualValues(gv, want) {
		t.Fatalf("values differ\n got %#v\nwant %#v", gv.(*schema.Struct).Values, want.Values)
	}
	// Every primitive as a top-level value, required and optional.
	for i, ps := range []*schema.Schema{schema.Int8Schema, schema.Int16Schema, schema.Int32Schema, schema.Int64Schema,
		schema.Float32Schema, schema.Float64Schema, schema.BooleanSchema, schema.StringSchema, schema.BytesSchema,
		schema.OptionalInt64, schema.OptionalString, schema.DecimalSchema(3, 0, false), schema.DateSchema(false),
		schema.TimeSchema(false), schema.TimestampSchema(true)} {
		val := map[schema.Type]any{schema.TypeInt8: int8(1), schema.TypeInt16: int16(2), schema.TypeInt32: int32(3), schema.TypeInt64: int64(4),
			schema.TypeFloat32: float32(5.5), schema.TypeFloat64: 6.25, schema.TypeBoolean: true, schema.TypeString: "x", schema.TypeBytes: []byte("y")}[ps.Type]
		switch ps.Name {
		case schema.DecimalName:
			val = dec("-0.001")
		case schema.DateName:
			val = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)
		case schema.TimeName:
			val = time.Date(1970, 1, 1, 0, 0, 0, 1e6, time.UTC)
		case schema.TimestampName:
			val = time.UnixMilli(-1).UTC()
		}
		topic := fmt.Sprintf("prim%d", i) // each type in its own subject: they are not compatible with each other
		b, err := c.FromConnect(topic, nil, ps, val)
		if err != nil {
			t.Fatalf("%s: %v", ps, err)
		}
		gs, gv, err := c2.ToConnect(topic, nil, b)
		if err != nil {
			t.Fatalf("%s: %v", ps, err)
		}
		if !schema.Equal(gs, ps) || !schema.EqualValues(gv, val) {
			t.Fatalf("%s: got %v %#v", ps, gs, gv)
		}
	}
}

func mustAvro(t *testing.T, s *schema.Schema) string {
	t.Helper()
	j, err := AvroSchemaOf(s, false)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestIndependentBinary decodes our bytes with hamba/avro's own generic
// decoder, which knows nothing about Connect.
func TestIndependentBinary(t *testing.T) {
	reg := fakeRegistry(t)
	c := newConv(t, reg.URL(), nil)
	env, val := debeziumCreate()
	b, err := c.FromConnect("dbserver1.inventory.customers", nil, env, val)
	if err != nil {
		t.Fatal(err)
	}
	id := int(binary.BigEndian.Uint32(b[1:5]))
	text, err := c.Registry().SchemaByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	as, err := avro.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := avro.Unmarshal(as, b[5:], &m); err != nil {
		t.Fatal(err)
	}
	after := m["after"].(map[string]any)["dbserver1.inventory.customers.Value"].(map[string]any)
	if after["id"] != 1004 || after["first_name"] != "Anne" || m["op"] != "c" {
		t.Fatalf("hamba decoded %v", m)
	}
	bal := after["balance"]
	if rat, ok := bal.(*big.Rat); !ok || rat.Cmp(big.NewRat(12345, 100)) != 0 {
		t.Fatalf("balance %v", bal)
	}
	src := m["source"].(map[string]any)
	if src["snapshot"] != "false" || src["pos"] != int64(154) {
		t.Fatalf("source %v", src)
	}
}

func goldenFile(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s (run with -update): %v", path, err)
	}
	if strings.TrimSpace(string(want)) != got {
		t.Fatalf("%s differs\n got %s\nwant %s", name, got, want)
	}
}

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

// jdbcTable is what the JDBC source builds for
// CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL,
// amount DECIMAL(10,2), note TEXT, qty SMALLINT, created TIMESTAMP, shipped DATE).
func jdbcTable() *schema.Schema {
	return schema.StructBuilder().Name("orders").
		Field("id", schema.Int64Schema).
		Field("customer", schema.StringSchema).
		Field("amount", schema.DecimalSchema(2, 0, true)).
		Field("note", schema.OptionalString).
		Field("qty", schema.OptionalInt16).
		Field("created", schema.TimestampSchema(true)).
		Field("shipped", schema.DateSchema(true)).
		Build()
}

func TestGoldenAvroSchemas(t *testing.T) {
	env, _ := debeziumCreate()
	got, err := AvroSchemaOf(env, false)
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "debezium_mysql_envelope.avsc", got)
	key := schema.NewStructSchema("dbserver1.inventory.customers.Key", schema.Field{Name: "id", Schema: schema.Int32Schema})
	got, err = AvroSchemaOf(key, false)
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "debezium_mysql_key.avsc", got)
	got, err = AvroSchemaOf(jdbcTable(), false)
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "jdbc_orders.avsc", got)
	s, _ := allTypes()
	got, err = AvroSchemaOf(s, false)
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "all_types.avsc", got)
	// hamba/avro accepts every one of them
	for _, f := range []string{"debezium_mysql_envelope.avsc", "jdbc_orders.avsc", "all_types.avsc"} {
		b, _ := os.ReadFile(filepath.Join("testdata", f))
		if _, err := avro.Parse(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func TestSubjectStrategies(t *testing.T) {
	reg := fakeRegistry(t)
	env, v := debeziumCreate()
	for _, tc := range []struct {
		strategy string
		isKey    bool
		subject  string
	}{
		{TopicNameStrategy, false, "cdc.orders-value"},
		{TopicNameStrategy, true, "cdc.orders-key"},
		{RecordNameStrategy, false, "dbserver1.inventory.customers.Envelope"},
		{TopicRecordNameStrategy, false, "cdc.orders-dbserver1.inventory.customers.Envelope"},
	} {
		c := newConv(t, reg.URL(), func(c *Config) { c.SubjectStrategy, c.IsKey = tc.strategy, tc.isKey })
		if _, err := c.FromConnect("cdc.orders", nil, env, v); err != nil {
			t.Fatal(err)
		}
		subjects, err := c.Registry().SR().Subjects(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(subjects, tc.subject) {
			t.Errorf("%s key=%v: subjects %v, want %s", tc.strategy, tc.isKey, subjects, tc.subject)
		}
	}
	cfg, err := ConfigFromMap(map[string]string{"schema.registry.url": "http://x:1", "value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy"}, false)
	if err != nil || cfg.SubjectStrategy != RecordNameStrategy {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestAutoRegisterOffAndLatest(t *testing.T) {
	reg := fakeRegistry(t)
	s := jdbcTable()
	v := &schema.Struct{Schema: s, Values: []any{int64(1), "ann", dec("9.99"), nil, int16(3), nil, nil}}
	off := newConv(t, reg.URL(), func(c *Config) { c.AutoRegister = false })
	if _, err := off.FromConnect("shop.orders", nil, s, v); err == nil {
		t.Fatal("auto.register.schemas=false wrote a record with an unregistered schema")
	}
	on := newConv(t, reg.URL(), nil)
	b1, err := on.FromConnect("shop.orders", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	off = newConv(t, reg.URL(), func(c *Config) { c.AutoRegister = false })
	b2, err := off.FromConnect("shop.orders", nil, s, v)
	if err != nil || !bytes.Equal(b1, b2) {
		t.Fatalf("lookup of a registered schema: %v", err)
	}
	// A newer version with an extra field that has a default: use.latest.version
	// writes with it, filling the default.
	text, _ := on.AvroSchema(s)
	newer := strings.Replace(text, `{"name":"id","type":"long"}`, `{"name":"id","type":"long"},{"name":"region","type":"string","default":"eu"}`, 1)
	ss, err := on.Registry().SR().CreateSchema(context.Background(), "shop.orders-value", sr.Schema{Schema: newer})
	if err != nil {
		t.Fatal(err)
	}
	latest := newConv(t, reg.URL(), func(c *Config) { c.AutoRegister, c.UseLatestVersion = false, true })
	b3, err := latest.FromConnect("shop.orders", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	if int(binary.BigEndian.Uint32(b3[1:5])) != ss.ID {
		t.Fatalf("wrote with id %d, latest is %d", binary.BigEndian.Uint32(b3[1:5]), ss.ID)
	}
	gs, gv, err := latest.ToConnect("shop.orders", nil, b3)
	if err != nil {
		t.Fatal(err)
	}
	if got := gv.(*schema.Struct).Get("region"); got != "eu" || gs.Fields[1].Name != "region" {
		t.Fatalf("region = %v", got)
	}
}

func TestTombstoneAndBadInput(t *testing.T) {
	reg := fakeRegistry(t)
	c := newConv(t, reg.URL(), nil)
	s := jdbcTable()
	if b, err := c.FromConnect("t", nil, s, nil); b != nil || err != nil {
		t.Fatalf("null value: %v %v", b, err)
	}
	if gs, gv, err := c.ToConnect("t", nil, nil); gs != nil || gv != nil || err != nil {
		t.Fatal("nil bytes")
	}
	if _, _, err := c.ToConnect("t", nil, []byte(`{"json":1}`)); !errors.Is(err, ErrUnknownMagicByte) {
		t.Fatalf("got %v", err)
	}
	// A required field that is null names the field.
	_, err := c.FromConnect("t", nil, s, &schema.Struct{Schema: s, Values: []any{int64(1), nil, nil, nil, nil, nil, nil}})
	if err == nil || !strings.Contains(err.Error(), `"customer"`) {
		t.Fatalf("got %v", err)
	}
	// Truncated body
	b, _ := c.FromConnect("t", nil, s, &schema.Struct{Schema: s, Values: []any{int64(1), "x", nil, nil, nil, nil, nil}})
	if _, _, err := c.ToConnect("t", nil, b[:len(b)-2]); err == nil {
		t.Fatal("truncated record decoded")
	}
}

func TestBasicAuthAndConfig(t *testing.T) {
	inner := srfake.NewRegistry()
	var sawAuth bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "alice" || p != "s3cret" {
			http.Error(w, `{"error_code":401,"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		sawAuth = true
		inner.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg, err := ConfigFromMap(map[string]string{
		"schema.registry.url":           srv.URL,
		"basic.auth.credentials.source": "USER_INFO",
		"basic.auth.user.info":          "alice:s3cret",
		"auto.register.schemas":         "true",
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FromConnect("t", nil, schema.StringSchema, "v"); err != nil || !sawAuth {
		t.Fatalf("USER_INFO auth: %v", err)
	}
	// credentials in the URL (basic.auth.credentials.source=URL, the default)
	sawAuth = false
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)
	c2 := newConv(t, u, nil)
	if _, err := c2.FromConnect("t2", nil, schema.StringSchema, "v"); err != nil || !sawAuth {
		t.Fatalf("URL auth: %v", err)
	}
	if _, err := ConfigFromMap(map[string]string{}, false); err == nil || !strings.Contains(err.Error(), "schema.registry.url") {
		t.Fatalf("missing url: %v", err)
	}
	_, err = ConfigFromMap(map[string]string{"schema.registry.url": "http://x", "value.subject.name.strategy": "Nope", "auto.register.schemas": "maybe"}, false)
	if err == nil || !strings.Contains(err.Error(), "value.subject.name.strategy") || !strings.Contains(err.Error(), "auto.register.schemas") {
		t.Fatalf("bad keys: %v", err)
	}
	if _, err := New(Config{URLs: []string{"embedded"}}); err == nil {
		t.Fatal("embedded without a registry")
	}
}

func TestForeignAvroSchemas(t *testing.T) {
	// Schemas written by other producers: enums, fixed, general unions,
	// field defaults without connect.default, micros timestamps.
	text := `{"type":"record","name":"Ev","namespace":"x.y","doc":"an event","fields":[
	 {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
	 {"name":"hash","type":{"type":"fixed","name":"H","size":4}},
	 {"name":"u","type":["null","int","string"]},
	 {"name":"n","type":"int","default":5,"doc":"with default"},
	 {"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
	 {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}}]}`
	s, err := ConnectSchemaOf(text)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "x.y.Ev" || s.Fields[0].Schema.Type != schema.TypeString || s.Fields[2].Schema.Name != unionName ||
		s.Fields[3].Schema.Default != int32(5) || s.Fields[5].Schema.Name != schema.DecimalName {
		t.Fatalf("got %+v", s)
	}
	if p, _ := s.Fields[5].Schema.Param(schema.DecimalPrecisionParam); p != "5" {
		t.Fatalf("precision %q", p)
	}
	if d, _ := s.Param(recordDocParam); d != "an event" {
		t.Fatal("record doc")
	}
	reg := fakeRegistry(t)
	ss, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	created, err := ss.CreateSchema(context.Background(), "foreign-value", sr.Schema{Schema: text})
	if err != nil {
		t.Fatal(err)
	}
	as := avro.MustParse(text)
	body, err := avro.Marshal(as, map[string]any{"kind": "B", "hash": [4]byte{1, 2, 3, 4}, "u": map[string]any{"string": "hi"},
		"n": 9, "at": time.UnixMicro(1700000000123456).UTC(), "price": big.NewRat(12345, 100)})
	if err != nil {
		t.Fatal(err)
	}
	msg := append([]byte{0, 0, 0, 0, byte(created.ID)}, body...)
	c := newConv(t, reg.URL(), nil)
	_, v, err := c.ToConnect("foreign", nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*schema.Struct)
	if st.Values[0] != "B" || !bytes.Equal(st.Values[1].([]byte), []byte{1, 2, 3, 4}) || st.Values[2].(*schema.Struct).Get("string") != "hi" ||
		st.Values[3] != int32(9) || st.Values[4] != int64(1700000000123456) || !st.Values[5].(decimal.Decimal).Equal(dec("123.45")) {
		t.Fatalf("got %#v", st.Values)
	}
	// and it can be written back with that schema
	latest := newConv(t, reg.URL(), func(c *Config) { c.UseLatestVersion, c.AutoRegister = true, false })
	out, err := latest.FromConnect("foreign", nil, st.Schema, st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, msg) {
		t.Fatalf("re-encoded\n% x\n% x", out, msg)
	}
}

func TestFromMapEmbedded(t *testing.T) {
	if _, err := FromMap(map[string]string{"schema.registry.url": "embedded"}, false, nil); err == nil || !strings.Contains(err.Error(), "schema.registry.url") {
		t.Fatalf("embedded without registry: %v", err)
	}
	reg := fakeRegistry(t)
	cl, err := reg.Client()
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromMap(map[string]string{"schema.registry.url": "embedded"}, true, cl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FromConnect("t", nil, schema.StringSchema, "k"); err != nil {
		t.Fatal(err)
	}
	if subjects, _ := cl.SR().Subjects(context.Background()); !slices.Equal(subjects, []string{"t-key"}) {
		t.Fatalf("subjects %v", subjects)
	}
}

func TestConcurrentUse(t *testing.T) {
	reg := fakeRegistry(t)
	c := newConv(t, reg.URL(), nil)
	env, v := debeziumCreate()
	s, sv := allTypes()
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				schemaOf, val, topic := env, any(v), "a"
				if (i+g)%2 == 0 {
					schemaOf, val, topic = s, sv, "b"
				}
				b, err := c.FromConnect(topic, nil, schemaOf, val)
				if err == nil {
					_, _, err = c.ToConnect(topic, nil, b)
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
