package syncapi

import (
	"context"
	"strings"

	"github.com/axon-hs/axon/syncapi/pushrules"
)

// pushIndex sorts a room's local joined members for recordNotifications,
// so a message visits the members it may treat differently, not the
// whole room: those evaluated one by one (own push rules, an ignore
// list, an ID the event's JSON may escape), and the plain rest, on the
// server-default rules, who share one result unless the event names
// them (pushrules.Event.MayName: their ID in the event, their display
// name in the body), found through the index. It is built once per room
// state and carried across state changes with the changed members to
// classify again (pending).
type pushIndex struct {
	gen        uint64 // SyncAPI.pushGen it was built under
	individual cowMap[string, struct{}]
	plain      cowMap[string, struct{}]
	// byName: plain members by lowered display name; nameOf the reverse;
	// nameLens counts names per length (lookups try each length).
	byName   cowMap[string, []string]
	nameOf   cowMap[string, string]
	nameLens map[int]int
	maxIDLen int
	pending  *pendingMembers
}

// pendingMembers are members whose state changed since the index was
// classified (a persistent list: withDelta prepends in O(1)).
type pendingMembers struct {
	users []string
	n     int // users in this and every later node
	next  *pendingMembers
}

// maxPending: past this many changed members the index is rebuilt
// rather than patched (a burst of joins).
func maxPending(p *pushIndex) int { return max(64, p.plain.len()/4) }

// withChanges is p for the next state, with users to classify again.
func (p *pushIndex) withChanges(users []string) *pushIndex {
	if len(users) == 0 {
		return p
	}
	next := *p
	n := len(users)
	if p.pending != nil {
		n += p.pending.n
	}
	if n > maxPending(p) {
		return nil
	}
	next.pending = &pendingMembers{users: users, n: n, next: p.pending}
	return &next
}

// pushGen changes whenever a cached user's classification may have.
func (s *SyncAPI) pushGen() uint64 { return s.push.gen.Load() + s.ignores.gen.Load() }

// pushIndexOf returns rs's index, building or patching it.
func (s *SyncAPI) pushIndexOf(ctx context.Context, rs *roomState) (*pushIndex, error) {
	gen := s.pushGen()
	p := rs.push.Load()
	if p != nil && p.gen == gen && p.pending == nil {
		return p, nil
	}
	var err error
	if p == nil || p.gen != gen {
		p, err = s.buildPushIndex(ctx, rs, gen)
	} else {
		p, err = s.patchPushIndex(ctx, rs, p)
	}
	if err != nil {
		return nil, err
	}
	rs.push.Store(p)
	return p, nil
}

func (s *SyncAPI) buildPushIndex(ctx context.Context, rs *roomState, gen uint64) (*pushIndex, error) {
	p := &pushIndex{gen: gen, nameLens: map[int]int{}}
	e := p.editor()
	for u, ev := range rs.members.all() {
		if ev.Membership != "join" || !s.isLocal(u) {
			continue
		}
		if err := s.classify(ctx, rs, e, u); err != nil {
			return nil, err
		}
	}
	e.done(p)
	return p, nil
}

func (s *SyncAPI) patchPushIndex(ctx context.Context, rs *roomState, old *pushIndex) (*pushIndex, error) {
	p := *old
	p.pending = nil
	p.nameLens = make(map[int]int, len(old.nameLens))
	for l, n := range old.nameLens {
		p.nameLens[l] = n
	}
	e := p.editor()
	seen := map[string]bool{}
	for n := old.pending; n != nil; n = n.next {
		for _, u := range n.users {
			if seen[u] {
				continue
			}
			seen[u] = true
			e.remove(u)
			if rs.isJoined(u) && s.isLocal(u) {
				if err := s.classify(ctx, rs, e, u); err != nil {
					return nil, err
				}
			}
		}
	}
	e.done(&p)
	return &p, nil
}

// classify adds joined local member u to the index.
func (s *SyncAPI) classify(ctx context.Context, rs *roomState, e *pushIndexEdit, u string) error {
	if _, err := s.rulesFor(ctx, u); err != nil {
		return err
	}
	e.maxIDLen = max(e.maxIDLen, len(u))
	if !s.push.onDefaults(u) || len(s.ignoredBy(ctx, u)) > 0 || !pushrules.VerbatimInJSON(u) {
		e.individual.set(u, struct{}{})
		return nil
	}
	e.plain.set(u, struct{}{})
	if name := strings.ToLower(rs.displayName(u)); name != "" {
		e.nameOf.set(u, name)
		users, _ := e.byName.m.get(name)
		e.byName.set(name, append(users[:len(users):len(users)], u))
		e.nameLens[len(name)]++
	}
	return nil
}

type pushIndexEdit struct {
	individual, plain *cowEdit[string, struct{}]
	byName            *cowEdit[string, []string]
	nameOf            *cowEdit[string, string]
	nameLens          map[int]int
	maxIDLen          int
}

func (p *pushIndex) editor() *pushIndexEdit {
	return &pushIndexEdit{individual: p.individual.edit(), plain: p.plain.edit(), byName: p.byName.edit(),
		nameOf: p.nameOf.edit(), nameLens: p.nameLens, maxIDLen: p.maxIDLen}
}

// remove takes u out of the index.
func (e *pushIndexEdit) remove(u string) {
	e.individual.del(u)
	e.plain.del(u)
	name, ok := e.nameOf.m.get(u)
	if !ok {
		return
	}
	e.nameOf.del(u)
	users, _ := e.byName.m.get(name)
	rest := make([]string, 0, len(users))
	for _, x := range users {
		if x != u {
			rest = append(rest, x)
		}
	}
	if len(rest) == 0 {
		e.byName.del(name)
	} else {
		e.byName.set(name, rest)
	}
	if e.nameLens[len(name)]--; e.nameLens[len(name)] == 0 {
		delete(e.nameLens, len(name))
	}
}

func (e *pushIndexEdit) done(p *pushIndex) {
	p.individual, p.plain, p.byName, p.nameOf = e.individual.done(), e.plain.done(), e.byName.done(), e.nameOf.done()
	p.nameLens, p.maxIDLen = e.nameLens, e.maxIDLen
}

// named lists the plain members the event may name (every member for
// whom MayName holds, perhaps more), or ok false when finding them costs
// more than asking MayName of every plain member.
func (p *pushIndex) named(ev *pushrules.Event, domain string) (out []string, ok bool) {
	body, hasBody := ev.LowerBody()
	if hasBody && len(body)*len(p.nameLens) > p.plain.len() {
		return nil, false
	}
	seen := map[string]bool{}
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	budget := p.plain.len()
	ev.UserIDsEndingIn(domain, p.maxIDLen, func(id string) bool {
		if budget--; budget < 0 {
			return false
		}
		if _, ok := p.plain.get(id); ok {
			add(id)
		}
		return true
	})
	if budget < 0 {
		return nil, false
	}
	if hasBody {
		for l := range p.nameLens {
			for i := 0; i+l <= len(body); i++ {
				for _, u := range mustNames(p.byName.get(body[i : i+l])) {
					add(u)
				}
			}
		}
	}
	return out, true
}

func mustNames(users []string, _ bool) []string { return users }
