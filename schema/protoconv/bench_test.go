package protoconv

import (
	"context"
	"testing"

	"github.com/tributary-cdc/tributary/schema/registry"
)

// One Debezium MySQL create event (envelope with source block, decimal and
// MicroTimestamp columns; the record of avroconv's BenchmarkEncodeAvro /
// BenchmarkEncodeJSON) per op: ns/op is ns/record. The registry (in memory)
// is only touched by the first record.

func benchConverter(b *testing.B) *Converter {
	srv, err := registry.NewServer(context.Background(), registry.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	cfg := DefaultConfig()
	cfg.URLs = []string{srv.URL()}
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkEncodeProtobuf(b *testing.B) {
	c := benchConverter(b)
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

func BenchmarkDecodeProtobuf(b *testing.B) {
	c := benchConverter(b)
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
