package mysql

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// TestBigTransactionBoundedMemory streams one transaction of TRIBUTARY_ROWS
// rows (100k by default; the figure is 500k) and samples the heap
// while it streams: the bounded queue means the transaction is never held in
// memory as a whole. Mid-transaction offsets must point at the transaction
// start and count rows.
func TestBigTransactionBoundedMemory(t *testing.T) {
	n := testRows()
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE bigtx (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(200))")
	off := &memOffsets{}
	task := startTask(t, testConfig(db, "btx", "max.batch.size", "2048", "max.queue.size", "8192"), off)
	c := &collector{t: t, task: task}
	c.pollUntil(10*time.Second, "snapshot", func() bool { return c.count("btx") >= 1 })

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	started := time.Now()
	mustExec(t, conn, "INSERT INTO bigtx (id, v, s) SELECT seq, seq, REPEAT('x', 100) FROM seq_1_to_"+strconv.Itoa(n))
	inserted := time.Since(started)
	started = time.Now()
	got, midTxn := 0, 0
	var lastPos any
	for got < n {
		recs, err := task.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recs = ackPolled(task, recs, nil)
		for _, r := range recs {
			if r.Topic != "btx."+db.Name+".bigtx" {
				continue
			}
			got++
			o := r.SourceOffset
			if o[offEvent] != nil {
				midTxn++
				if lastPos != nil && o[offPos] != lastPos {
					t.Fatalf("offset pos moved inside the transaction: %v then %v", lastPos, o[offPos])
				}
				lastPos = o[offPos]
			}
			if got == n {
				if a := r.Value.(*schema.Struct).Get("after").(*schema.Struct); a.Get("id").(int32) != int32(n) {
					t.Fatalf("last row id %v", a.Get("id"))
				}
			}
		}
		if time.Since(started) > 5*time.Minute {
			t.Fatalf("only %d of %d rows after 5 minutes", got, n)
		}
	}
	elapsed := time.Since(started)
	close(stop)
	wg.Wait()
	if midTxn != n {
		t.Fatalf("%d of %d records carry an in-transaction offset", midTxn, n)
	}
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("%d-row transaction: inserted in %v, streamed in %v (%.0f rows/s); heap in use %.1f MiB before, peak %.1f MiB (+%.1f MiB); process peak RSS %s",
		n, inserted.Round(time.Millisecond), elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		float64(base.HeapInuse)/(1<<20), float64(peak.Load())/(1<<20), float64(growth)/(1<<20), peakRSS())
	if growth > 256<<20 {
		t.Fatalf("heap grew by %d MiB while streaming one transaction", growth>>20)
	}
}

// peakRSS reads the process's peak resident set size (VmHWM).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "?"
}
