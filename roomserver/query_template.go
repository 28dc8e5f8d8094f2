package roomserver

import (
	"context"
	"slices"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// QueryEventTemplate implements api.RoomserverAPI: an unsigned event on
// the room's current head, auth-checked against current state. The head
// may move before the event comes back signed; that only forks the DAG,
// which input merges.
func (r *RoomServer) QueryEventTemplate(ctx context.Context, req *api.EventTemplateRequest) (*api.EventTemplate, error) {
	rm, err := r.mustRoom(ctx, req.RoomID)
	if err != nil {
		return nil, err
	}
	if msg := matrixrules.CheckLocalEvent(req.Type, req.StateKey, req.Content, req.Sender); msg != "" {
		return nil, api.Errorf(api.CodeBadJSON, msg)
	}
	if refused, err := r.refusedByBlock(ctx, r.db, req.RoomID, req.Type, req.Content); err != nil || refused {
		if err != nil {
			return nil, err
		}
		return nil, api.Errorf(api.CodeForbidden, blockedMessage)
	}
	rm.mu.RLock()
	prev := slices.Clone(rm.extremities)
	depth := rm.depth + 1
	rm.mu.RUnlock()
	if prev == nil {
		prev = []string{}
	}
	proto := gomatrixserverlib.ProtoEvent{
		SenderID: req.Sender, RoomID: req.RoomID, Type: req.Type, StateKey: req.StateKey,
		Content: spec.RawJSON(req.Content), PrevEvents: prev, Depth: depth, Version: rm.version,
	}
	needed, err := gomatrixserverlib.StateNeededForProtoEvent(&proto)
	if err != nil {
		return nil, api.Errorf(api.CodeBadJSON, trimAuthErr(err))
	}
	var nids []int64
	for _, t := range needed.Tuples() {
		if nid := rm.stateNID(t); nid != 0 {
			nids = append(nids, nid)
		}
	}
	evs, err := r.eventsByNID(ctx, r.db, rm.version, nids)
	if err != nil {
		return nil, err
	}
	var pdus []gomatrixserverlib.PDU
	for _, nid := range nids {
		if e := evs[nid]; e != nil {
			pdus = append(pdus, e.pdu)
		}
	}
	provider, err := gomatrixserverlib.NewAuthEvents(pdus)
	if err != nil {
		return nil, err
	}
	builder := rm.version.NewEventBuilderFromProtoEvent(&proto)
	if err := builder.AddAuthEvents(provider); err != nil {
		return nil, err
	}
	// Build (signed with our key, discarded) only to run the auth rules.
	ev, err := builder.Build(now(), r.serverName, r.keyID, r.key)
	if err != nil {
		return nil, api.Errorf(api.CodeBadJSON, "invalid event: "+err.Error())
	}
	if err := gomatrixserverlib.Allowed(ev, provider, userIDForSender); err != nil {
		return nil, api.Errorf(api.CodeForbidden, trimAuthErr(err))
	}
	proto.AuthEvents = builder.AuthEvents
	return &api.EventTemplate{RoomVersion: string(rm.version.Version()), Proto: proto}, nil
}

// QueryStateBeforeEvent implements api.RoomserverAPI.
func (r *RoomServer) QueryStateBeforeEvent(ctx context.Context, roomID matrixid.RoomID, eventID matrixid.EventID) ([]*api.Event, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return nil, err
	}
	evs, err := r.eventsByID(ctx, r.db, rm.version, []string{string(eventID)})
	if err != nil {
		return nil, err
	}
	e := evs[string(eventID)]
	if e != nil && e.roomNID == rm.nid && e.status != storage.StatusRejected && isRoomCreate(e.pdu) {
		// Nothing comes before a room's creation: its state is known
		// (empty) even though no snapshot is stored for it.
		return []*api.Event{}, nil
	}
	if e == nil || e.roomNID != rm.nid || e.status == storage.StatusRejected || e.status == storage.StatusOutlier || e.snapshotNID == 0 {
		return nil, api.Errorf(api.CodeNotFound, "event not found or its state is unknown")
	}
	s, _, err := r.loadSnapshot(ctx, r.db, e.snapshotNID)
	if err != nil {
		return nil, err
	}
	return r.stateEvents(ctx, rm, s)
}

// QueryServerInRoom implements api.RoomserverAPI.
func (r *RoomServer) QueryServerInRoom(ctx context.Context, roomID matrixid.RoomID, serverName string) (bool, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return false, err
	}
	return r.serverHasNow(ctx, rm, serverName, spec.Join)
}

// QueryServerInvited implements api.RoomserverAPI.
func (r *RoomServer) QueryServerInvited(ctx context.Context, roomID matrixid.RoomID, serverName string) (bool, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return false, err
	}
	return r.serverHasNow(ctx, rm, serverName, spec.Invite)
}

// serverJoined: does state s have a joined member of serverName?
func (r *RoomServer) serverJoined(ctx context.Context, rm *room, s storage.StateMap, serverName string) (bool, error) {
	return r.serverHas(ctx, rm, s, serverName, spec.Join)
}

// serverHas: does state s have a member of serverName with membership m?
func (r *RoomServer) serverHas(ctx context.Context, rm *room, s storage.StateMap, serverName, m string) (bool, error) {
	var nids []int64
	for t, nid := range s {
		if t.EventType == spec.MRoomMember && serverOf(t.StateKey) == serverName {
			nids = append(nids, nid)
		}
	}
	found := false
	err := r.eachMembership(ctx, rm, nids, func(got string) bool {
		found = got == m
		return !found
	})
	return found, err
}

// isRoomCreate: is ev a room's create event (the one with nothing before it)?
func isRoomCreate(ev gomatrixserverlib.PDU) bool {
	return ev.Type() == spec.MRoomCreate && ev.StateKeyEquals("") && len(ev.PrevEventIDs()) == 0
}
