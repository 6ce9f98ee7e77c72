package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

// queue hands records from the reader goroutines to Poll. Its capacity
// (max.queue.size) bounds memory: a full queue blocks the reader, which in
// turn stops reading from the server (TCP backpressure), so neither a big
// table nor a big transaction is ever held in memory.
type queue struct {
	ch   chan schema.Record
	mu   sync.Mutex
	err  error
	errc chan struct{} // closed when err is set
}

func newQueue(capacity int) *queue {
	return &queue{ch: make(chan schema.Record, capacity), errc: make(chan struct{})}
}

// push blocks until rec is queued or ctx is done.
func (q *queue) push(ctx context.Context, rec schema.Record) error {
	select {
	case q.ch <- rec:
		return nil
	default:
	}
	select {
	case q.ch <- rec:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail records the reader's terminal error; Poll returns it once the
// records queued before it are drained.
func (q *queue) fail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err == nil && err != nil {
		q.err = err
		close(q.errc)
	}
}

func (q *queue) failed() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// poll waits up to wait for the first record, then takes what is queued,
// at most max records.
func (q *queue) poll(ctx context.Context, max int, wait time.Duration) ([]schema.Record, error) {
	var first schema.Record
	select {
	case first = <-q.ch:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case first = <-q.ch:
		case <-q.errc:
			select {
			case first = <-q.ch:
			default:
				return nil, q.failed()
			}
		case <-t.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
	n := len(q.ch) + 1
	if n > max {
		n = max
	}
	out := make([]schema.Record, 1, n)
	out[0] = first
	for len(out) < max {
		select {
		case r := <-q.ch:
			out = append(out, r)
		default:
			return out, nil
		}
	}
	return out, nil
}
