package transforms

import (
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// BenchmarkChainVsJSON compares the three-transform chain
// (ExtractNewRecordState → ReplaceField → RegexRouter) with the per-record
// cost of Kafka Connect JSON conversion of the same Debezium change event, on
// both sides of Kafka, timed in interleaved batches so machine load hits both
// alike:
//
//	source side: chain(envelope) vs JsonConverter.FromConnect(key+envelope);
//	             with the chain the converter encodes the flattened row instead
//	             (encode-flat-ns/rec), so the chain's share of that pipeline is
//	             chain / (chain + encode-flat)
//	sink side:   chain(decoded envelope) vs JsonConverter.ToConnect(key+envelope)
//
// Metrics: ns per record of each step, and the chain's cost as a percentage
// (the acceptance target is < 15% of the pipeline's per-record CPU).
func BenchmarkChainVsJSON(b *testing.B) {
	plain := chainConfig()
	delete(plain, "transforms.unwrap.add.fields")
	b.Run("unwrap,rename,route", func(b *testing.B) { benchChainVsJSON(b, plain) })
	b.Run("unwrap+add.fields=op,rename,route", func(b *testing.B) { benchChainVsJSON(b, chainConfig()) })
}

func benchChainVsJSON(b *testing.B, cfg map[string]string) {
	const batch = 256
	recs := benchRecords(batch * 4)
	c := mustChain(b, cfg)
	keyConv := jsonconv.New(func() jsonconv.Config { cfg := jsonconv.DefaultConfig(); cfg.IsKey = true; return cfg }())
	valConv := jsonconv.New(jsonconv.DefaultConfig())
	keys := make([][]byte, len(recs))
	vals := make([][]byte, len(recs))
	for i, r := range recs {
		var err error
		if keys[i], err = keyConv.FromConnect(r.Topic, nil, r.KeySchema, r.Key); err != nil {
			b.Fatal(err)
		}
		if vals[i], err = valConv.FromConnect(r.Topic, nil, r.ValueSchema, r.Value); err != nil {
			b.Fatal(err)
		}
	}
	decoded := make([]schema.Record, batch)
	flat := make([]schema.Record, batch)
	var chainSrc, enc, encFlat, dec, chainSink time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		off := (n / batch % 4) * batch
		t0 := time.Now()
		for i := range batch {
			var err error
			if flat[i], _, err = c.Apply(recs[off+i]); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for i := range batch {
			r := &recs[off+i]
			if _, err := keyConv.FromConnect(r.Topic, nil, r.KeySchema, r.Key); err != nil {
				b.Fatal(err)
			}
			if _, err := valConv.FromConnect(r.Topic, nil, r.ValueSchema, r.Value); err != nil {
				b.Fatal(err)
			}
		}
		t2 := time.Now()
		for i := range batch {
			r := schema.Record{Topic: recs[off+i].Topic, Partition: 0, Offset: int64(n + i), Timestamp: t0}
			var err error
			if r.KeySchema, r.Key, err = keyConv.ToConnect(r.Topic, nil, keys[off+i]); err != nil {
				b.Fatal(err)
			}
			if r.ValueSchema, r.Value, err = valConv.ToConnect(r.Topic, nil, vals[off+i]); err != nil {
				b.Fatal(err)
			}
			decoded[i] = r
		}
		t3 := time.Now()
		for i := range batch {
			if _, _, err := c.Apply(decoded[i]); err != nil {
				b.Fatal(err)
			}
		}
		t4 := time.Now()
		for i := range batch {
			r := &flat[i]
			if _, err := keyConv.FromConnect(r.Topic, nil, r.KeySchema, r.Key); err != nil {
				b.Fatal(err)
			}
			if _, err := valConv.FromConnect(r.Topic, nil, r.ValueSchema, r.Value); err != nil {
				b.Fatal(err)
			}
		}
		encFlat += time.Since(t4)
		chainSrc += t1.Sub(t0)
		enc += t2.Sub(t1)
		dec += t3.Sub(t2)
		chainSink += t4.Sub(t3)
		n += batch
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	b.ReportMetric(per(chainSrc), "chain-ns/rec")
	b.ReportMetric(per(enc), "encode-ns/rec")
	b.ReportMetric(per(encFlat), "encode-flat-ns/rec")
	b.ReportMetric(per(dec), "decode-ns/rec")
	b.ReportMetric(per(chainSink), "sink-chain-ns/rec")
	b.ReportMetric(100*per(chainSrc)/per(enc), "chain%-of-encode")
	b.ReportMetric(100*per(chainSrc)/(per(chainSrc)+per(encFlat)), "chain%-of-source-pipeline")
	b.ReportMetric(100*per(chainSink)/(per(chainSink)+per(dec)), "chain%-of-sink-pipeline")
	b.ReportMetric(100*per(chainSink)/per(dec), "chain%-of-decode")
}

// The sink side: envelopes read back through JsonConverter go through the
// chain like the source's own records, and the flattened row serializes.
func TestChainOnJSONDecodedEnvelope(t *testing.T) {
	recs := benchRecords(2)
	c := mustChain(t, chainConfig())
	conv := jsonconv.New(jsonconv.DefaultConfig())
	for _, r := range recs {
		b, err := conv.FromConnect(r.Topic, nil, r.ValueSchema, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		in := baseRecord()
		in.Topic = r.Topic
		if in.ValueSchema, in.Value, err = conv.ToConnect(r.Topic, nil, b); err != nil {
			t.Fatal(err)
		}
		want, _, err := c.Apply(r)
		if err != nil {
			t.Fatal(err)
		}
		got, keep, err := applyChecked(t, c, in)
		if err != nil || !keep {
			t.Fatalf("keep=%v err=%v", keep, err)
		}
		if got.Topic != "customers_replica" || renderSchema(got.ValueSchema) != renderSchema(want.ValueSchema) ||
			renderValue(got.Value) != renderValue(want.Value) {
			t.Fatalf("decoded:\n got  %s\n want %s", renderRecord(got), renderRecord(want))
		}
		out, err := conv.FromConnect(got.Topic, nil, got.ValueSchema, got.Value)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := conv.FromConnect(want.Topic, nil, want.ValueSchema, want.Value)
		if string(out) != string(wantJSON) {
			t.Fatalf("json:\n got  %s\n want %s", out, wantJSON)
		}
	}
}
