package transforms

import "sync"

// cacheSize bounds each derived-schema cache. Kafka's transforms use an LRU
// of 16; a table-per-topic source can see more schemas through one transform,
// so we keep more, in two generations of this size.
const cacheSize = 512

// cache is a small bounded concurrency-safe map used for derived schemas (and
// other per-input memoization such as routed topic names). When the current
// generation fills up it becomes the old one and a fresh one starts, so the
// memory held is at most two generations and hot entries survive a rotation
// by being copied forward on their next hit.
type cache[K comparable, V any] struct {
	mu  sync.RWMutex
	cur map[K]V
	old map[K]V
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.cur[k]
	if ok {
		c.mu.RUnlock()
		return v, true
	}
	v, ok = c.old[k]
	c.mu.RUnlock()
	if ok {
		c.put(k, v)
	}
	return v, ok
}

func (c *cache[K, V]) put(k K, v V) {
	c.mu.Lock()
	if c.cur == nil {
		c.cur = make(map[K]V)
	}
	if len(c.cur) >= cacheSize {
		c.old, c.cur = c.cur, make(map[K]V)
	}
	c.cur[k] = v
	c.mu.Unlock()
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
