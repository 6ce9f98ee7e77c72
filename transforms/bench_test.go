package transforms

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// benchRecords builds n Debezium change events (creates and updates) of a
// 10-column table, as the MySQL reader emits them.
func benchRecords(n int) []schema.Record {
	const name = "dbserver1.inventory.customers"
	row := schema.StructBuilder().Name(name+".Value").
		Field("id", schema.Int64Schema).
		Field("first_name", schema.StringSchema).
		Field("last_name", schema.StringSchema).
		Field("email", schema.OptionalString).
		Field("balance", schema.DecimalSchema(2, 12, true)).
		Field("active", schema.BooleanSchema).
		Field("score", schema.OptionalFloat64).
		Field("created_at", schema.TimestampSchema(false)).
		Field("birthday", schema.DateSchema(true)).
		Field("notes", schema.OptionalString).Build()
	key := structSchema(name+".Key", "id", schema.Int64Schema)
	f := newCDCFixture("dbserver1", "customers")
	env := cdc.EnvelopeSchema(name+".Envelope", row, f.src)
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	recs := make([]schema.Record, n)
	for i := range recs {
		mk := func(v int) *schema.Struct {
			return mkStruct(row, int64(i), fmt.Sprintf("First%d", v), "Last", fmt.Sprintf("user%d@example.com", i),
				decimal.New(int64(1000+v), -2), v%2 == 0, float64(v)/3, now.Add(time.Duration(i)*time.Second),
				time.Date(1990, 1, 1+i%28, 0, 0, 0, 0, time.UTC), "some notes about the customer")
		}
		op, before := cdc.OpCreate, (*schema.Struct)(nil)
		if i%2 == 1 {
			op, before = cdc.OpUpdate, mk(i-1)
		}
		r := schema.Record{Topic: "dbserver1.inventory.customers", Partition: -1, Timestamp: now,
			SourcePartition: map[string]any{"server": "dbserver1"}, SourceOffset: map[string]any{"pos": int64(i)}}
		r.KeySchema, r.Key = key, mkStruct(key, int64(i))
		r.ValueSchema, r.Value = env, cdc.NewEnvelope(env, op, before, mk(i), f.source("customers"), nil, now)
		recs[i] = r
	}
	return recs
}

// BenchmarkChain measures the three-transform chain per record
// (ns/op = ns/record).
func BenchmarkChain(b *testing.B) {
	recs := benchRecords(1024)
	c := mustChain(b, chainConfig())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, err := c.Apply(recs[i&1023]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkTransform measures single transforms on a flattened row.
func BenchmarkTransform(b *testing.B) {
	recs := benchRecords(1024)
	unwrap := mustChain(b, one(enrs))
	flat := make([]schema.Record, len(recs))
	for i, r := range recs {
		flat[i], _, _ = unwrap.Apply(r)
	}
	for _, bc := range []struct {
		name string
		cfg  map[string]string
		in   []schema.Record
	}{
		{"ExtractNewRecordState", one(enrs), recs},
		{"ExtractNewRecordState+add.fields", one(enrs, "add.fields", "op,table,source.ts_ms", "delete.tombstone.handling.mode", "rewrite"), recs},
		{"ReplaceField", one(kafkaPkg+"ReplaceField$Value", "exclude", "notes", "renames", "first_name:name"), flat},
		{"RegexRouter", one(kafkaPkg+"RegexRouter", "regex", `dbserver1\.inventory\.(.*)`, "replacement", "$1"), flat},
		{"Cast", one(kafkaPkg+"Cast$Value", "spec", "id:string,score:float32"), flat},
		{"InsertField", one(kafkaPkg+"InsertField$Value", "topic.field", "topic", "static.field", "src", "static.value", "db"), flat},
		{"InsertHeader", one(kafkaPkg+"InsertHeader", "header", "source", "value.literal", "mysql-connector"), flat},
		{"Flatten", one(kafkaPkg + "Flatten$Value"), recs},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := mustChain(b, bc.cfg)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, err := c.Apply(bc.in[i&1023]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
