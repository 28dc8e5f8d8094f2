package storage

import (
	"maps"
	"sync"

	"github.com/axon-hs/axon/syncapi/types"
)

// unreadCache keeps each user's unread counts as of a stream position,
// with the read receipts they were counted against. A /sync then counts
// only notifications after that position; new receipts (or pruned
// notifications) start the user's counts over. The receipts are reused
// unread while the receipt stream has not moved since they were read.
type unreadCache struct {
	mu    sync.Mutex
	users map[string]*userUnread
}

// maxUnreadUsers bounds the cache; beyond it, it starts empty again.
const maxUnreadUsers = 20_000

type userUnread struct {
	pos  types.StreamPosition
	read map[[2]string]types.StreamPosition
	// readAt is the receipt stream position read was read at
	// (NoReceiptPos: unknown): every receipt up to it was committed
	// before the read.
	readAt types.StreamPosition
	counts unreadSet
}

// unreadSet is unread counts by room.
type unreadSet map[string]*UnreadCounts

func newUnreadCache() *unreadCache { return &unreadCache{users: map[string]*userUnread{}} }

// receipts returns the user's kept read receipts if they were read at
// receipt position at, when no receipt can have changed since; else nil.
// The map is shared: callers must not change it.
func (c *unreadCache) receipts(userID string, at types.StreamPosition) map[[2]string]types.StreamPosition {
	if at == NoReceiptPos {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.users[userID]; u != nil && u.readAt == at {
		return u.read
	}
	return nil
}

// start returns the position to count from and a copy of the counts up
// to it (0 and empty when nothing usable is kept).
func (c *unreadCache) start(userID string, read map[[2]string]types.StreamPosition, upTo types.StreamPosition) (types.StreamPosition, unreadSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.users[userID]
	if u == nil || u.pos > upTo || !maps.Equal(u.read, read) {
		// Counted against other receipts, or beyond what is asked.
		return 0, unreadSet{}
	}
	return u.pos, u.counts.clone()
}

// store keeps counts as of upTo, and read as read at receipt position
// readAt, unless newer counts are kept already.
func (c *unreadCache) store(userID string, read map[[2]string]types.StreamPosition, readAt, upTo types.StreamPosition, counts unreadSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.users[userID]; u != nil && u.pos > upTo {
		return
	}
	if len(c.users) >= maxUnreadUsers {
		c.users = map[string]*userUnread{}
	}
	c.users[userID] = &userUnread{pos: upTo, read: read, readAt: readAt, counts: counts.clone()}
}

// reset forgets every user's counts (notifications were deleted).
func (c *unreadCache) reset() {
	c.mu.Lock()
	c.users = map[string]*userUnread{}
	c.mu.Unlock()
}

func (s unreadSet) add(room, thread string, highlight bool) {
	c := s[room]
	if c == nil {
		c = &UnreadCounts{Threads: map[string]Count{}}
		s[room] = c
	}
	h := 0
	if highlight {
		h = 1
	}
	c.Notification++
	c.Highlight += h
	if thread == "" {
		c.Main.Notification++
		c.Main.Highlight += h
		return
	}
	tc := c.Threads[thread]
	tc.Notification++
	tc.Highlight += h
	c.Threads[thread] = tc
}

func (s unreadSet) clone() unreadSet {
	out := make(unreadSet, len(s))
	for room, c := range s {
		cp := *c
		cp.Threads = maps.Clone(c.Threads)
		out[room] = &cp
	}
	return out
}

// pick returns the counts of rooms (all when nil).
func (s unreadSet) pick(rooms map[string]bool) map[string]*UnreadCounts {
	out := map[string]*UnreadCounts{}
	for room, c := range s {
		if rooms == nil || rooms[room] {
			out[room] = c
		}
	}
	return out
}
