package syncapi

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Ignoring users (m.ignored_user_list account data): a user does not get
// non-state events of users they ignore (timelines of /sync, sliding
// sync, /messages, /context, relations; /notifications; push), nor their
// invites or to-device messages. State events still arrive, so the room
// looks the same to everyone. The rule is hiddenByIgnore; the lists are
// cached per user and replaced when the account data changes, so a change
// applies from the next sync.

// ignoreCache holds each user's ignored set.
type ignoreCache struct {
	mu    sync.Mutex
	users map[string]map[string]bool
	// gen changes when a cached list becomes empty or not, or one is
	// dropped: rooms' push indexes (ignorers are evaluated one by one)
	// are then rebuilt.
	gen atomic.Uint64
}

// maxCachedIgnoreLists bounds memory; past it the cache starts over.
const maxCachedIgnoreLists = 100000

func newIgnoreCache() *ignoreCache { return &ignoreCache{users: map[string]map[string]bool{}} }

// set replaces userID's list from m.ignored_user_list content.
func (c *ignoreCache) set(userID string, content json.RawMessage) {
	var v struct {
		Ignored map[string]json.RawMessage `json:"ignored_users"`
	}
	_ = json.Unmarshal(content, &v) // not an object: ignores nobody
	set := make(map[string]bool, len(v.Ignored))
	for u := range v.Ignored {
		set[u] = true
	}
	c.mu.Lock()
	if len(c.users) > maxCachedIgnoreLists {
		c.users = map[string]map[string]bool{}
		c.gen.Add(1)
	}
	if old, known := c.users[userID]; known && (len(old) == 0) != (len(set) == 0) {
		c.gen.Add(1)
	}
	c.users[userID] = set
	c.mu.Unlock()
}

// forget drops userID's cached list (another replica applied a change).
func (c *ignoreCache) forget(userID string) {
	c.mu.Lock()
	delete(c.users, userID)
	c.gen.Add(1)
	c.mu.Unlock()
}

// forgetAll drops every cached list (a writer takeover).
func (c *ignoreCache) forgetAll() {
	c.mu.Lock()
	c.users = map[string]map[string]bool{}
	c.mu.Unlock()
}

// ignoredBy is the set of users userID ignores (never nil; do not modify).
// A read error ignores nobody, logged: hiding too little beats failing a sync.
func (s *SyncAPI) ignoredBy(ctx context.Context, userID string) map[string]bool {
	s.ignores.mu.Lock()
	set, ok := s.ignores.users[userID]
	s.ignores.mu.Unlock()
	if ok {
		return set
	}
	content, err := s.db.GetAccountData(ctx, userID, "", "m.ignored_user_list")
	if err != nil {
		s.log.Warn("read ignored users", "user_id", userID, "error", err)
		return map[string]bool{}
	}
	s.ignores.set(userID, content)
	s.ignores.mu.Lock()
	defer s.ignores.mu.Unlock()
	return s.ignores.users[userID]
}

// hiddenByIgnore is the rule: a non-state event whose sender is ignored.
func hiddenByIgnore(ev *types.Event, ignored map[string]bool) bool {
	return ev.StateKey == nil && ignored[ev.Sender]
}

// dropIgnoredInvites removes invites sent by users that userID ignores.
func (s *SyncAPI) dropIgnoredInvites(ctx context.Context, userID string, ms []storage.MembershipChange) ([]storage.MembershipChange, error) {
	ignored := s.ignoredBy(ctx, userID)
	if len(ignored) == 0 {
		return ms, nil
	}
	out := ms[:0:0]
	for _, m := range ms {
		if m.Membership == "invite" {
			ev, err := s.db.EventByID(ctx, nil, m.EventID)
			if err != nil {
				return nil, err
			}
			if ev != nil && ignored[ev.Sender] {
				continue
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// dropIgnoredToDevice removes to-device messages from ignored senders.
func (s *SyncAPI) dropIgnoredToDevice(ctx context.Context, userID string, msgs []storage.ToDeviceMessage) []storage.ToDeviceMessage {
	ignored := s.ignoredBy(ctx, userID)
	if len(ignored) == 0 {
		return msgs
	}
	out := msgs[:0:0]
	for _, m := range msgs {
		if !ignored[m.Sender] {
			out = append(out, m)
		}
	}
	return out
}
