package s3

import (
	"context"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// BenchmarkSink measures records through Put/PreCommit into the in-process
// S3 API (gofakes3 over loopback HTTP) per format: MB/s is object bytes
// stored per second, rows/s records per second. The fake store's own CPU is
// included (it shares the 2 cores), so a real store is faster per task.
func BenchmarkSink(b *testing.B) {
	const parts, perPart = 4, 25_000
	recs := make([][]schema.Record, parts)
	for p := range int32(parts) {
		for off := range int64(perPart) {
			recs[p] = append(recs[p], event("cdc.shop.orders", p, off))
		}
	}
	for _, format := range []string{FormatJSON, FormatAvro, FormatParquet} {
		b.Run(format[strings.LastIndexByte(format, '.')+1:], func(b *testing.B) {
			f := newFakeS3(b)
			b.ReportAllocs()
			var rows int64
			for i := 0; b.Loop(); i++ {
				task := Plugin{}.NewTask().(*Task)
				cfg := f.config(KeyFormatClass, format, KeyFlushSize, "10000", KeyTopicsDir, "b"+string(rune('a'+i%26)))
				if err := task.Start(context.Background(), cfg, connector.TaskContext{}); err != nil {
					b.Fatal(err)
				}
				cur := map[connector.TopicPartition]int64{}
				for start := 0; start < perPart; start += 500 {
					var batch []schema.Record
					for p := range parts {
						batch = append(batch, recs[p][start:start+500]...)
						cur[connector.TopicPartition{Topic: "cdc.shop.orders", Partition: int32(p)}] = int64(start + 500)
					}
					if err := task.Put(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
				}
				got, err := task.PreCommit(context.Background(), cur)
				if err != nil || len(got) != parts {
					b.Fatalf("pre-commit %v %v", got, err)
				}
				_ = task.Stop()
				rows += parts * perPart
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(f.bytes.Load())/1e6/sec, "MB/s")
			b.ReportMetric(float64(rows)/sec, "rows/s")
		})
	}
}
