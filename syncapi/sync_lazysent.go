package syncapi

import (
	"sync"

	"github.com/axon-hs/axon/syncapi/types"
)

// lazySent remembers, per device and room, which member events a
// lazy-loading client has been sent, so later syncs leave them out unless
// the filter sets include_redundant_members. It lives in memory: after a
// restart (or when it is full) a client may be sent some member events
// again, which clients accept.
type lazySent struct {
	mu sync.Mutex
	m  map[lazyKey]map[string]string // member user ID → member event ID sent
}

type lazyKey struct{ user, device, room string }

// maxLazyKeys bounds the memory: past it everything is forgotten at once.
const maxLazyKeys = 100_000

func newLazySent() *lazySent { return &lazySent{m: map[lazyKey]map[string]string{}} }

// reset forgets what the device was sent for room (its state starts over,
// as on an initial or full-state sync).
func (l *lazySent) reset(user, device, room string) {
	l.mu.Lock()
	delete(l.m, lazyKey{user, device, room})
	l.mu.Unlock()
}

// unsent records members as sent and returns those the device has not
// had yet (a member whose event changed counts as new).
func (l *lazySent) unsent(user, device, room string, members []*types.Event) []*types.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := lazyKey{user, device, room}
	sent := l.m[k]
	if sent == nil {
		if len(l.m) >= maxLazyKeys {
			l.m = map[lazyKey]map[string]string{}
		}
		sent = map[string]string{}
		l.m[k] = sent
	}
	var out []*types.Event
	for _, ev := range members {
		if ev.StateKey == nil || sent[*ev.StateKey] == ev.EventID {
			continue
		}
		sent[*ev.StateKey] = ev.EventID
		out = append(out, ev)
	}
	return out
}
