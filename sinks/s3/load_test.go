package s3

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoadExactNames writes TRIBUTARY_ROWS records (default 100k; 1M when
// measuring) over 5 partitions with flush.size=10000 in each format and
// checks the exact object names and that reading every object back gives
// every record once, in offset order per partition.
func TestLoadExactNames(t *testing.T) {
	total := rowsEnv(100_000)
	const parts = 5
	for _, tc := range []struct {
		format, ext string
	}{
		{FormatJSON, ".json"},
		{FormatAvro, ".avro"},
		{FormatParquet, ".snappy.parquet"},
	} {
		t.Run(tc.format[strings.LastIndexByte(tc.format, '.')+1:], func(t *testing.T) {
			f := newFakeS3(t)
			n := int64(total/parts) / 10000 * 10000
			cfg := f.config(KeyFormatClass, tc.format, KeyFlushSize, "10000", KeyPartSize, "5242880")
			d := newDriver(t, cfg, parts, n)
			start := time.Now()
			d.run(context.Background(), 0)
			el := time.Since(start)
			keys := verifyExactlyOnce(t, f, "topics/", d.topic, parts, n)
			var want []string
			for p := range int32(parts) {
				for off := int64(0); off < n; off += 10000 {
					want = append(want, fmt.Sprintf("topics/%s/partition=%d/%s+%d+%010d%s", d.topic, p, d.topic, p, off, tc.ext))
				}
			}
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Fatalf("objects:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
			}
			t.Logf("%d records, %d objects, %.1f MB stored in %v (%.1f MB/s, %d multipart parts)",
				n*parts, len(keys), float64(f.bytes.Load())/1e6, el.Round(time.Millisecond),
				float64(f.bytes.Load())/1e6/el.Seconds(), f.parts.Load())
		})
	}
}
