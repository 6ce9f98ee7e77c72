package avroconv

import (
	"testing"

	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// One Debezium MySQL create event (envelope with source block, decimal and
// MicroTimestamp columns) per op: ns/op is ns/record. Avro vs Kafka Connect
// JSON (schemas.enable=true, the Connect default) on the same record; the
// registry is only touched by the first record.

func BenchmarkEncodeAvro(b *testing.B) {
	reg := fakeRegistry(b)
	c, err := New(Config{AutoRegister: true, URLs: []string{reg.URL()}})
	if err != nil {
		b.Fatal(err)
	}
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

func BenchmarkDecodeAvro(b *testing.B) {
	reg := fakeRegistry(b)
	c, err := New(Config{AutoRegister: true, URLs: []string{reg.URL()}})
	if err != nil {
		b.Fatal(err)
	}
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

func BenchmarkEncodeJSON(b *testing.B) {
	c := jsonconv.New(jsonconv.DefaultConfig())
	env, v := debeziumCreate()
	out, _ := c.FromConnect("bench", nil, env, v)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.FromConnect("bench", nil, env, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeJSON(b *testing.B) {
	c := jsonconv.New(jsonconv.DefaultConfig())
	env, v := debeziumCreate()
	msg, _ := c.FromConnect("bench", nil, env, v)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.ToConnect("bench", nil, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
