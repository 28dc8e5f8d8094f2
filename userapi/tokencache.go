package userapi

import (
	"github.com/nats-io/nats.go"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axon-hs/axon/userapi/api"
)

// cacheMaxAge bounds how long a resolved token is trusted without a
// database read, which also bounds staleness across processes.
const cacheMaxAge = 5 * time.Minute

// cachedToken is a resolved access token.
type cachedToken struct {
	device    api.Device
	localpart string
	expiresTS int64 // ms; 0 never
	loadedAt  time.Time
	// seenAt (unix ms) throttles last-seen recording for this token.
	seenAt atomic.Int64
}

// tokenCache maps SHA-256(token) → device. Invalidations bump gen; a
// database read begun before an invalidation may not fill the cache, so a
// token revoked during the read cannot be resurrected.
type tokenCache struct {
	mu     sync.RWMutex
	gen    uint64
	max    int
	byHash map[string]*cachedToken
	// byUser: localpart → hash → device ID, to invalidate by user/device.
	byUser map[string]map[string]string
	// publish, with several userapi processes, tells the others of each
	// invalidation, and received holds theirs (tokens_shared.go).
	publish  atomic.Pointer[func(tokenInvalidation)]
	received atomic.Pointer[chan *nats.Msg]
	self     string // this process's name on the subject
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, byHash: map[string]*cachedToken{}, byUser: map[string]map[string]string{}}
}

// get returns a fresh entry, or nil.
func (c *tokenCache) get(hash string) *cachedToken {
	c.mu.RLock()
	e := c.byHash[hash]
	c.mu.RUnlock()
	if e == nil || time.Since(e.loadedAt) > cacheMaxAge {
		return nil
	}
	return e
}

// generation is read before a database lookup and passed to put.
func (c *tokenCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores e unless an invalidation happened since gen was read.
func (c *tokenCache) put(hash string, e *cachedToken, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.byHash) >= c.max {
		// Full: drop arbitrary entries (map order is random); they are
		// re-read on next use.
		n := 0
		for h, old := range c.byHash {
			c.removeLocked(h, old.localpart)
			if n++; n >= c.max/10+1 {
				break
			}
		}
	}
	c.byHash[hash] = e
	if c.byUser[e.localpart] == nil {
		c.byUser[e.localpart] = map[string]string{}
	}
	c.byUser[e.localpart][hash] = e.device.ID
}

func (c *tokenCache) removeLocked(hash, localpart string) {
	delete(c.byHash, hash)
	if m := c.byUser[localpart]; m != nil {
		delete(m, hash)
		if len(m) == 0 {
			delete(c.byUser, localpart)
		}
	}
}

// invalidateDevice drops every cached token of one device (here and, with
// several userapi processes, in the others: tokens_shared.go).
func (c *tokenCache) invalidateDevice(localpart, deviceID string) {
	c.applyInvalidation(tokenInvalidation{Localpart: localpart, Device: deviceID})
	c.tell(tokenInvalidation{Localpart: localpart, Device: deviceID})
}

// invalidateUserExcept drops the user's cached tokens except those of
// keepDeviceID ("" keeps none), here and in the other userapi processes.
func (c *tokenCache) invalidateUserExcept(localpart, keepDeviceID string) {
	c.applyInvalidation(tokenInvalidation{Localpart: localpart, Except: keepDeviceID, User: true})
	c.tell(tokenInvalidation{Localpart: localpart, Except: keepDeviceID, User: true})
}

// applyInvalidation drops what inv names from this process's cache.
func (c *tokenCache) applyInvalidation(inv tokenInvalidation) {
	if inv.User {
		c.invalidate(inv.Localpart, func(dev string) bool { return inv.Except == "" || dev != inv.Except })
	} else {
		c.invalidate(inv.Localpart, func(dev string) bool { return dev == inv.Device })
	}
}

func (c *tokenCache) tell(inv tokenInvalidation) {
	if f := c.publish.Load(); f != nil {
		(*f)(inv)
	}
}

func (c *tokenCache) invalidate(localpart string, match func(deviceID string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for hash, dev := range c.byUser[localpart] {
		if match(dev) {
			c.removeLocked(hash, localpart)
		}
	}
}
