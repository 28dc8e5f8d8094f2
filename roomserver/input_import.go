package roomserver

import (
	"context"
	"maps"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// Rooms learned over federation. A remote join arrives as one request:
// the room's auth chain and state as outliers (create event first), then
// the join with HasState naming the send_join state. The outlier create
// event of an unknown room creates the room row; the join then replaces
// the (empty or stale) current state. An invite from another server for a
// room we are not in arrives as KindOutOfBand and makes a stub room with
// no state, holding just the membership.

// startsRemoteRoom: may this input create the room it is for?
func startsRemoteRoom(in *api.InputRoomEvent) bool {
	if in.Event == nil || in.Event.PDU == nil {
		return false
	}
	ev := in.Event.PDU
	switch in.Kind {
	case api.KindOutlier:
		return ev.Type() == spec.MRoomCreate && ev.StateKeyEquals("")
	case api.KindOutOfBand:
		return ev.Type() == spec.MRoomMember
	}
	return false
}

// startRemoteRoom inserts the room row for the first event of a remote
// room (see startsRemoteRoom), in the batch's transaction.
func (r *RoomServer) startRemoteRoom(ctx context.Context, b *batch, in *api.InputRoomEvent) *api.InputResult {
	if !b.newRoom || !startsRemoteRoom(in) {
		res := reject(api.CodeNotFound, "unknown room")
		return &res
	}
	ev := in.Event.PDU
	ver, err := gomatrixserverlib.GetRoomVersion(ev.Version())
	if err != nil || !ver.Stable() {
		res := reject(api.CodeVersion, "unsupported room version "+string(ev.Version()))
		return &res
	}
	b.rm.version = ver
	if err := r.startNewRoom(ctx, b, ev); err != nil {
		res := reject(api.CodeBadJSON, "cannot create room: "+err.Error())
		return &res
	}
	return nil
}

// missingAuth lists auth events not stored.
func missingAuth(ev gomatrixserverlib.PDU, known map[string]*stored) []string {
	var out []string
	for _, id := range ev.AuthEventIDs() {
		if known[id] == nil {
			out = append(out, id)
		}
	}
	return out
}

// missingPrev lists prev events not stored as part of the DAG. A
// rejected event counts when the state before it is known.
func missingPrev(ev gomatrixserverlib.PDU, known map[string]*stored) []string {
	var out []string
	for _, id := range ev.PrevEventIDs() {
		if p := known[id]; p == nil || p.status == storage.StatusOutlier || (p.status == storage.StatusRejected && p.snapshotNID == 0) {
			out = append(out, id)
		}
	}
	return out
}

// givenState is the state before an event given as event IDs
// (HasState), stored as a full snapshot. Unknown IDs are reported.
func (r *RoomServer) givenState(ctx context.Context, b *batch, ids []string) (storage.StateMap, int64, []string, error) {
	// Heads only: a joined room's state is tens of thousands of events,
	// which need not be read back and parsed to be placed.
	rows, err := r.db.EventHeadsByID(ctx, b.tx, ids)
	if err != nil {
		return nil, 0, nil, err
	}
	byID := make(map[string]*storage.Event, len(rows))
	for _, e := range rows {
		byID[e.EventID] = e
	}
	s := make(storage.StateMap, len(ids))
	var missing []string
	for _, id := range ids {
		e := byID[id]
		if e == nil {
			missing = append(missing, id)
			continue
		}
		if e.RoomNID != b.rm.nid || e.Status == storage.StatusRejected || e.StateKey == nil {
			continue
		}
		s[storage.Tuple{EventType: e.Type, StateKey: *e.StateKey}] = e.NID
	}
	if len(missing) > 0 {
		return nil, 0, missing, nil
	}
	snap, err := r.db.InsertSnapshot(ctx, b.tx, b.rm.nid, 0, 0, s)
	return s, snap, nil, err
}

// staleState: current state can be replaced outright by given state when
// it is empty or this server has no joined member in it (we were out of
// the room, so it stopped following the DAG).
func (r *RoomServer) staleState(ctx context.Context, b *batch, current storage.StateMap) (bool, error) {
	if len(current) == 0 {
		return true, nil
	}
	joined, err := r.serverJoined(ctx, b.rm, current, string(r.serverName))
	return !joined, err
}

// adoptState stores ev with the given state before it (beforeSnap, a
// full snapshot from givenState) and makes the state after it the room's
// current state, replacing stale state. The state after is a one-entry
// delta on the state before: a second full snapshot of a big room's
// state would double the join's snapshot writes.
func (r *RoomServer) adoptState(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, in *api.InputRoomEvent, current, before storage.StateMap, beforeSnap int64) error {
	nid, err := r.commitEvent(ctx, b, ev, in, storage.StatusAccepted, beforeSnap, false)
	if err != nil {
		return err
	}
	after, afterSnap, chainLen := before, beforeSnap, 0
	if sk := ev.StateKey(); sk != nil {
		t := storage.Tuple{EventType: ev.Type(), StateKey: *sk}
		after = maps.Clone(before)
		after[t] = nid
		if afterSnap, err = r.db.InsertSnapshot(ctx, b.tx, b.rm.nid, beforeSnap, 1, storage.StateMap{t: nid}); err != nil {
			return err
		}
		chainLen = 1
	}
	return r.replaceState(ctx, b, ev, in, current, after, &stateSnapshot{nid: afterSnap, chainLen: chainLen})
}

// storeOutOfBand stores a membership event for a room we are not in
// (KindOutOfBand): an outlier, the user's membership row, and an output
// carrying it as a state change so their clients see the invite (or its
// rejection).
func (r *RoomServer) storeOutOfBand(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, in *api.InputRoomEvent) (api.InputResult, error) {
	res := api.InputResult{EventID: matrixid.EventID(ev.EventID())}
	if ev.Type() != spec.MRoomMember || ev.StateKey() == nil {
		return reject(api.CodeBadJSON, "out-of-band events must be membership events"), nil
	}
	userID := *ev.StateKey()
	_, prevNID, err := r.db.MembershipRow(ctx, b.tx, b.rm.nid, userID)
	if err != nil {
		return res, err
	}
	nid, err := r.commitEvent(ctx, b, ev, in, storage.StatusOutlier, 0, false)
	if err != nil {
		return res, err
	}
	if err := r.db.UpsertMembership(ctx, b.tx, b.rm.nid, userID, membershipOf(ev), nid); err != nil {
		return res, err
	}
	out := &api.OutputNewRoomEvent{
		RoomID: b.rm.id, RoomVersion: string(b.rm.version.Version()), EventID: ev.EventID(), Event: ev.JSON(),
		AddsStateEventIDs: []string{ev.EventID()}, SendAsServer: in.SendAsServer,
	}
	if prevNID != 0 {
		prev, err := r.eventsByNID(ctx, b.tx, b.rm.version, []int64{prevNID})
		if err != nil {
			return res, err
		}
		if p := prev[prevNID]; p != nil {
			out.RemovesStateEventIDs = []string{p.pdu.EventID()}
		}
	}
	b.outputs = append(b.outputs, api.OutputEvent{Type: api.OutputTypeNewRoomEvent, NewRoomEvent: out})
	return res, nil
}

// outOfBandMembership reads a membership recorded outside current state
// (an invite to a room we are not in).
func (r *RoomServer) outOfBandMembership(ctx context.Context, rm *room, userID string) (string, string, error) {
	m, nid, err := r.db.MembershipRow(ctx, r.db, rm.nid, userID)
	if err != nil || nid == 0 {
		return "", "", err
	}
	evs, err := r.eventsByNID(ctx, r.db, rm.version, []int64{nid})
	if err != nil || evs[nid] == nil {
		return "", "", err
	}
	return m, evs[nid].pdu.EventID(), nil
}
