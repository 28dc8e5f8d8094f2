package roomserver

import (
	"container/list"
	"sync"
)

// lru is a small fixed-size least-recently-used cache, safe for
// concurrent use. The roomserver keeps parsed events and materialised
// state snapshots in them so hot paths never re-read the database.
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

// newLRU does not presize its map: most caches never fill, and a
// presized one costs its full size in memory from start-up on.
func newLRU[K comparable, V any](size int) *lru[K, V] {
	return &lru[K, V]{size: size, ll: list.New(), items: make(map[K]*list.Element)}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// forgetUncommitted empties the caches a batch fills inside its write
// transaction (events it stored or redacted, snapshots and memberships it
// read through the transaction) after that transaction failed or is run
// again: their rows were rolled back, and on SQLite their NIDs may be
// given to other rows. Failures are rare; the caches fill again from the
// database.
func (r *RoomServer) forgetUncommitted() {
	r.events.clear()
	r.snapshots.clear()
	r.memberships.clear()
}

// clear empties the cache.
func (c *lru[K, V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
}

func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value.(*lruEntry[K, V]).val = v
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(&lruEntry[K, V]{key: k, val: v})
	if c.ll.Len() > c.size {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*lruEntry[K, V]).key)
	}
}
