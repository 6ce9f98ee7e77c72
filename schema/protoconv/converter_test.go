package protoconv

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

func memRegistry(t testing.TB) (*registry.Server, *registry.Client) {
	t.Helper()
	srv, err := registry.NewServer(context.Background(), registry.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cl, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl
}

func newConv(t *testing.T, cl *registry.Client, edit func(*Config)) *Converter {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Registry = cl
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConverterWithRegistry: records go through the embedded registry as
// PROTOBUF schemas under the subject each strategy names, are read back,
// and evolve under BACKWARD (an added field registers version 2; a changed
// field type is refused with the registry's 409).
func TestConverterWithRegistry(t *testing.T) {
	_, cl := memRegistry(t)
	ctx := context.Background()
	env, v := debeziumCreate()
	for _, c := range []struct{ strategy, subject string }{
		{TopicNameStrategy, "t1-value"},
		{RecordNameStrategy, "dbserver1.inventory.customers.Envelope"},
		{TopicRecordNameStrategy, "t1-dbserver1.inventory.customers.Envelope"},
	} {
		conv := newConv(t, cl, func(cfg *Config) { cfg.SubjectStrategy = c.strategy })
		b, err := conv.FromConnect("t1", nil, env, v)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := cl.SR().SchemaByVersion(ctx, c.subject, -1)
		if err != nil {
			t.Fatalf("%s: subject %s: %v", c.strategy, c.subject, err)
		}
		if ss.Schema.Type != sr.TypeProtobuf || ss.Schema.Schema != debeziumEnvelopeProto || len(ss.Schema.References) != 0 {
			t.Errorf("%s: registered %s %d refs:\n%s", c.strategy, ss.Schema.Type, len(ss.Schema.References), ss.Schema.Schema)
		}
		if !bytes.Equal(b[:6], header(ss.ID, []int{0})) {
			t.Errorf("header % x, id %d", b[:6], ss.ID)
		}
		rs, rv, err := conv.ToConnect("t1", nil, b)
		if err != nil {
			t.Fatal(err)
		}
		after := rv.(*schema.Struct).Get("after").(*schema.Struct)
		want := v.Values[1].(*schema.Struct)
		for i := range want.Values {
			if !schema.EqualValues(after.Values[i], want.Values[i]) {
				t.Errorf("after.%s = %#v, want %#v", want.Schema.Fields[i].Name, after.Values[i], want.Values[i])
			}
		}
		if rs.Name != "Envelope" {
			t.Errorf("read schema %q", rs.Name)
		}
	}

	conv := newConv(t, cl, nil)
	row := schema.StructBuilder().Name("x.y.Value").Field("id", schema.Int32Schema).Field("name", schema.StringSchema).Build()
	if _, err := conv.FromConnect("evolve", nil, row, &schema.Struct{Schema: row, Values: []any{int32(1), "a"}}); err != nil {
		t.Fatal(err)
	}
	row2 := schema.StructBuilder().Name("x.y.Value").Field("id", schema.Int32Schema).Field("name", schema.StringSchema).Field("extra", schema.OptionalInt64).Build()
	if _, err := conv.FromConnect("evolve", nil, row2, &schema.Struct{Schema: row2, Values: []any{int32(1), "a", int64(3)}}); err != nil {
		t.Fatalf("added field: %v", err)
	}
	row3 := schema.StructBuilder().Name("x.y.Value").Field("id", schema.Int32Schema).Field("name", schema.Float64Schema).Build()
	_, err := conv.FromConnect("evolve", nil, row3, &schema.Struct{Schema: row3, Values: []any{int32(1), 1.5}})
	if err == nil || !strings.Contains(err.Error(), "FIELD_SCALAR_KIND_CHANGED") {
		t.Errorf("string→double: %v", err)
	}
	if vs, err := cl.SR().SubjectVersions(ctx, "evolve-value"); err != nil || len(vs) != 2 {
		t.Errorf("versions %v %v", vs, err)
	}
}

// TestConverterReferences: with skip.known.types=false every import is
// registered under a subject named after its import path and referenced;
// a reader fetches them back.
func TestConverterReferences(t *testing.T) {
	_, cl := memRegistry(t)
	ctx := context.Background()
	conv := newConv(t, cl, func(cfg *Config) { cfg.SkipKnownTypes = false })
	s := schema.StructBuilder().Name("ns.Row").Field("d", schema.DateSchema(false)).Field("n", schema.DecimalSchema(1, 5, false)).Field("i", schema.Int16Schema).Build()
	b, err := conv.FromConnect("refs", nil, s, &schema.Struct{Schema: s, Values: []any{schema.DaysToDate(19000), dec("1234.5"), int16(-3)}})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := cl.SR().SchemaByVersion(ctx, "refs-value", -1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range ss.Schema.References {
		names = append(names, r.Name+"@"+r.Subject)
	}
	want := []string{"confluent/meta.proto@confluent/meta.proto", "google/type/date.proto@google/type/date.proto", "confluent/type/decimal.proto@confluent/type/decimal.proto"}
	if !slices.Equal(names, want) {
		t.Errorf("references %v, want %v", names, want)
	}
	meta, err := cl.SR().SchemaByVersion(ctx, "confluent/meta.proto", -1)
	if err != nil || len(meta.Schema.References) != 1 || meta.Schema.References[0].Name != "google/protobuf/descriptor.proto" {
		t.Errorf("confluent/meta.proto refs %+v %v", meta.Schema.References, err)
	}
	reader := newConv(t, cl, nil)
	_, v, err := reader.ToConnect("refs", nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*schema.Struct); !schema.EqualValues(got.Values[1], dec("1234.5")) || got.Values[2] != int16(-3) {
		t.Errorf("read %v", got.Values)
	}
}

// TestConverterLookupAndLatest: auto.register.schemas=false looks the
// schema up (and fails when it is not registered); use.latest.version
// writes with the latest schema's id and the message's index path in it.
func TestConverterLookupAndLatest(t *testing.T) {
	_, cl := memRegistry(t)
	ctx := context.Background()
	s := schema.StructBuilder().Name("ns.Row").Field("id", schema.Int32Schema).Build()
	v := &schema.Struct{Schema: s, Values: []any{int32(7)}}
	lookup := newConv(t, cl, func(cfg *Config) { cfg.AutoRegister = false })
	if _, err := lookup.FromConnect("lk", nil, s, v); err == nil {
		t.Fatal("an unregistered schema was looked up")
	}
	text, _, _ := ProtoSchemaOf(s, DefaultOptions())
	ss, err := cl.SR().CreateSchema(ctx, "lk-value", sr.Schema{Schema: text, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	lookup = newConv(t, cl, func(cfg *Config) { cfg.AutoRegister = false })
	b, err := lookup.FromConnect("lk", nil, s, v)
	if err != nil || !bytes.Equal(b[:6], header(ss.ID, []int{0})) {
		t.Fatalf("lookup: % x %v", b, err)
	}
	// the subject's latest schema has another message first: ns.Row is
	// message 1 (indexes [1]: zig-zag count 1, index 1 → 02 02)
	latest := "syntax = \"proto3\";\npackage ns;\n\nmessage Other {\n  string x = 1;\n}\nmessage Row {\n  int32 id = 1;\n  string note = 2;\n}\n"
	ls, err := cl.SR().CreateSchema(ctx, "lt-value", sr.Schema{Schema: latest, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	lc := newConv(t, cl, func(cfg *Config) { cfg.AutoRegister, cfg.UseLatestVersion = false, true })
	b, err = lc.FromConnect("lt", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[:7], append(header(ls.ID, nil)[:5], 2, 2)) {
		t.Errorf("use.latest.version header % x (id %d)", b[:7], ls.ID)
	}
	rs, rv, err := lc.ToConnect("lt", nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Name != "Row" || rv.(*schema.Struct).Get("id") != int32(7) || rv.(*schema.Struct).Get("note") != "" {
		t.Errorf("read %s %v", rs.Name, rv)
	}
	// latest.compatibility.strict (default): a latest schema that cannot read
	// the record's schema (id changed from int32 to string) is refused;
	// without the check it is used as it is
	bad := "syntax = \"proto3\";\npackage ns;\n\nmessage Row {\n  string id = 1;\n}\n"
	if _, err := cl.SR().CreateSchema(ctx, "lb-value", sr.Schema{Schema: bad, Type: sr.TypeProtobuf}); err != nil {
		t.Fatal(err)
	}
	_, err = lc.FromConnect("lb", nil, s, v)
	if err == nil || !strings.Contains(err.Error(), "latest.compatibility.strict=false") || !strings.Contains(err.Error(), "FIELD_SCALAR_KIND_CHANGED") {
		t.Errorf("strict: %v", err)
	}
	loose := newConv(t, cl, func(cfg *Config) { cfg.AutoRegister, cfg.UseLatestVersion, cfg.LatestCompatStrict = false, true, false })
	if _, err := loose.FromConnect("lb", nil, s, v); err != nil {
		t.Errorf("latest.compatibility.strict=false: %v", err)
	}
	if _, _, err := lc.ToConnect("lt", nil, []byte{1, 0, 0, 0, 1, 0}); !errors.Is(err, ErrUnknownMagicByte) {
		t.Errorf("bad magic: %v", err)
	}
}

func TestConfigFromMap(t *testing.T) {
	cfg, err := ConfigFromMap(map[string]string{"schema.registry.url": "http://r:8081"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.AutoRegister || !cfg.LatestCompatStrict || !cfg.SkipKnownTypes || cfg.SubjectStrategy != TopicNameStrategy || !cfg.Data.GenerateIndexForUnions || !cfg.Data.WrapperForRawPrimitives || cfg.CacheSize != 1000 {
		t.Errorf("defaults %+v", cfg)
	}
	cfg, err = ConfigFromMap(map[string]string{"schema.registry.url": "http://r:8081", "key.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy",
		"optional.for.nullables": "true", "wrapper.for.nullables": "true", "enhanced.protobuf.schema.support": "true", "skip.known.types": "false", "int.for.enums": "true"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.IsKey || cfg.SubjectStrategy != RecordNameStrategy || !cfg.Data.OptionalForNullables || !cfg.Data.WrapperForNullables ||
		!cfg.Data.EnhancedSchemaSupport || cfg.SkipKnownTypes || !cfg.Data.IntForEnums {
		t.Errorf("parsed %+v", cfg)
	}
	for key, val := range map[string]string{
		"value.subject.name.strategy":     "Nope",
		"reference.subject.name.strategy": "com.example.Custom",
		"schemas.cache.size":              "0",
		"auto.register.schemas":           "maybe",
		"normalize.schemas":               "true",
		"generalized.sum.type.support":    "true",
	} {
		_, err := ConfigFromMap(map[string]string{"schema.registry.url": "http://r:8081", key: val}, false)
		var ce config.Errors
		if !errors.As(err, &ce) || len(ce) == 0 || ce[0].Key != key {
			t.Errorf("%s=%s: %v", key, val, err)
		}
	}
	if _, err := ConfigFromMap(map[string]string{}, false); err == nil || !strings.Contains(err.Error(), "schema.registry.url") {
		t.Errorf("missing url: %v", err)
	}
}

// TestConverterConcurrent: one converter serves many goroutines (the first
// records of each topic race to register and compile); run with -race.
func TestConverterConcurrent(t *testing.T) {
	_, cl := memRegistry(t)
	conv := newConv(t, cl, nil)
	env, v := debeziumCreate()
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			topic := []string{"c1", "c2"}[g%2]
			for i := 0; i < 50; i++ {
				b, err := conv.FromConnect(topic, nil, env, v)
				if err == nil {
					_, _, err = conv.ToConnect(topic, nil, b)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestConverterRootPrimitives: a primitive root value is written, as
// ProtobufData.descriptorFromConnectSchema does, as the google.protobuf
// wrapper of its type with google/protobuf/wrappers.proto as the schema and
// the wrapper's message index in it (StringValue is message 7: indexes
// [7] → zig-zag 02 0e; DoubleValue, message 0, is the single 0), and read back as the primitive
// (wrapper.for.raw.primitives) or, with that off, as the wrapper struct.
func TestConverterRootPrimitives(t *testing.T) {
	_, cl := memRegistry(t)
	conv := newConv(t, cl, func(cfg *Config) { cfg.IsKey = true })
	for _, c := range []struct {
		s          *schema.Schema
		v, back    any
		index      byte
		wrapperMsg string
	}{
		{schema.StringSchema, "k-1", "k-1", 7, "StringValue"},
		{schema.Int32Schema, int32(-4), int32(-4), 4, "Int32Value"},
		{schema.Int8Schema, int8(5), int32(5), 4, "Int32Value"},
		{schema.Int64Schema, int64(1) << 50, int64(1) << 50, 2, "Int64Value"},
		{schema.BooleanSchema, true, true, 6, "BoolValue"},
		{schema.Float64Schema, 2.5, 2.5, 0, "DoubleValue"},
		{schema.BytesSchema, []byte{1, 2}, []byte{1, 2}, 8, "BytesValue"},
	} {
		b, err := conv.FromConnect("prim", nil, c.s, c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.s, err)
		}
		if c.index == 0 && b[5] != 0 || c.index > 0 && (b[5] != 2 || b[6] != c.index*2) {
			t.Errorf("%s: message indexes % x, want [%d]", c.s, b[5:7], c.index)
		}
		rs, rv, err := conv.ToConnect("prim", nil, b)
		if err != nil {
			t.Fatal(err)
		}
		if !schema.EqualValues(rv, c.back) || rs.Optional {
			t.Errorf("%s: read %#v (%s), want %#v", c.s, rv, rs, c.back)
		}
		raw := newConv(t, cl, func(cfg *Config) { cfg.Data.WrapperForRawPrimitives = false })
		rs, rv, err = raw.ToConnect("prim", nil, b)
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := rv.(*schema.Struct); !ok || rs.Name != c.wrapperMsg || !schema.EqualValues(st.Get("value"), c.back) {
			t.Errorf("%s without wrapper.for.raw.primitives: %s %#v", c.s, rs, rv)
		}
	}
	ss, err := cl.SR().SchemaByVersion(context.Background(), "prim-key", 1)
	if err != nil || !strings.Contains(ss.Schema.Schema, "message StringValue") || ss.Schema.Type != sr.TypeProtobuf {
		t.Errorf("registered %v %v", ss.Schema.Schema[:min(len(ss.Schema.Schema), 80)], err)
	}
}
