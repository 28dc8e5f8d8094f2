package federationapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// PerformLeave implements fedapi.FederationAPI: make_leave/send_leave
// through the inviter's server (or the given ones), then the leave is
// stored out of band so the user's clients see the invite go.
func (f *FederationAPI) PerformLeave(ctx context.Context, req *fedapi.PerformLeaveRequest) error {
	if domainOf(req.UserID) != f.id.ServerName {
		return fedErr(http.StatusBadRequest, "M_INVALID_PARAM", "can only leave for local users")
	}
	servers := append([]string{}, req.ServerNames...)
	var invite gomatrixserverlib.PDU // the invite (or knock) being retired, if we hold it
	if m, eventID, err := f.rooms.QueryMembership(ctx, matrixid.RoomID(req.RoomID), matrixid.UserID(req.UserID)); err == nil && eventID != "" {
		if evs, err := f.rooms.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(string(eventID))}); err == nil && len(evs) == 1 {
			servers = append(servers, string(domainOf(string(evs[0].SenderID()))))
			if m == spec.Invite || m == spec.Knock {
				invite = evs[0].PDU
			}
		}
	}
	content := map[string]any{}
	if len(req.Content) > 0 {
		_ = json.Unmarshal(req.Content, &content)
	}
	content["membership"] = spec.Leave
	defer f.joinLocks.lock(req.RoomID)()
	var last *fedapi.Error = fedErr(http.StatusNotFound, "M_NOT_FOUND", "no server to leave %s through", req.RoomID)
	for _, server := range f.candidates(servers, []string{string(domainOf(req.RoomID))}) {
		err := f.leaveVia(ctx, server, req.RoomID, req.UserID, content)
		if err == nil {
			return nil
		}
		last = remoteError(server, err)
		if ctx.Err() != nil {
			break
		}
	}
	if invite != nil {
		// No server would take the rejection (the inviter's server may
		// have no one left in the room): retire the invite here, so the
		// user is not stuck with it.
		return f.leaveLocally(ctx, invite, req.UserID, content)
	}
	return last
}

// leaveLocally stores a leave we signed ourselves on top of the user's
// invite or knock, out of band: their clients see the invite go, and no
// other server has to accept it.
func (f *FederationAPI) leaveLocally(ctx context.Context, invite gomatrixserverlib.PDU, userID string, content map[string]any) error {
	ver, err := gomatrixserverlib.GetRoomVersion(invite.Version())
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(content)
	proto := gomatrixserverlib.ProtoEvent{
		Type: spec.MRoomMember, RoomID: invite.RoomID().String(), SenderID: userID, StateKey: &userID,
		PrevEvents: []string{invite.EventID()}, AuthEvents: []string{invite.EventID()}, Depth: invite.Depth() + 1, Content: raw,
	}
	leave, err := f.buildSigned(ver, proto, nil)
	if err != nil {
		return err
	}
	_, err = f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
		{Kind: rsapi.KindOutOfBand, Event: rsapi.NewEvent(leave)},
	}})
	return err
}

func (f *FederationAPI) leaveVia(ctx context.Context, server spec.ServerName, roomID, userID string, content map[string]any) error {
	ctx, cancel := context.WithTimeout(ctx, performTimeout)
	defer cancel()
	ml, err := f.Client.MakeLeave(ctx, f.id.ServerName, server, roomID, userID)
	if err != nil {
		return err
	}
	ver, ferr := roomVersion(ml.RoomVersion)
	if ferr != nil {
		return ferr
	}
	proto := ml.LeaveEvent
	proto.Type, proto.RoomID, proto.SenderID, proto.StateKey, proto.Redacts = spec.MRoomMember, roomID, userID, &userID, ""
	leave, err := f.buildSigned(ver, proto, content)
	if err != nil {
		return err
	}
	if err := f.Client.SendLeave(ctx, f.id.ServerName, server, leave); err != nil {
		return err
	}
	_, err = f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
		{Kind: rsapi.KindOutOfBand, Event: rsapi.NewEvent(leave)},
	}})
	return err
}
