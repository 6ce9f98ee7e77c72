package offsets

import (
	"context"
	"sync"
)

// Tracker orders acknowledgements the way DESIGN rule 1 needs them (as
// Benthos' checkpoint.Capped and Connect's SubmittedRecords): records are
// tracked in poll order, one queue per key (a source partition), and acked in
// any order, typically from producer promises. A key's offset becomes
// committable only when its record and every record tracked before it under
// the same key are acked.
//
// K identifies a source partition (use PartitionID for map partitions); O is
// the offset. A Tracker is safe for concurrent use.
type Tracker[K comparable, O any] struct {
	sem chan struct{} // nil: unbounded

	mu      sync.Mutex
	queues  map[K]*queue[O]
	ready   map[K]O // committable offsets not yet taken
	pending int     // tracked, not yet resolved
	idle    []chan struct{}
}

type queue[O any] struct {
	items []*Ticket[O]
}

// Ticket is one tracked record. Ack it exactly once when the record is
// acknowledged; acking twice is a no-op.
type Ticket[O any] struct {
	offset O
	acked  bool
	done   bool
	ack    func(*Ticket[O])
}

// NewTracker returns a tracker allowing at most limit unresolved records
// (tracked but not yet committable because they or a predecessor are
// unacked); Track blocks beyond that. limit <= 0 means unbounded.
func NewTracker[K comparable, O any](limit int) *Tracker[K, O] {
	t := &Tracker[K, O]{queues: map[K]*queue[O]{}, ready: map[K]O{}}
	if limit > 0 {
		t.sem = make(chan struct{}, limit)
	}
	return t
}

// Track registers the next record of key with its offset. It blocks while
// the tracker is at its limit, and returns ctx's error if ctx ends first.
func (t *Tracker[K, O]) Track(ctx context.Context, key K, offset O) (*Ticket[O], error) {
	if t.sem != nil {
		select {
		case t.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	tk := &Ticket[O]{offset: offset}
	tk.ack = func(tk *Ticket[O]) { t.ack(key, tk) }
	t.mu.Lock()
	q := t.queues[key]
	if q == nil {
		q = &queue[O]{}
		t.queues[key] = q
	}
	q.items = append(q.items, tk)
	t.pending++
	t.mu.Unlock()
	return tk, nil
}

// Ack marks the ticket's record acknowledged.
func (tk *Ticket[O]) Ack() { tk.ack(tk) }

// Offset returns the offset the ticket was tracked with.
func (tk *Ticket[O]) Offset() O { return tk.offset }

func (t *Tracker[K, O]) ack(key K, tk *Ticket[O]) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tk.acked {
		return
	}
	tk.acked = true
	q := t.queues[key]
	n := 0
	for n < len(q.items) && q.items[n].acked {
		n++
	}
	if n == 0 {
		return
	}
	t.ready[key] = q.items[n-1].offset
	for i := 0; i < n; i++ {
		q.items[i].done = true
		q.items[i] = nil
	}
	q.items = q.items[n:]
	if len(q.items) == 0 {
		delete(t.queues, key)
	}
	t.pending -= n
	if t.sem != nil {
		for i := 0; i < n; i++ {
			<-t.sem
		}
	}
	if t.pending == 0 {
		for _, ch := range t.idle {
			close(ch)
		}
		t.idle = nil
	}
}

// Committable returns, per key, the offset of the last record whose
// predecessors (under that key) are all acked, and which was not returned by
// an earlier call. Keys with nothing new are absent.
func (t *Tracker[K, O]) Committable() map[K]O {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.ready) == 0 {
		return nil
	}
	out := t.ready
	t.ready = map[K]O{}
	return out
}

// Pending returns how many tracked records are not yet committable.
func (t *Tracker[K, O]) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// Wait blocks until no record is pending or ctx ends.
func (t *Tracker[K, O]) Wait(ctx context.Context) error {
	t.mu.Lock()
	if t.pending == 0 {
		t.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	t.idle = append(t.idle, ch)
	t.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
