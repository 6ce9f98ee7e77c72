package main

import (
	"bytes"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// heapSampler watches the heap in use while a stage runs and keeps a heap
// profile taken near its peak (-memprofile): a new profile whenever the
// heap in use grew by 10% over the last one.
type heapSampler struct {
	path string
	done chan struct{}
	out  chan float64
}

func startHeapSampler(path string) *heapSampler {
	h := &heapSampler{path: path, done: make(chan struct{}), out: make(chan float64, 1)}
	go h.run()
	return h
}

func (h *heapSampler) run() {
	var (
		peak, profiled uint64
		best           bytes.Buffer
		ms             runtime.MemStats
	)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			if best.Len() > 0 {
				os.WriteFile(h.path, best.Bytes(), 0o644)
			}
			h.out <- float64(peak) / (1 << 20)
			return
		case <-t.C:
		}
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak {
			peak = ms.HeapInuse
		}
		if ms.HeapInuse > profiled+profiled/10 {
			profiled = ms.HeapInuse
			best.Reset()
			pprof.Lookup("heap").WriteTo(&best, 0)
		}
	}
}

// stop ends sampling, writes the profile and returns the peak heap in use
// in MiB.
func (h *heapSampler) stop() float64 {
	close(h.done)
	return <-h.out
}
