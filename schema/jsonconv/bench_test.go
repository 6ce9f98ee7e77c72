package jsonconv

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The benchmarks encode and decode one Debezium MySQL create event (the spec
// §2.3 example with its full schema, ~3 KB) per op, so ns/op is ns/record.

func BenchmarkEncodeEnvelope(b *testing.B) {
	env, v, _, _ := debeziumCreate()
	c := New(DefaultConfig())
	b.ReportAllocs()
	var n int
	for b.Loop() {
		out, err := c.FromConnect("t", nil, env, v)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.SetBytes(int64(n))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkEncodeEnvelopeAppend(b *testing.B) {
	env, v, _, _ := debeziumCreate()
	c := New(DefaultConfig())
	b.ReportAllocs()
	buf := make([]byte, 0, 8192)
	for b.Loop() {
		var err error
		if buf, err = c.Append(buf[:0], env, v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeEnvelopeStdlib is the baseline: encoding/json writing the
// same envelope from Go maps (schema as pre-rendered JSON, payload as
// map[string]any; HTML escaping off).
func BenchmarkEncodeEnvelopeStdlib(b *testing.B) {
	env, _, _, _ := debeziumCreate()
	c := New(DefaultConfig())
	sj, _ := c.SchemaJSON(env)
	payload := schemalessEnvelope()
	msg := struct {
		Schema  json.RawMessage `json:"schema"`
		Payload map[string]any  `json:"payload"`
	}{sj, payload}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		e := json.NewEncoder(&buf)
		e.SetEscapeHTML(false)
		if err := e.Encode(msg); err != nil {
			b.Fatal(err)
		}
		_ = bytes.Clone(buf.Bytes())
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	env, v, _, _ := debeziumCreate()
	c := New(DefaultConfig())
	msg, _ := c.FromConnect("t", nil, env, v)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, _, err := c.ToConnect("t", nil, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeEnvelopeStdlib is the baseline: encoding/json parsing the
// same message into map[string]any (no schema handling at all).
func BenchmarkDecodeEnvelopeStdlib(b *testing.B) {
	env, v, _, _ := debeziumCreate()
	c := New(DefaultConfig())
	msg, _ := c.FromConnect("t", nil, env, v)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(msg, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkEncodeSchemaless(b *testing.B) {
	env, v, _, _ := debeziumCreate()
	c := New(Config{SchemasEnable: false})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.FromConnect("t", nil, env, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
