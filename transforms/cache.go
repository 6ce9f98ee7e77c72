package transforms

import (
	"sync"
	"sync/atomic"
)

// cacheSize bounds each derived-schema cache. Kafka's transforms use an LRU
// of 16; a table-per-topic source can see more schemas through one transform,
// so we keep more.
const cacheSize = 512

// cache is a small bounded concurrency-safe map used for derived schemas (and
// other per-input memoization such as routed topic names).
//
// Reads are lock-free: the entry used last is checked first (one atomic load
// and a key compare: the common case of a run of records of one table), then
// a sync.Map. When more than cacheSize entries were added the map is cleared
// and refills with what is still in use, so a stream of ever-new schemas
// cannot grow it without bound.
type cache[K comparable, V any] struct {
	last atomic.Pointer[entry[K, V]]
	m    sync.Map // K → *entry[K, V]
	n    atomic.Int64
}

type entry[K comparable, V any] struct {
	k K
	v V
}

func (c *cache[K, V]) get(k K) (V, bool) {
	if e := c.last.Load(); e != nil && e.k == k {
		return e.v, true
	}
	if e, ok := c.m.Load(k); ok {
		en := e.(*entry[K, V])
		c.last.Store(en)
		return en.v, true
	}
	var zero V
	return zero, false
}

func (c *cache[K, V]) put(k K, v V) {
	e := &entry[K, V]{k: k, v: v}
	c.last.Store(e)
	if _, loaded := c.m.Swap(k, e); loaded {
		return
	}
	if c.n.Add(1) > cacheSize {
		c.n.Store(0)
		c.m.Clear()
		c.m.Store(k, e)
	}
}

func (c *cache[K, V]) len() int {
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	return n
}

// getOrBuild returns the cached value for k or builds, stores and returns it.
// Two goroutines may build the same entry concurrently; both results are
// equivalent and the last one stays.
func (c *cache[K, V]) getOrBuild(k K, build func() (V, error)) (V, error) {
	if v, ok := c.get(k); ok {
		return v, nil
	}
	v, err := build()
	if err != nil {
		return v, err
	}
	c.put(k, v)
	return v, nil
}
