package jsonschemaconv

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// debeziumCreate is the Debezium MySQL create event the Avro and JSON
// converter benchmarks use (schema/avroconv): envelope, source block,
// decimal and MicroTimestamp columns.
func debeziumCreate() (*schema.Schema, *schema.Struct) {
	row := schema.NewStructSchema("dbserver1.inventory.customers.Value",
		schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "first_name", Schema: schema.StringSchema},
		schema.Field{Name: "email", Schema: schema.StringSchema},
		schema.Field{Name: "balance", Schema: schema.DecimalSchema(2, 10, true)},
		schema.Field{Name: "created", Schema: schema.NewBuilder(schema.TypeInt64).Name(schema.DebeziumMicroTimestamp).Version(1).Build()},
	)
	src := schema.NewStructSchema("io.debezium.connector.mysql.Source", append(cdc.CommonSourceFields(),
		schema.Field{Name: "table", Schema: schema.OptionalString},
		schema.Field{Name: "server_id", Schema: schema.Int64Schema},
		schema.Field{Name: "gtid", Schema: schema.OptionalString},
		schema.Field{Name: "file", Schema: schema.StringSchema},
		schema.Field{Name: "pos", Schema: schema.Int64Schema},
		schema.Field{Name: "row", Schema: schema.Int32Schema},
		schema.Field{Name: "thread", Schema: schema.OptionalInt64},
		schema.Field{Name: "query", Schema: schema.OptionalString},
	)...)
	env := cdc.EnvelopeSchema("dbserver1.inventory.customers.Envelope", row, src)
	after := &schema.Struct{Schema: env.Fields[cdc.EnvAfter].Schema, Values: []any{int32(1004), "Anne", "annek@noanswer.org",
		decimal.RequireFromString("123.45"), int64(1465491411000000)}}
	source := &schema.Struct{Schema: src, Values: []any{"3.1.0.Final", "mysql", "dbserver1", int64(1465491411000), "false", "inventory", nil,
		int64(1465491411000000), int64(1465491411000000000), "customers", int64(223344), nil, "mysql-bin.000003", int64(154), int32(0), int64(7), nil}}
	return env, cdc.NewEnvelope(env, cdc.OpCreate, nil, after, source, nil, time.Unix(0, 1465491411815437158))
}

// A Debezium envelope comes back as it went: schema (names, versions,
// parameters, optionality) and values.
func TestDebeziumEnvelopeRoundTrip(t *testing.T) {
	srv := startRegistry(t)
	c := newConv(t, srv, nil)
	env, v := debeziumCreate()
	b, err := c.FromConnect("dbserver1.inventory.customers", nil, env, v)
	if err != nil {
		t.Fatal(err)
	}
	s, got, err := newConv(t, srv, nil).ToConnect("dbserver1.inventory.customers", nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if !schema.Equal(s, env) || !schema.EqualValues(got, v) {
		t.Fatalf("envelope differs after the round trip\n%+v\n%s", s, b[5:])
	}
}

// One Debezium event per op: ns/op is ns/record; the registry is only
// touched by the first record.
func BenchmarkEncodeJSONSchema(b *testing.B) {
	c := newConv(b, startRegistry(b), nil)
	env, v := debeziumCreate()
	out, err := c.FromConnect("bench", nil, env, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.FromConnect("bench", nil, env, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeJSONSchema(b *testing.B) {
	c := newConv(b, startRegistry(b), nil)
	env, v := debeziumCreate()
	msg, err := c.FromConnect("bench", nil, env, v)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.ToConnect("bench", nil, msg); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.ToConnect("bench", nil, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// With json.fail.invalid.schema every payload is validated as well.
func BenchmarkEncodeJSONSchemaValidated(b *testing.B) {
	c := newConv(b, startRegistry(b), func(c *Config) { c.FailInvalidSchema = true })
	env, v := debeziumCreate()
	if _, err := c.FromConnect("bench", nil, env, v); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.FromConnect("bench", nil, env, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
