package runtime_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSinkCommitsBeforeHoldingTooMuch: the sink loop keeps consumed records
// until their offsets are committed (for the DLQ); with a long
// offset.flush.interval.ms and a fast topic that was unbounded memory (a
// 10k rows/s pipeline held over 1 GiB). Past maxRawBytes (32 MiB) the loop
// flushes and commits early, so the offsets move long before the interval.
func TestSinkCommitsBeforeHoldingTooMuch(t *testing.T) {
	dir := t.TempDir()
	w := newWorker(t, dir, map[string]string{"offset.flush.interval.ms": "600000"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "big"); err != nil {
		t.Fatal(err)
	}
	const n = 48_000 // 48 MB of 1000-byte lines
	line := bytes.Repeat([]byte("x"), 1000)
	recs := make([]*kgo.Record, 0, 1000)
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Topic: "big", Value: line})
		if len(recs) == cap(recs) {
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if err := w.CreateConnector(ctx, "sink", map[string]string{
		"connector.class": "FileStreamSink", "file": filepath.Join(dir, "out.txt"), "topics": "big",
	}); err != nil {
		t.Fatal(err)
	}
	var committed int64
	waitFor(t, "an early commit", time.Minute, func() bool {
		offs, err := w.Offsets(ctx, "sink")
		if err != nil || len(offs) == 0 {
			return false
		}
		committed, _ = offs[0].Offset["kafka_offset"].(int64)
		return committed > 0
	})
	if committed > n {
		t.Fatalf("committed offset %d past the %d records", committed, n)
	}
	t.Logf("committed offset %d of %d before offset.flush.interval.ms", committed, n)
}

// TestSinkReleasesRenamedRecords: the retained records must be released
// by where they were consumed even when a transform renames the topic
// (RegexRouter). Keyed by the routed name, a commit never freed them: the
// held bytes stayed past maxRawBytes for good, so every later poll was
// committed at once instead of at offset.flush.interval.ms, and memory
// grew without bound. After the early commit the few records produced next
// stay uncommitted (well under maxRawBytes, a 10-minute interval).
func TestSinkReleasesRenamedRecords(t *testing.T) {
	dir := t.TempDir()
	w := newWorker(t, dir, map[string]string{"offset.flush.interval.ms": "600000"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := w.KafkaClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "bigsrc"); err != nil {
		t.Fatal(err)
	}
	produce := func(n int, size int) {
		line := bytes.Repeat([]byte("x"), size)
		recs := make([]*kgo.Record, 0, 1000)
		for i := 0; i < n; i++ {
			recs = append(recs, &kgo.Record{Topic: "bigsrc", Value: line})
			if len(recs) == cap(recs) || i == n-1 {
				if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
					t.Fatal(err)
				}
				recs = recs[:0]
			}
		}
	}
	const n = 40_000 // 40 MB of 1000-byte lines, past maxRawBytes once
	produce(n, 1000)
	if err := w.CreateConnector(ctx, "sink", map[string]string{
		"connector.class": "FileStreamSink", "file": filepath.Join(dir, "out.txt"), "topics": "bigsrc",
		"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex": "bigsrc", "transforms.route.replacement": "renamed",
	}); err != nil {
		t.Fatal(err)
	}
	committed := func() int64 {
		offs, err := w.Offsets(ctx, "sink")
		if err != nil || len(offs) == 0 {
			return 0
		}
		o, _ := offs[0].Offset["kafka_offset"].(int64)
		return o
	}
	waitFor(t, "an early commit", time.Minute, func() bool { return committed() > 0 })
	time.Sleep(2 * time.Second) // let the sink consume the rest of the 40k
	produce(100, 10)
	time.Sleep(3 * time.Second) // several polls; a full retention would commit each
	if got := committed(); got > n {
		t.Fatalf("committed offset %d includes the %d records produced after the early commit: the retained records were not released", got, got-n)
	}
}
