package syncapi

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// roomState is a room's current state, shared read-only by every request
// until the consumer changes that room's state. Its maps are cowMaps, so
// the next version after a state change (withDelta) shares all but the
// touched shards with this one; lists are built on first use.
type roomState struct {
	members cowMap[string, *types.Event]   // m.room.member events by state key
	others  cowMap[stateKey, *types.Event] // every other state event
	byID    cowMap[string, stateKey]       // event ID -> slot, for removes

	joinedN, invitedN int

	listsOnce               sync.Once
	allEvents, nonMembers   []*types.Event // oldest first
	joinedList, invitedList []string
	heroesOnce              sync.Once
	heroCands               []string // the smallest member IDs (heroes)

	namesOnce  sync.Once
	names      cowMap[string, string] // user ID -> display name, built on first use
	namesBuilt atomic.Bool            // names is complete (withDelta carries it over)

	plOnce sync.Once
	pl     *matrixrules.PowerLevels // parsed on first use (every pushed event needs it)
	plErr  error

	// push is the consumer's index of local members for push rules
	// (push_index.go), built on first use and carried by withDelta.
	push atomic.Pointer[pushIndex]
}

type stateKey struct{ typ, key string }

func keyOf(ev *types.Event) stateKey { return stateKey{ev.Type, *ev.StateKey} }

func (r *roomState) get(typ, key string) *types.Event {
	if typ == spec.MRoomMember {
		ev, _ := r.members.get(key)
		return ev
	}
	ev, _ := r.others.get(stateKey{typ, key})
	return ev
}

// all is the room's state events, oldest first.
func (r *roomState) all() []*types.Event { r.lists(); return r.allEvents }

// nonMemberState is the state events other than m.room.member, oldest first.
func (r *roomState) nonMemberState() []*types.Event { r.lists(); return r.nonMembers }

// joined and invited list the members by membership (oldest first).
func (r *roomState) joined() []string  { r.lists(); return r.joinedList }
func (r *roomState) invited() []string { r.lists(); return r.invitedList }

func (r *roomState) lists() {
	r.listsOnce.Do(func() {
		r.allEvents = make([]*types.Event, 0, r.members.len()+r.others.len())
		for _, ev := range r.others.all() {
			r.nonMembers = append(r.nonMembers, ev)
		}
		byPos := func(a, b *types.Event) int { return cmp.Compare(a.Pos, b.Pos) }
		slices.SortFunc(r.nonMembers, byPos)
		var ms []*types.Event
		for _, ev := range r.members.all() {
			ms = append(ms, ev)
		}
		slices.SortFunc(ms, byPos)
		for _, ev := range ms {
			switch ev.Membership {
			case spec.Join:
				r.joinedList = append(r.joinedList, *ev.StateKey)
			case spec.Invite:
				r.invitedList = append(r.invitedList, *ev.StateKey)
			}
		}
		r.allEvents = append(append(r.allEvents, r.nonMembers...), ms...)
		slices.SortStableFunc(r.allEvents, byPos)
	})
}

// heroCandidates is the n smallest IDs of joined and invited members
// (heroes are picked from them), found in one pass once per state
// instead of sorting every member for every summary.
func (r *roomState) heroCandidates(n int) []string {
	r.heroesOnce.Do(func() {
		for _, ev := range r.members.all() {
			if ev.Membership != spec.Join && ev.Membership != spec.Invite {
				continue
			}
			u := *ev.StateKey
			if len(r.heroCands) == n && u >= r.heroCands[n-1] {
				continue
			}
			i, _ := slices.BinarySearch(r.heroCands, u)
			r.heroCands = slices.Insert(r.heroCands, i, u)
			if len(r.heroCands) > n {
				r.heroCands = r.heroCands[:n]
			}
		}
	})
	return r.heroCands
}

// worldReadable: may anyone read the room's history now?
func (r *roomState) worldReadable() bool {
	return r.contentField(spec.MRoomHistoryVisibility, "", "history_visibility").String() == "world_readable"
}

// content returns a field of a state event's content ("" if absent).
func (r *roomState) contentField(typ, key, field string) gjson.Result {
	ev := r.get(typ, key)
	if ev == nil {
		return gjson.Result{}
	}
	return gjson.GetBytes(ev.JSON, "content."+field)
}

// powerLevels is the room's power levels (with the create event's rules),
// parsed once per state: parsing them for every event was ~3 % of server
// CPU under send load.
func (r *roomState) powerLevels() (*matrixrules.PowerLevels, error) {
	r.plOnce.Do(func() {
		var room matrixrules.Room
		if c := r.get(spec.MRoomCreate, ""); c != nil {
			content := gjson.GetBytes(c.JSON, "content")
			room.CreateSender, room.CreateContent = gjson.GetBytes(c.JSON, "sender").Str, []byte(content.Raw)
			room.Version = matrixrules.VersionOfCreate(room.CreateContent)
		}
		if pl := r.get(spec.MRoomPowerLevels, ""); pl != nil {
			room.PowerLevels = []byte(gjson.GetBytes(pl.JSON, "content").Raw)
		}
		r.pl, r.plErr = matrixrules.NewPowerLevels(room)
	})
	return r.pl, r.plErr
}

// displayName is userID's display name in the room ("" if none).
func (r *roomState) displayName(userID string) string {
	r.namesOnce.Do(func() {
		e := cowMap[string, string]{}.edit()
		for _, ev := range r.members.all() {
			setDisplayName(e, ev)
		}
		r.names = e.done()
		r.namesBuilt.Store(true)
	})
	n, _ := r.names.get(userID)
	return n
}

// setDisplayName records a member event's display name in names.
func setDisplayName(names *cowEdit[string, string], ev *types.Event) {
	if ev.Type != spec.MRoomMember {
		return
	}
	if n := gjson.GetBytes(ev.JSON, "content.displayname"); n.Type == gjson.String && n.Str != "" {
		names.set(*ev.StateKey, n.Str)
	} else {
		names.del(*ev.StateKey)
	}
}

// maxCachedRooms bounds memory; past it the cache starts over.
const maxCachedRooms = 20000

// stateCache caches roomState per room. A per-room generation, bumped on
// invalidation, keeps a slow reader from caching state older than a
// concurrent change.
type stateCache struct {
	db    *storage.DB
	mu    sync.Mutex
	rooms map[string]*roomState
	gen   map[string]uint64
}

func newStateCache(db *storage.DB) *stateCache {
	return &stateCache{db: db, rooms: map[string]*roomState{}, gen: map[string]uint64{}}
}

func (c *stateCache) invalidate(roomID string) {
	c.mu.Lock()
	delete(c.rooms, roomID)
	c.gen[roomID]++
	c.mu.Unlock()
}

// replace caches rs, the state a committed change left the room in (the
// consumer's in-memory copy, as ApplyStateDelta stored it): the next
// event in a big room then starts from it instead of reading the whole
// state back, and keeps its push index.
func (c *stateCache) replace(roomID string, rs *roomState) {
	c.mu.Lock()
	c.gen[roomID]++
	if len(c.rooms) >= maxCachedRooms {
		c.rooms = map[string]*roomState{}
	}
	c.rooms[roomID] = rs
	c.mu.Unlock()
}

func (c *stateCache) get(ctx context.Context, roomID string) (*roomState, error) {
	c.mu.Lock()
	if rs, ok := c.rooms[roomID]; ok {
		c.mu.Unlock()
		return rs, nil
	}
	gen := c.gen[roomID]
	c.mu.Unlock()
	evs, err := c.db.CurrentState(ctx, nil, roomID)
	if err != nil {
		return nil, err
	}
	rs := newRoomState(evs)
	c.mu.Lock()
	if c.gen[roomID] == gen {
		if len(c.rooms) >= maxCachedRooms {
			c.rooms = map[string]*roomState{}
		}
		c.rooms[roomID] = rs
	}
	c.mu.Unlock()
	return rs, nil
}

// prefetch loads the state of those of roomIDs not cached yet with one
// query per chunk of rooms (an initial /sync reads every room's state).
func (c *stateCache) prefetch(ctx context.Context, roomIDs []string) error {
	c.mu.Lock()
	var missing []string
	gens := map[string]uint64{}
	for _, r := range roomIDs {
		if _, ok := c.rooms[r]; !ok {
			missing = append(missing, r)
			gens[r] = c.gen[r]
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	states, err := c.db.CurrentStateOfRooms(ctx, missing)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range missing {
		if c.gen[r] != gens[r] {
			continue // changed meanwhile: get reads it again
		}
		if len(c.rooms) >= maxCachedRooms {
			c.rooms = map[string]*roomState{}
		}
		c.rooms[r] = newRoomState(states[r])
	}
	return nil
}

// newRoomState indexes a room's current state events.
func newRoomState(evs []*types.Event) *roomState {
	rs := &roomState{}
	nm := 0
	for _, ev := range evs {
		if ev.Type == spec.MRoomMember {
			nm++
		}
	}
	members := func(yield func(string, *types.Event) bool) {
		for _, ev := range evs {
			if ev.Type == spec.MRoomMember && !yield(*ev.StateKey, ev) {
				return
			}
		}
	}
	others := func(yield func(stateKey, *types.Event) bool) {
		for _, ev := range evs {
			if ev.Type != spec.MRoomMember && !yield(keyOf(ev), ev) {
				return
			}
		}
	}
	ids := func(yield func(string, stateKey) bool) {
		for _, ev := range evs {
			if !yield(ev.EventID, keyOf(ev)) {
				return
			}
		}
	}
	rs.members = buildCowMap(nm, members)
	rs.others = buildCowMap(len(evs)-nm, others)
	rs.byID = buildCowMap(len(evs), ids)
	for _, ev := range rs.members.all() {
		rs.count(ev, 1)
	}
	return rs
}

// count adds d to the membership counts for member event ev.
func (r *roomState) count(ev *types.Event, d int) {
	switch ev.Membership {
	case spec.Join:
		r.joinedN += d
	case spec.Invite:
		r.invitedN += d
	}
}

// withDelta is the state after removes (event IDs) and then adds, as
// ApplyStateDelta stores it: the consumer keeps a room's state this way
// through a batch instead of reading it back after every state event.
// It costs O(change): the maps copy only the shards the delta touches,
// and display names (push rules need them) and the push index are
// carried over, changed by the delta only.
func (r *roomState) withDelta(removes []string, adds []*types.Event) *roomState {
	next := &roomState{joinedN: r.joinedN, invitedN: r.invitedN}
	me, oe, ie := r.members.edit(), r.others.edit(), r.byID.edit()
	var changed []string // member slots the delta touched
	drop := func(k stateKey) {
		old := next.getIn(me, oe, k)
		if old == nil {
			return
		}
		ie.del(old.EventID)
		if k.typ == spec.MRoomMember {
			next.count(old, -1)
			me.del(k.key)
			changed = append(changed, k.key)
		} else {
			oe.del(k)
		}
	}
	for _, id := range removes {
		if k, ok := ie.m.get(id); ok {
			drop(k)
		}
	}
	for _, ev := range adds {
		if ev.StateKey == nil {
			continue
		}
		k := keyOf(ev)
		drop(k)
		ie.set(ev.EventID, k)
		if k.typ == spec.MRoomMember {
			next.count(ev, 1)
			me.set(k.key, ev)
			changed = append(changed, k.key)
		} else {
			oe.set(k, ev)
		}
	}
	next.members, next.others, next.byID = me.done(), oe.done(), ie.done()
	if r.namesBuilt.Load() {
		ne := r.names.edit()
		for _, u := range changed {
			ne.del(u)
			if ev, ok := next.members.get(u); ok {
				setDisplayName(ne, ev)
			}
		}
		names := ne.done()
		next.namesOnce.Do(func() { next.names = names })
		next.namesBuilt.Store(true)
	}
	if p := r.push.Load(); p != nil {
		next.push.Store(p.withChanges(changed))
	}
	return next
}

// getIn reads slot k from the edits being made.
func (r *roomState) getIn(me *cowEdit[string, *types.Event], oe *cowEdit[stateKey, *types.Event], k stateKey) *types.Event {
	if k.typ == spec.MRoomMember {
		ev, _ := me.m.get(k.key)
		return ev
	}
	ev, _ := oe.m.get(k)
	return ev
}
