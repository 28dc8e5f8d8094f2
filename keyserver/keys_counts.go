package keyserver

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/keyserver/api"
)

// Every /sync asks for its device's key counts, and a message into a room
// with many members online wakes as many /syncs: the counts' statement was
// a fifth of the server's CPU there. They change only when this component
// writes the device's one-time or fallback keys (upload, claim, device
// deletion), so a keyserver that is the only one (no partitioning
// instance: every such write goes through this process) keeps each
// device's answer and forgets it after each such commit. Replicas (several
// processes write the same tables) read every time.

// maxKeyCounts bounds the devices kept; past it the cache starts again.
const maxKeyCounts = 50_000

type keyDevice struct{ user, device string }

type keyCountsCache struct {
	mu sync.Mutex
	// gen changes with every forget: a read that began before one may
	// have seen the table before that commit and is not kept.
	gen     uint64
	entries map[keyDevice]api.KeyCounts
}

func newKeyCountsCache() *keyCountsCache {
	return &keyCountsCache{entries: map[keyDevice]api.KeyCounts{}}
}

// get returns the device's counts, kept or read.
func (c *keyCountsCache) get(d keyDevice, read func() (*api.KeyCounts, error)) (*api.KeyCounts, error) {
	c.mu.Lock()
	e, ok := c.entries[d]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return copyCounts(e), nil
	}
	got, err := read()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.entries) >= maxKeyCounts {
			clear(c.entries)
		}
		c.entries[d] = *copyCounts(*got)
	}
	c.mu.Unlock()
	return got, nil
}

// forget drops the devices' counts; call after committing a change to
// their one-time or fallback keys (whatever the commit's outcome).
func (c *keyCountsCache) forget(userID string, deviceIDs ...string) {
	c.mu.Lock()
	c.gen++
	for _, dev := range deviceIDs {
		delete(c.entries, keyDevice{userID, dev})
	}
	c.mu.Unlock()
}

// copyCounts keeps callers from sharing the kept maps and slices.
func copyCounts(k api.KeyCounts) *api.KeyCounts {
	return &api.KeyCounts{OneTimeKeyCounts: maps.Clone(k.OneTimeKeyCounts), UnusedFallbackKeyAlgs: slices.Clone(k.UnusedFallbackKeyAlgs)}
}

// KeyCounts implements api.KeyserverAPI.
func (k *Keyserver) KeyCounts(ctx context.Context, userID matrixid.UserID, deviceID string) (*api.KeyCounts, error) {
	read := func() (*api.KeyCounts, error) {
		counts, algs, err := k.db.KeyCounts(ctx, string(userID), deviceID)
		if err != nil {
			return nil, err
		}
		return &api.KeyCounts{OneTimeKeyCounts: counts, UnusedFallbackKeyAlgs: algs}, nil
	}
	if k.counts == nil {
		return read()
	}
	return k.counts.get(keyDevice{string(userID), deviceID}, read)
}

// forgetCounts is keyCountsCache.forget when counts are kept.
func (k *Keyserver) forgetCounts(userID string, deviceIDs ...string) {
	if k.counts != nil {
		k.counts.forget(userID, deviceIDs...)
	}
}
