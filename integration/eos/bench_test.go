package eos

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// benchLines is the workload of one run: lines of benchLineBytes bytes
// (about a narrow table row in Connect's string form).
const (
	benchLines     = 500000
	benchLineBytes = 100
)

// BenchmarkSourceThroughput measures FileStreamSource → Kafka throughput as
// a read_committed consumer sees it, on real Kafka, with at-least-once
// (exactly.once.source.support=disabled) and exactly-once (enabled) workers,
// for poll batches of 2000 lines (FileStreamSource's default batch.size)
// and 100 (the JDBC source's default batch.max.rows), with
// transaction.boundary=poll and =interval (1 s). records/s counts from the
// first record visible to the last. Run with -benchtime=1x:
//
//	go test ./integration/eos/ -run '^$' -bench SourceThroughput -benchtime=1x
func BenchmarkSourceThroughput(b *testing.B) {
	k := harness.Kafka(b)
	dir := b.TempDir()
	workers := map[string]*worker{}
	for i, mode := range []string{"disabled", "enabled"} {
		g := "bench-" + mode
		w := newWorker(b, dir, i, k.Bootstrap, mode, fmt.Sprintf("group.id=%s\nconfig.storage.topic=%s-configs\noffset.storage.topic=%s-offsets\nstatus.storage.topic=%s-status\noffset.flush.interval.ms=1000\n", g, g, g, g))
		w.start()
		workers[mode] = w
	}
	file := filepath.Join(dir, "lines.txt")
	writeBenchFile(b, file)
	run := 0
	for _, bc := range []struct {
		name, mode, boundary string
		batch                int
	}{
		{"at-least-once/batch=2000", "disabled", "", 2000},
		{"exactly-once/poll/batch=2000", "enabled", "poll", 2000},
		{"at-least-once/batch=100", "disabled", "", 100},
		{"exactly-once/poll/batch=100", "enabled", "poll", 100},
		{"exactly-once/interval=1s/batch=100", "enabled", "interval", 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				run++
				topic, name := fmt.Sprintf("bench-%d", run), fmt.Sprintf("bench-src-%d", run)
				createTopic(b, k.Bootstrap, topic)
				cfg := map[string]string{"connector.class": "FileStreamSource", "tasks.max": "1", "file": file, "topic": topic,
					"batch.size": fmt.Sprint(bc.batch)}
				if bc.boundary != "" {
					cfg["transaction.boundary"] = bc.boundary
					cfg["transaction.boundary.interval.ms"] = "1000"
				}
				var (
					wg          sync.WaitGroup
					first, last time.Time
					n           int
				)
				cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(k.Bootstrap, ",")...), kgo.ConsumeTopics(topic),
					kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n < benchLines && ctx.Err() == nil {
						fs := cl.PollFetches(ctx)
						c := fs.NumRecords()
						if c > 0 {
							if n == 0 {
								first = time.Now()
							}
							n += c
							last = time.Now()
						}
					}
				}()
				b.ResetTimer()
				putConnector(b, workers[bc.mode], name, cfg)
				wg.Wait()
				b.StopTimer()
				cancel()
				cl.Close()
				if n < benchLines {
					b.Fatalf("only %d of %d lines arrived", n, benchLines)
				}
				rate := float64(n-1) / last.Sub(first).Seconds()
				b.ReportMetric(rate, "records/s")
				b.Logf("%s: %d records in %v (%.0f records/s)", bc.name, n, last.Sub(first).Round(time.Millisecond), rate)
				if code, body, err := call("DELETE", workers[bc.mode].url()+"connectors/"+name, nil); err != nil || code >= 300 {
					b.Logf("delete %s: HTTP %d %s (err %v)", name, code, body, err)
				}
			}
		})
	}
}

func writeBenchFile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	pad := strings.Repeat("x", benchLineBytes-10)
	for i := 1; i <= benchLines; i++ {
		fmt.Fprintf(bw, "%08d %s\n", i, pad)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
