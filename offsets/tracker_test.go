package offsets

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestTrackerOutOfOrderAcks(t *testing.T) {
	ctx := context.Background()
	tr := NewTracker[string, int](0)
	var a, b []*Ticket[int]
	for i := 1; i <= 5; i++ {
		tk, _ := tr.Track(ctx, "a", i)
		a = append(a, tk)
		tk, _ = tr.Track(ctx, "b", 100+i)
		b = append(b, tk)
	}
	if got := tr.Committable(); got != nil {
		t.Fatalf("committable before any ack: %v", got)
	}
	a[1].Ack() // 2 acked, 1 not: nothing for a
	a[2].Ack()
	b[0].Ack()
	got := tr.Committable()
	if _, ok := got["a"]; ok || got["b"] != 101 || len(got) != 1 {
		t.Fatalf("committable = %v, want only b=101", got)
	}
	a[0].Ack() // now 1,2,3 acked
	got = tr.Committable()
	if got["a"] != 3 || len(got) != 1 {
		t.Fatalf("committable = %v, want a=3", got)
	}
	if got := tr.Committable(); got != nil {
		t.Fatalf("second call returned %v, want nothing new", got)
	}
	a[4].Ack()
	a[4].Ack() // twice is a no-op
	if got := tr.Committable(); got != nil {
		t.Fatalf("committable with a[3] unacked: %v", got)
	}
	if p := tr.Pending(); p != 2+4 {
		t.Fatalf("pending = %d, want 6", p)
	}
	a[3].Ack()
	for _, tk := range b[1:] {
		tk.Ack()
	}
	got = tr.Committable()
	if got["a"] != 5 || got["b"] != 105 {
		t.Fatalf("committable = %v, want a=5 b=105", got)
	}
	if err := tr.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTrackerRandom acks records in random order from several goroutines and
// checks that every committable offset has all its predecessors acked.
func TestTrackerRandom(t *testing.T) {
	ctx := context.Background()
	tr := NewTracker[int, int](0)
	const keys, per = 4, 2000
	var mu sync.Mutex
	acked := make([][]bool, keys)
	var all []struct {
		tk  *Ticket[int]
		key int
	}
	for k := range keys {
		acked[k] = make([]bool, per)
	}
	for i := range per {
		for k := range keys {
			tk, _ := tr.Track(ctx, k, i)
			all = append(all, struct {
				tk  *Ticket[int]
				key int
			}{tk, k})
		}
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	last := make([]int, keys)
	for k := range last {
		last[k] = -1
	}
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		for k, off := range tr.Committable() {
			for i := 0; i <= off; i++ {
				if !acked[k][i] {
					t.Errorf("key %d committable at %d but %d not acked", k, off, i)
					return
				}
			}
			if off <= last[k] {
				t.Errorf("key %d went back from %d to %d", k, last[k], off)
			}
			last[k] = off
		}
	}
	var wg sync.WaitGroup
	chunk := len(all) / 4
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, e := range all[g*chunk : (g+1)*chunk] {
				mu.Lock()
				acked[e.key][e.tk.Offset()] = true
				mu.Unlock()
				e.tk.Ack()
				if i%97 == 0 {
					check()
				}
			}
		}()
	}
	wg.Wait()
	check()
	for k := range keys {
		if last[k] != per-1 {
			t.Errorf("key %d ended at %d, want %d", k, last[k], per-1)
		}
	}
}

func TestTrackerLimitBlocks(t *testing.T) {
	tr := NewTracker[string, int](2)
	ctx := context.Background()
	t1, _ := tr.Track(ctx, "p", 1)
	tr.Track(ctx, "p", 2)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := tr.Track(short, "p", 3); err == nil {
		t.Fatal("Track beyond the limit did not block")
	}
	done := make(chan struct{})
	go func() {
		tr.Track(ctx, "p", 3)
		close(done)
	}()
	t1.Ack()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Track still blocked after an ack freed a slot")
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer wcancel()
	if err := tr.Wait(wctx); err == nil {
		t.Fatal("Wait returned with records pending")
	}
}
