package federationapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// strippedStateTypes is the room state sent with invites and knocks
// (spec "Stripped state").
var strippedStateTypes = []string{
	spec.MRoomCreate, spec.MRoomJoinRules, spec.MRoomName, spec.MRoomAvatar,
	spec.MRoomCanonicalAlias, spec.MRoomEncryption, spec.MRoomTopic,
}

// strippedState is the room's stripped state, plus extra events.
func (f *FederationAPI) strippedState(ctx context.Context, roomID string, extra ...gomatrixserverlib.PDU) []gomatrixserverlib.InviteStrippedState {
	tuples := make([]rsapi.StateKey, len(strippedStateTypes))
	for i, t := range strippedStateTypes {
		tuples[i] = rsapi.StateKey{Type: matrixid.EventType(t)}
	}
	evs, _ := f.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), tuples)
	out := make([]gomatrixserverlib.InviteStrippedState, 0, len(evs)+len(extra))
	for _, e := range evs {
		out = append(out, gomatrixserverlib.NewInviteStrippedState(e.PDU))
	}
	for _, e := range extra {
		out = append(out, gomatrixserverlib.NewInviteStrippedState(e))
	}
	return out
}

// PerformInvite implements fedapi.FederationAPI: the invite is built on
// the room head, signed by us, countersigned by the invitee's server,
// then input (and so sent to the room's other servers).
func (f *FederationAPI) PerformInvite(ctx context.Context, req *fedapi.PerformInviteRequest) (matrixid.EventID, error) {
	ctx, cancel := context.WithTimeout(ctx, performTimeout)
	defer cancel()
	target := domainOf(req.Invitee)
	if target == "" || target == f.id.ServerName {
		return "", fedErr(http.StatusBadRequest, "M_INVALID_PARAM", "the invitee is not on another server")
	}
	content := map[string]any{}
	if len(req.Content) > 0 {
		_ = json.Unmarshal(req.Content, &content)
	}
	content["membership"] = spec.Invite
	raw, _ := json.Marshal(content)
	invitee := req.Invitee
	tmpl, err := f.rooms.QueryEventTemplate(ctx, &rsapi.EventTemplateRequest{RoomID: req.RoomID, Sender: req.Inviter,
		Type: spec.MRoomMember, StateKey: &invitee, Content: raw})
	if err != nil {
		return "", err
	}
	ver, ferr := roomVersion(gomatrixserverlib.RoomVersion(tmpl.RoomVersion))
	if ferr != nil {
		return "", ferr
	}
	invite, err := f.buildSigned(ver, tmpl.Proto, nil)
	if err != nil {
		return "", err
	}
	inviteReq, err := fclient.NewInviteV2Request(invite, f.strippedState(ctx, req.RoomID))
	if err != nil {
		return "", err
	}
	resp, err := f.Client.SendInviteV2(ctx, f.id.ServerName, target, inviteReq)
	if err != nil {
		return "", remoteError(target, err)
	}
	signed, err := ver.NewEventFromUntrustedJSON(resp.Event)
	if err != nil || signed.EventID() != invite.EventID() {
		return "", fedErr(http.StatusBadGateway, "M_UNKNOWN", "%s returned a different invite event", target)
	}
	if err := gomatrixserverlib.VerifyEventSignatures(ctx, signed, f.ring, userIDForSender); err != nil {
		return "", fedErr(http.StatusBadGateway, "M_UNKNOWN", "%s's signature on the invite does not verify: %v", target, err)
	}
	res, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
		{Kind: rsapi.KindNew, Event: rsapi.NewEvent(signed), SendAsServer: string(f.id.ServerName)},
	}})
	if err != nil {
		return "", err
	}
	if len(res.Results) == 1 && res.Results[0].Err != nil {
		return "", res.Results[0].Err
	}
	return matrixid.EventID(signed.EventID()), nil
}
