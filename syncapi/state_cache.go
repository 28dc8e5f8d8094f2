package syncapi

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// roomState is a room's current state, shared read-only by every request
// until the consumer changes that room's state.
type roomState struct {
	events  []*types.Event
	byKey   map[stateKey]*types.Event
	joined  []string
	invited []string

	namesOnce  sync.Once
	names      map[string]string // user ID -> display name, built on first use
	namesBuilt atomic.Bool       // names is complete (withDelta carries it over)

	plOnce sync.Once
	pl     *matrixrules.PowerLevels // parsed on first use (every pushed event needs it)
	plErr  error
}

type stateKey struct{ typ, key string }

func (r *roomState) get(typ, key string) *types.Event { return r.byKey[stateKey{typ, key}] }

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
		r.names = map[string]string{}
		for _, ev := range r.events {
			setDisplayName(r.names, ev)
		}
		r.namesBuilt.Store(true)
	})
	return r.names[userID]
}

// setDisplayName records a member event's display name in names.
func setDisplayName(names map[string]string, ev *types.Event) {
	if ev.Type != spec.MRoomMember {
		return
	}
	if n := gjson.GetBytes(ev.JSON, "content.displayname"); n.Type == gjson.String && n.Str != "" {
		names[*ev.StateKey] = n.Str
	} else {
		delete(names, *ev.StateKey)
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
	rs := &roomState{events: evs, byKey: make(map[stateKey]*types.Event, len(evs))}
	for _, ev := range evs {
		rs.byKey[stateKey{ev.Type, *ev.StateKey}] = ev
		if ev.Type == spec.MRoomMember {
			switch ev.Membership {
			case "join":
				rs.joined = append(rs.joined, *ev.StateKey)
			case "invite":
				rs.invited = append(rs.invited, *ev.StateKey)
			}
		}
	}
	return rs
}

// withDelta is the state after removes (event IDs) and then adds, as
// ApplyStateDelta stores it: the consumer keeps a room's state this way
// through a batch instead of reading it back after every state event.
func (r *roomState) withDelta(removes []string, adds []*types.Event) *roomState {
	gone := make(map[string]bool, len(removes))
	for _, id := range removes {
		gone[id] = true
	}
	slots := make(map[stateKey]bool, len(adds))
	for _, ev := range adds {
		if ev.StateKey != nil {
			slots[stateKey{ev.Type, *ev.StateKey}] = true
		}
	}
	evs := make([]*types.Event, 0, len(r.events)+len(adds))
	for _, ev := range r.events {
		if !gone[ev.EventID] && !slots[stateKey{ev.Type, *ev.StateKey}] {
			evs = append(evs, ev)
		}
	}
	for _, ev := range adds {
		if ev.StateKey != nil {
			evs = append(evs, ev)
		}
	}
	next := newRoomState(evs)
	if r.namesBuilt.Load() {
		// Carry the display names over, changed by the delta only:
		// rebuilding them reads every member event of the room, once per
		// member event joining a big room.
		names := maps.Clone(r.names)
		for _, ev := range r.events {
			if ev.Type == spec.MRoomMember && (gone[ev.EventID] || slots[stateKey{ev.Type, *ev.StateKey}]) {
				delete(names, *ev.StateKey)
			}
		}
		for _, ev := range adds {
			if ev.StateKey != nil {
				setDisplayName(names, ev)
			}
		}
		next.namesOnce.Do(func() { next.names = names })
		next.namesBuilt.Store(true)
	}
	return next
}
