package syncapi

import (
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/pushrules"
)

// pushOutcome is what push rules gave one member for an event.
type pushOutcome struct {
	notify, highlight bool
	actions           string
}

// pushTally counts outcomes: few distinct ones per event, so a slice
// beats hashing each member's actions into a map.
type pushTally []struct {
	o pushOutcome
	n int
}

func (t *pushTally) add(o pushOutcome, n int) {
	for i := range *t {
		if (*t)[i].o == o {
			(*t)[i].n += n
			return
		}
	}
	*t = append(*t, struct {
		o pushOutcome
		n int
	}{o, n})
}

// shared is the outcome stored once for the event: the most common one;
// zero (nobody shares a notification) unless a notifying one beats the
// members not notified.
func (t pushTally) shared() pushOutcome {
	var shared pushOutcome
	sharedN := 0
	for _, c := range t {
		if c.o == (pushOutcome{}) {
			sharedN = c.n
		}
	}
	for _, c := range t {
		if !c.o.notify {
			continue
		}
		if c.n > sharedN || (c.n == sharedN && c.o.actions < shared.actions) {
			shared, sharedN = c.o, c.n
		}
	}
	return shared
}

// pushMembers is how one event sorts the room's local joined members
// (the sender left out): each are evaluated one by one; the plainN
// others share the result of one of them, sample.
type pushMembers struct {
	each   []string
	plainN int
	sample string
	skip   map[string]bool // plain members in each, and the sender
}

func (m *pushMembers) isPlain(u string) bool { return !m.skip[u] }

func (s *SyncAPI) sortMembers(rs *roomState, idx *pushIndex, pev *pushrules.Event, sender string) *pushMembers {
	m := &pushMembers{skip: map[string]bool{sender: true}}
	for u := range idx.individual.all() {
		if u != sender {
			m.each = append(m.each, u)
		}
	}
	named, ok := idx.named(pev, s.base.Cfg.ServerName)
	if !ok { // cheaper to ask of everyone
		named = named[:0]
		for u := range idx.plain.all() {
			named = append(named, u)
		}
	}
	for _, u := range named {
		if !m.skip[u] && pev.MayName(u, rs.displayName(u)) {
			m.skip[u] = true
			m.each = append(m.each, u)
		}
	}
	m.plainN = idx.plain.len() - len(m.skip)
	if _, ok := idx.plain.get(sender); !ok {
		m.plainN++ // the sender was not among them
	}
	if m.plainN > 0 {
		for u := range idx.plain.all() {
			if !m.skip[u] {
				m.sample = u
				break
			}
		}
	}
	return m
}

// plainWithPushers lists the plain members a notification must wake:
// those with a pusher, when the pushserver can tell (with the listing's
// mark), else all of them.
func (s *SyncAPI) plainWithPushers(idx *pushIndex, m *pushMembers) ([]string, uint64) {
	if s.pusher == nil {
		return nil, api.NoPusherListing
	}
	isPlain := func(u string) bool {
		_, ok := idx.plain.get(u)
		return ok && m.isPlain(u)
	}
	if users, listed, ok := s.pusher.PusherUsers(isPlain); ok {
		return users, listed
	}
	var out []string
	for u := range idx.plain.all() {
		if m.isPlain(u) {
			out = append(out, u)
		}
	}
	return out, api.NoPusherListing
}
