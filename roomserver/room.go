package roomserver

import (
	"context"
	"fmt"
	"sync"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// room is the in-memory head of a room: its current state (state key →
// event NID), forward extremities and depth. Only the room's input worker
// changes it, after its transaction commits; queries read it under mu.
type room struct {
	nid     int64
	id      string
	version gomatrixserverlib.IRoomVersion
	// epoch is the partition lease the head was loaded under (partition.go).
	epoch lease.Epoch

	// queue of input tasks; one worker drains it at a time.
	qmu     sync.Mutex
	pending []*inputTask
	running bool
	// gone: the room was purged (set by its worker); input still queued
	// on this head fails as for an unknown room.
	gone bool

	mu          sync.RWMutex
	snapNID     int64
	chainLen    int
	state       storage.StateMap
	extremities []string
	depth       int64
	// nonMembers indexes the state's entries other than members (few,
	// even in a big room), for queries that want those only.
	nonMembers map[storage.Tuple]struct{}
	// tally counts the state's members (members_tally.go); nil until
	// first needed. stateGen counts applied state changes, so a tally
	// built off the lock is kept only if the state did not move meanwhile.
	tally    *memberTally
	stateGen uint64
}

// indexNonMembers builds rm.nonMembers from rm.state.
func (rm *room) indexNonMembers() {
	rm.nonMembers = map[storage.Tuple]struct{}{}
	for k := range rm.state {
		if k.EventType != spec.MRoomMember {
			rm.nonMembers[k] = struct{}{}
		}
	}
}

// stateNID reads one current state entry.
func (rm *room) stateNID(t storage.Tuple) int64 {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return rm.state[t]
}

// snapshot copies the current state (filtered to tuples when given).
func (rm *room) snapshot(tuples []api.StateKey) storage.StateMap {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return filterState(rm.state, tuples)
}

func filterState(s storage.StateMap, tuples []api.StateKey) storage.StateMap {
	if len(tuples) == 0 {
		out := make(storage.StateMap, len(s))
		for k, v := range s {
			out[k] = v
		}
		return out
	}
	out := make(storage.StateMap, len(tuples))
	for _, t := range tuples {
		k := storage.Tuple{EventType: string(t.Type), StateKey: t.StateKey}
		if t.StateKey == "*" {
			for sk, v := range s {
				if matrixid.EventType(sk.EventType) == t.Type {
					out[sk] = v
				}
			}
			continue
		}
		if v, ok := s[k]; ok {
			out[k] = v
		}
	}
	return out
}

// room returns the loaded room, or nil (and no error) if unknown.
func (r *RoomServer) room(ctx context.Context, roomID string) (*room, error) {
	r.roomsMu.Lock()
	rm := r.rooms[roomID]
	r.roomsMu.Unlock()
	if rm != nil && r.parts.current(rm) {
		return rm, nil
	}
	// Partitioned: the lease first, so the head read below is newer
	// than the takeover; rooms not held here are not cached.
	epoch, cache := r.parts.leaseFor(roomID)
	row, err := r.db.RoomByID(ctx, r.db, roomID)
	if err != nil || row == nil {
		return nil, err
	}
	ver, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(row.Version))
	if err != nil {
		return nil, fmt.Errorf("room %s has unknown version %q", roomID, row.Version)
	}
	state, chainLen, err := r.db.LoadSnapshot(ctx, r.db, row.SnapshotNID)
	if err != nil {
		return nil, err
	}
	rm = &room{nid: row.NID, id: roomID, version: ver, snapNID: row.SnapshotNID, chainLen: chainLen,
		state: state, extremities: row.Extremities, depth: row.Depth, epoch: epoch}
	rm.indexNonMembers()
	if !cache {
		return rm, nil
	}
	r.roomsMu.Lock()
	defer r.roomsMu.Unlock()
	if existing := r.rooms[roomID]; existing != nil && r.parts.current(existing) {
		return existing, nil // someone loaded (and maybe changed) it meanwhile
	}
	r.rooms[roomID] = rm
	r.parts.cached(rm)
	return rm, nil
}

// mustRoom is room() with ErrRoomNotFound for unknown rooms.
func (r *RoomServer) mustRoom(ctx context.Context, roomID string) (*room, error) {
	rm, err := r.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	if rm == nil {
		return nil, api.ErrRoomNotFound
	}
	return rm, nil
}
