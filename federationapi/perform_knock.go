package federationapi

import (
	"context"
	"net/http"

	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// PerformKnock implements fedapi.FederationAPI: make_knock/send_knock on
// the first server that accepts, then the knock is stored out of band (a
// stub room, as for a remote invite) so the user's clients see it.
func (f *FederationAPI) PerformKnock(ctx context.Context, req *fedapi.PerformJoinRequest) (*fedapi.PerformJoinResponse, error) {
	roomID, candidates, content, ferr := f.remoteTarget(ctx, req, spec.Knock)
	if ferr != nil {
		return nil, ferr
	}
	defer f.joinLocks.lock(roomID)()
	var last *fedapi.Error
	for _, server := range candidates {
		eventID, err := f.knockVia(ctx, server, roomID, req.UserID, content)
		if err == nil {
			return &fedapi.PerformJoinResponse{RoomID: roomID, EventID: eventID}, nil
		}
		last = remoteError(server, err)
		f.base.Log.Info("remote knock failed", "room_id", roomID, "server", server, "error", err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

func (f *FederationAPI) knockVia(ctx context.Context, server spec.ServerName, roomID, userID string, content map[string]any) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, performTimeout)
	defer cancel()
	mk, err := f.Client.MakeKnock(ctx, f.id.ServerName, server, roomID, userID, advertisedVersions())
	if err != nil {
		return "", err
	}
	ver, ferr := roomVersion(mk.RoomVersion)
	if ferr != nil {
		return "", ferr
	}
	proto := mk.KnockEvent
	proto.Type, proto.RoomID, proto.SenderID, proto.StateKey, proto.Redacts = spec.MRoomMember, roomID, userID, &userID, ""
	knock, err := f.buildSigned(ver, proto, content)
	if err != nil {
		return "", fedErr(http.StatusBadGateway, "M_UNKNOWN", "%s sent an unusable knock template: %v", server, err)
	}
	if _, err := f.Client.SendKnock(ctx, f.id.ServerName, server, knock); err != nil {
		return "", err
	}
	resp, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
		{Kind: rsapi.KindOutOfBand, Event: rsapi.NewEvent(knock)},
	}})
	if err != nil {
		return "", err
	}
	if len(resp.Results) == 1 && resp.Results[0].Err != nil {
		f.base.Log.Warn("knock accepted remotely but not stored", "room_id", roomID, "error", resp.Results[0].Err)
	}
	return knock.EventID(), nil
}
