// Package boundedmap is a cache whose every entry its owner can rebuild
// (from its database, or by parsing again): safe for concurrent use, and
// started empty again once it holds its maximum (no eviction bookkeeping
// on the hot path).
package boundedmap

import "sync"

// Map holds at most max entries.
type Map[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]V
	max int
}

// New returns an empty Map of at most max entries.
func New[K comparable, V any](max int) *Map[K, V] {
	return &Map[K, V]{m: map[K]V{}, max: max}
}

// Get returns k's value and whether it has one.
func (b *Map[K, V]) Get(k K) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

// Update sets k to next(its value, whether it had one).
func (b *Map[K, V]) Update(k K, next func(old V, ok bool) V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.m[k]
	if !ok && len(b.m) >= b.max {
		b.m = map[K]V{}
	}
	b.m[k] = next(old, ok)
}

// Put sets k to v.
func (b *Map[K, V]) Put(k K, v V) {
	b.Update(k, func(V, bool) V { return v })
}
