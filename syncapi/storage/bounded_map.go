package storage

import "sync"

// boundedMap is a cache whose every entry the database can rebuild: safe
// for concurrent use, and started empty again once it holds max entries
// (no eviction bookkeeping on the hot path).
type boundedMap[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]V
	max int
}

func newBoundedMap[K comparable, V any](max int) *boundedMap[K, V] {
	return &boundedMap[K, V]{m: map[K]V{}, max: max}
}

func (b *boundedMap[K, V]) get(k K) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

// update sets k to next(its value, whether it had one).
func (b *boundedMap[K, V]) update(k K, next func(old V, ok bool) V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.m[k]
	if !ok && len(b.m) >= b.max {
		b.m = map[K]V{}
	}
	b.m[k] = next(old, ok)
}
