package storage

import "sync"

// filterCache keeps stored filters: they never change once stored, and a
// client sends the same filter ID with every /sync, so each long-poll
// would otherwise read it again.
type filterCache struct {
	mu sync.Mutex
	m  map[filterKey][]byte
}

type filterKey struct{ user, id string }

// maxCachedFilters bounds the cache; beyond it, it starts empty again.
const maxCachedFilters = 10_000

func (c *filterCache) get(user, id string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[filterKey{user, id}]
}

func (c *filterCache) put(user, id string, f []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedFilters {
		c.m = map[filterKey][]byte{}
	}
	c.m[filterKey{user, id}] = f
}
