package pushrules

import "sync"

// Conditions on the event alone (event_match, event_property_is,
// event_property_contains) come out the same for every user who has
// them, and most users have the same ones (the server defaults). Such
// conditions get a process-wide number when compiled, and an Event
// remembers each numbered condition's result, so a message in a room of
// N members evaluates each shared condition once instead of N times.
// Conditions that read the user (display name, member count, sender
// power) are never shared.

// maxSharedConds bounds the numbering (and the per-event memo): the
// defaults need about twenty; users' own conditions beyond the bound are
// simply evaluated every time.
const maxSharedConds = 256

type sharedKey struct {
	kind    condKind
	path    string
	literal string
	re      string
	word    bool
	exact   bool
	never   bool
	value   string
}

var sharedConds struct {
	mu  sync.Mutex
	ids map[sharedKey]int16
}

// sharedID numbers c if it reads only the event; -1 otherwise or when
// the numbering is full.
func sharedID(c *cond) int16 {
	k := sharedKey{kind: c.kind, path: c.path}
	switch c.kind {
	case condEventMatch:
		k.literal, k.word, k.exact, k.never = c.glob.literal, c.glob.word, c.glob.exact, c.glob.never
		if c.glob.re != nil {
			k.re = c.glob.re.String()
		}
	case condPropIs, condPropContains:
		k.value = c.value.Raw
	default:
		return -1
	}
	sharedConds.mu.Lock()
	defer sharedConds.mu.Unlock()
	if id, ok := sharedConds.ids[k]; ok {
		return id
	}
	if sharedConds.ids == nil {
		sharedConds.ids = map[sharedKey]int16{}
	}
	if len(sharedConds.ids) >= maxSharedConds {
		return -1
	}
	id := int16(len(sharedConds.ids))
	sharedConds.ids[k] = id
	return id
}
