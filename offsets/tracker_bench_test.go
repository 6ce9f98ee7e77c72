package offsets

import (
	"context"
	"testing"
)

// BenchmarkTracker tracks records of 4 partitions and acks them in batches
// of 64 out of order (reverse), as producer promises do.
func BenchmarkTracker(b *testing.B) {
	ctx := context.Background()
	tr := NewTracker[string, int64](0)
	keys := []string{`{"p":0}`, `{"p":1}`, `{"p":2}`, `{"p":3}`}
	batch := make([]*Ticket[int64], 0, 64)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		tk, _ := tr.Track(ctx, keys[n%4], int64(n))
		batch = append(batch, tk)
		if len(batch) == cap(batch) {
			for i := len(batch) - 1; i >= 0; i-- {
				batch[i].Ack()
			}
			batch = batch[:0]
			tr.Committable()
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
