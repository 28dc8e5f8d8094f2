package roomserver

import (
	"context"
	"fmt"
	"slices"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// QueryRoomVersion implements api.RoomserverAPI.
func (r *RoomServer) QueryRoomVersion(ctx context.Context, roomID matrixid.RoomID) (string, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return "", err
	}
	return string(rm.version.Version()), nil
}

// QueryCurrentState implements api.RoomserverAPI.
func (r *RoomServer) QueryCurrentState(ctx context.Context, roomID matrixid.RoomID, tuples []api.StateKey) ([]*api.Event, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return nil, err
	}
	return r.stateEvents(ctx, rm, rm.snapshot(tuples))
}

func (r *RoomServer) stateEvents(ctx context.Context, rm *room, s storage.StateMap) ([]*api.Event, error) {
	pdus, err := r.statePDUs(ctx, r.db, rm.version, s)
	if err != nil {
		return nil, err
	}
	out := make([]*api.Event, len(pdus))
	for i, p := range pdus {
		out[i] = api.NewEvent(p)
	}
	return out, nil
}

// QueryStateAfterEvent implements api.RoomserverAPI.
func (r *RoomServer) QueryStateAfterEvent(ctx context.Context, roomID matrixid.RoomID, eventID matrixid.EventID, tuples []api.StateKey) ([]*api.Event, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return nil, err
	}
	s, err := r.stateAfter(ctx, rm, string(eventID))
	if err != nil {
		return nil, err
	}
	return r.stateEvents(ctx, rm, filterState(s, tuples))
}

// stateAfter is the state after an event of the room (shared map).
func (r *RoomServer) stateAfter(ctx context.Context, rm *room, eventID string) (storage.StateMap, error) {
	evs, err := r.eventsByID(ctx, r.db, rm.version, []string{eventID})
	if err != nil {
		return nil, err
	}
	e := evs[eventID]
	if e == nil || e.roomNID != rm.nid || e.status == storage.StatusRejected || e.status == storage.StatusOutlier {
		return nil, api.Errorf(api.CodeNotFound, "event not found")
	}
	s, _, err := r.loadSnapshot(ctx, r.db, e.snapshotNID)
	if err != nil {
		return nil, err
	}
	if sk := e.pdu.StateKey(); sk != nil && e.status == storage.StatusAccepted {
		c := make(storage.StateMap, len(s)+1)
		for k, v := range s {
			c[k] = v
		}
		c[storage.Tuple{EventType: e.pdu.Type(), StateKey: *sk}] = e.nid
		s = c
	}
	return s, nil
}

// QueryEvents implements api.RoomserverAPI. Rejected and soft-failed
// events are not returned.
func (r *RoomServer) QueryEvents(ctx context.Context, eventIDs []matrixid.EventID) ([]*api.Event, error) {
	rows, err := r.db.EventsByID(ctx, r.db, matrixid.Strings(eventIDs))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*api.Event, len(rows))
	for _, row := range rows {
		if row.Status == storage.StatusRejected || row.Status == storage.StatusSoftFailed {
			continue
		}
		e, ok := r.cachedEvent(row.NID)
		if !ok {
			ver, err := r.versionOfRoomNID(ctx, row.RoomNID)
			if err != nil {
				return nil, err
			}
			if e, err = r.parseStored(row, ver); err != nil {
				return nil, err
			}
			r.events.put(e.nid, e)
		}
		byID[row.EventID] = api.NewEvent(e.pdu)
	}
	out := make([]*api.Event, 0, len(byID))
	for _, id := range eventIDs {
		if e := byID[string(id)]; e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func (r *RoomServer) versionOfRoomNID(ctx context.Context, nid int64) (gomatrixserverlib.IRoomVersion, error) {
	roomID, _, err := r.db.RoomByNID(ctx, nid)
	if err != nil {
		return nil, err
	}
	rm, err := r.mustRoom(ctx, roomID)
	if err != nil {
		return nil, err
	}
	return rm.version, nil
}

// QueryMembership implements api.RoomserverAPI.
func (r *RoomServer) QueryMembership(ctx context.Context, roomID matrixid.RoomID, userID matrixid.UserID) (string, matrixid.EventID, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return "", "", err
	}
	m, id, err := r.membership(ctx, rm, rm.snapshot([]api.StateKey{{Type: spec.MRoomMember, StateKey: string(userID)}}), string(userID))
	if err != nil || m != "" {
		return m, matrixid.EventID(id), err
	}
	m, id, err = r.outOfBandMembership(ctx, rm, string(userID))
	return m, matrixid.EventID(id), err
}

// membership reads userID's membership in state s.
func (r *RoomServer) membership(ctx context.Context, rm *room, s storage.StateMap, userID string) (string, string, error) {
	nid := s[storage.Tuple{EventType: spec.MRoomMember, StateKey: userID}]
	if nid == 0 {
		return "", "", nil
	}
	evs, err := r.eventsByNID(ctx, r.db, rm.version, []int64{nid})
	if err != nil || evs[nid] == nil {
		return "", "", err
	}
	return membershipOf(evs[nid].pdu), evs[nid].pdu.EventID(), nil
}

// QueryRoomsForUser implements api.RoomserverAPI.
func (r *RoomServer) QueryRoomsForUser(ctx context.Context, userID matrixid.UserID, membership string) ([]matrixid.RoomID, error) {
	rooms, err := r.db.RoomsForUser(ctx, string(userID), membership)
	return matrixid.From[matrixid.RoomID](rooms), err
}

// QueryForwardExtremities implements api.RoomserverAPI.
func (r *RoomServer) QueryForwardExtremities(ctx context.Context, roomID matrixid.RoomID) ([]matrixid.EventID, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return nil, err
	}
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return matrixid.From[matrixid.EventID](slices.Clone(rm.extremities)), nil
}

// CheckDAG verifies that every stored event's prev_events exist and that
// the forward extremities are exactly the unreferenced accepted events.
// It is a consistency check for tests and debugging, not part of the
// RoomserverAPI (so it is not served over RPC).
func (r *RoomServer) CheckDAG(ctx context.Context, roomID string) error {
	rm, err := r.mustRoom(ctx, roomID)
	if err != nil {
		return err
	}
	rows, err := r.db.RoomEvents(ctx, rm.nid)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(rows))
	referenced := map[string]bool{}
	for _, row := range rows {
		known[row.EventID] = true
	}
	for _, row := range rows {
		e, err := r.parseStored(row, rm.version)
		if err != nil {
			return err
		}
		for _, p := range e.pdu.PrevEventIDs() {
			if !known[p] {
				return fmt.Errorf("event %s has unknown prev event %s", row.EventID, p)
			}
			referenced[p] = true
		}
	}
	var tips []string
	for _, row := range rows {
		if !referenced[row.EventID] && row.Status == storage.StatusAccepted {
			tips = append(tips, row.EventID)
		}
	}
	extIDs, _ := r.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
	ext := matrixid.Strings(extIDs)
	slices.Sort(tips)
	slices.Sort(ext)
	if !slices.Equal(tips, ext) {
		return fmt.Errorf("forward extremities %v, but unreferenced events are %v", ext, tips)
	}
	return nil
}

// QueryEventByTimestamp implements api.RoomserverAPI.
func (r *RoomServer) QueryEventByTimestamp(ctx context.Context, roomID matrixid.RoomID, ts int64, dir string) (matrixid.EventID, int64, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return "", 0, err
	}
	id, originTS, err := r.db.EventByTimestamp(ctx, rm.nid, ts, dir != "b")
	return matrixid.EventID(id), originTS, err
}
