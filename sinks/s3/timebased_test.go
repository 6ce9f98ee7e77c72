package s3

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

// TestTimeBasedHourly: path.format 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH
// with partition.duration.ms=3600000 and the Record extractor puts every
// record under the hour of its Kafka timestamp; rotate.interval.ms cuts a
// file when the hour changes.
func TestTimeBasedHourly(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatParquet} {
		t.Run(format[strings.LastIndexByte(format, '.')+1:], func(t *testing.T) {
			f := newFakeS3(t)
			cfg := f.config(KeyFormatClass, format, KeyFlushSize, "100000",
				KeyPartitionerClass, PartitionerTimeBased,
				KeyPathFormat, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
				KeyPartitionDuration, "3600000", KeyLocale, "en-US", KeyTimezone, "UTC",
				KeyTimestampExtractor, "Record", KeyRotateInterval, "3600000")
			const parts = 2
			n := int64(10_000) // 1.5 s apart: ~4.2 hours per partition, across midnight
			d := newDriver(t, cfg, parts, n+1)
			d.want = n // the last record opens a file of the next hour that stays open
			d.gen = func(topic string, p int32, off int64) schema.Record {
				rec := event(topic, p, off)
				if off == n {
					rec.Timestamp = rec.Timestamp.Add(time.Hour)
				}
				return rec
			}
			d.run(context.Background(), 0)
			keys := verifyExactlyOnce(t, f, "topics/", d.topic, parts, n)
			hours := map[string]bool{}
			total := 0
			for _, k := range keys {
				_, times := readSeqs(t, k, f.get(t, k))
				dir := k[:strings.LastIndexByte(k, '/')]
				hours[dir[strings.Index(dir, "year="):]] = true
				for _, ts := range times {
					want := "topics/" + d.topic + "/" + ts.Format("'year'=2006/'month'=01/'day'=02/'hour'=15")
					want = strings.ReplaceAll(want, "'", "")
					if dir != want {
						t.Fatalf("%s holds a record of %s (want directory %s)", k, ts, want)
					}
					total++
				}
			}
			if total != parts*int(n) {
				t.Fatalf("read %d records", total)
			}
			if len(hours) != 5 {
				t.Fatalf("hour directories %v, want 5 (20h..00h)", hours)
			}
			if _, ok := hours["year=2024/month=03/day=11/hour=00"]; !ok {
				t.Fatalf("no directory past midnight: %v", hours)
			}
		})
	}
}

// TestTimeBasedZoneAndDaily checks truncation in a zone with an offset
// (America/New_York) and the DailyPartitioner's path.
func TestTimeBasedZoneAndDaily(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]string
		ts   time.Time
		want string
	}{
		{map[string]string{KeyPartitionerClass: PartitionerTimeBased, KeyPathFormat: "YYYY-MM-dd/HH", KeyPartitionDuration: "3600000", KeyTimezone: "America/New_York"},
			time.Date(2024, 3, 11, 3, 30, 0, 0, time.UTC), "2024-03-10/23"},
		{map[string]string{KeyPartitionerClass: "DailyPartitioner", KeyTimezone: "UTC"},
			time.Date(2024, 3, 11, 3, 30, 0, 0, time.UTC), "year=2024/month=03/day=11"},
		{map[string]string{KeyPartitionerClass: PartitionerTimeBased, KeyPathFormat: "'dt'=YYYYMMdd/'m'=mm", KeyPartitionDuration: "900000", KeyTimezone: "Asia/Kolkata"},
			time.Date(2024, 3, 11, 3, 29, 59, 0, time.UTC), "dt=20240311/m=45"},
		{map[string]string{KeyPartitionerClass: PartitionerTimeBased, KeyPathFormat: "YY/MMM/EEE/a/hh/ZZ", KeyPartitionDuration: "86400000", KeyTimezone: "UTC"},
			time.Date(2024, 3, 11, 15, 0, 0, 0, time.UTC), "24/Mar/Mon/AM/12/+00:00"},
	} {
		raw := map[string]string{"topics": "t", KeyBucket: "b", KeyFlushSize: "1", KeyFormatClass: "JsonFormat",
			KeyLocale: "en", KeyTimestampExtractor: "Record"}
		for k, v := range tc.cfg {
			raw[k] = v
		}
		s, err := parseSettings(raw)
		if err != nil {
			t.Fatal(err)
		}
		p, ex, err := newPartitioner(s)
		if err != nil {
			t.Fatal(err)
		}
		rec := event("t", 0, 0)
		rec.Timestamp = tc.ts
		ts, err := ex(&rec, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.encode(&rec, ts)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%v at %s: got %s, want %s", tc.cfg, tc.ts, got, tc.want)
		}
	}
}
