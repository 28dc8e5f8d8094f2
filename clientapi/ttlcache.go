package clientapi

import (
	"context"
	"sync"
	"time"
)

// ttlCache keeps answers other servers gave (profiles, aliases) for a
// short time, bounded in size; errors are not cached.
type ttlCache[V any] struct {
	ttl time.Duration
	max int
	mu  sync.Mutex
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, max int) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, max: max, m: map[string]ttlEntry[V]{}}
}

// get returns key's fresh value, or fetches and keeps it.
func (c *ttlCache[V]) get(ctx context.Context, key string, fetch func(ctx context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.v, nil
	}
	v, err := fetch(ctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[string]ttlEntry[V]{}
	}
	c.m[key] = ttlEntry[V]{v: v, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}
