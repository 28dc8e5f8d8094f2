package storage

import (
	"sync"

	"github.com/axon-hs/axon/syncapi/types"
)

// ackedCache remembers, per device, a position up to which it has no
// to-device message left, so the next /sync with the same since token
// need not look (a message sent later takes a higher position: the
// counter's row lock makes positions commit in order).
type ackedCache struct {
	mu sync.Mutex
	m  map[[2]string]types.StreamPosition
}

// maxAckedDevices bounds the cache; beyond it, it starts empty again.
const maxAckedDevices = 50_000

func (c *ackedCache) covers(user, device string, pos types.StreamPosition) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	upTo, ok := c.m[[2]string{user, device}]
	return ok && pos <= upTo
}

func (c *ackedCache) set(user, device string, pos types.StreamPosition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxAckedDevices {
		c.m = map[[2]string]types.StreamPosition{}
	}
	if pos > c.m[[2]string{user, device}] {
		c.m[[2]string{user, device}] = pos
	}
}
