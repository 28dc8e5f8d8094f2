package clientapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

const (
	// remoteHierarchyTTL is how long another server's answer about a
	// space is used (hierarchy pages and room summaries re-read it).
	remoteHierarchyTTL = time.Minute
	// remoteHierarchyFailTTL is how long a server that could not be
	// reached (or failed) is not asked again about that room, so a dead
	// server does not slow every page of a space; a server's "no"
	// (404/403) is not kept, so access granted since shows at once.
	remoteHierarchyFailTTL = 30 * time.Second
	// remoteHierarchyMaxCost bounds the cache (roughly bytes).
	remoteHierarchyMaxCost = 64 << 20
)

// remoteHierarchy is another server's answer about a space.
type remoteHierarchy struct {
	resp *fedapi.HierarchyResponse
}

// remoteHierarchyCache keeps other servers' answers (and failures to
// answer) for a short time, bounded in total size.
type remoteHierarchyCache struct {
	mu   sync.Mutex
	m    map[string]remoteHierarchyEntry
	cost int
}

type remoteHierarchyEntry struct {
	rh      *remoteHierarchy // nil: the servers could not be reached
	err     error
	cost    int
	expires time.Time
}

func newRemoteHierarchyCache() *remoteHierarchyCache {
	return &remoteHierarchyCache{m: map[string]remoteHierarchyEntry{}}
}

func (c *remoteHierarchyCache) get(key string) (remoteHierarchyEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if ok && time.Now().After(e.expires) {
		delete(c.m, key)
		c.cost -= e.cost
		return e, false
	}
	return e, ok
}

func (c *remoteHierarchyCache) put(key string, e remoteHierarchyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.cost -= old.cost
	}
	if c.cost+e.cost > remoteHierarchyMaxCost {
		c.m, c.cost = map[string]remoteHierarchyEntry{}, 0
	}
	c.m[key] = e
	c.cost += e.cost
}

// hierarchyCost estimates an answer's size in memory.
func hierarchyCost(resp *fedapi.HierarchyResponse) int {
	room := func(r *rsapi.HierarchyRoom) int {
		n := 256 + len(r.Name) + len(r.Topic) + len(r.AvatarURL) + len(r.CanonicalAlias)
		for _, c := range r.ChildrenState {
			n += 128 + len(c.StateKey) + len(c.Content) + len(c.Sender)
		}
		return n + 64*len(r.AllowedRoomIDs)
	}
	n := room(&resp.Room) + 64*len(resp.InaccessibleChildren)
	for i := range resp.Children {
		n += room(&resp.Children[i])
	}
	return n
}

// remoteHierarchy returns another server's answer about roomID, cached;
// it asks via (then the room ID's server) on a miss if mayFetch, and
// says whether it did. nil when no answer is to be had.
func (h *roomRoutes) remoteHierarchy(ctx context.Context, roomID string, via []string, suggestedOnly, mayFetch bool) (*remoteHierarchy, bool) {
	rh, fetched, _ := h.remoteHierarchyErr(ctx, roomID, via, suggestedOnly, mayFetch)
	return rh, fetched
}

// remoteHierarchyErr is remoteHierarchy with the reason there is no
// answer (for a room summary's error).
func (h *roomRoutes) remoteHierarchyErr(ctx context.Context, roomID string, via []string, suggestedOnly, mayFetch bool) (*remoteHierarchy, bool, error) {
	key := roomID + "|a"
	if suggestedOnly {
		key = roomID + "|s"
	}
	if e, ok := h.remoteHierarchies.get(key); ok {
		return e.rh, false, e.err
	}
	if !mayFetch || h.c.fed == nil {
		return nil, false, errNotAsked
	}
	resp, err := h.c.fed.QueryHierarchy(ctx, &fedapi.HierarchyRequest{RoomID: roomID, Servers: via, SuggestedOnly: suggestedOnly})
	if err != nil {
		var fe *fedapi.Error
		said := errors.As(err, &fe) && (fe.Status == http.StatusNotFound || fe.Status == http.StatusForbidden || fe.Status == http.StatusBadRequest)
		if !said && ctx.Err() == nil {
			h.remoteHierarchies.put(key, remoteHierarchyEntry{err: err, cost: 256, expires: time.Now().Add(remoteHierarchyFailTTL)})
		}
		return nil, true, err
	}
	rh := &remoteHierarchy{resp: resp}
	h.remoteHierarchies.put(key, remoteHierarchyEntry{rh: rh, cost: hierarchyCost(resp), expires: time.Now().Add(remoteHierarchyTTL)})
	return rh, true, nil
}

// errNotAsked: the walk's budget of other-server requests was spent, or
// federation is disabled.
var errNotAsked = errors.New("other servers not asked")
