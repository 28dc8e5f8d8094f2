package federationapi

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

func (f *FederationAPI) makeMembership(membership string, checkVersions bool) FedHandler {
	return func(req *FedRequest) httputil.JSONResponse {
		ctx := req.Context()
		roomID, userID := req.PathValue("roomID"), req.PathValue("userID")
		if _, err := spec.NewUserID(userID, true); err != nil || domainOf(userID) != req.Origin {
			return httputil.Forbidden("The user must belong to the requesting server")
		}
		ver, r := f.roomAccess(ctx, roomID, req.Origin, false)
		if r != nil {
			return *r
		}
		if checkVersions {
			supported := req.URL.Query()["ver"]
			if len(supported) == 0 {
				supported = []string{"1"}
			}
			if !slices.Contains(supported, string(ver.Version())) {
				return httputil.JSONResponse{Code: http.StatusBadRequest, JSON: map[string]string{
					"errcode": "M_INCOMPATIBLE_ROOM_VERSION", "error": "Your server does not support this room's version",
					"room_version": string(ver.Version()),
				}}
			}
		}
		in, err := f.rooms.QueryServerInRoom(ctx, matrixid.RoomID(roomID), string(f.id.ServerName))
		if err != nil {
			return f.internal("server in room", err)
		}
		if !in {
			return httputil.NotFound("This server is not in room %s", roomID)
		}
		fields := map[string]string{"membership": membership}
		if membership == spec.Join {
			// A restricted room: one of our members vouches for the join,
			// and we sign it on send_join.
			via, err := f.rooms.QueryJoinAuthoriser(ctx, matrixid.RoomID(roomID), matrixid.UserID(userID))
			if err != nil {
				return f.rsError("join authoriser", err)
			}
			if via != "" {
				fields["join_authorised_via_users_server"] = string(via)
			}
		}
		content, _ := json.Marshal(fields)
		tmpl, err := f.rooms.QueryEventTemplate(ctx, &rsapi.EventTemplateRequest{
			RoomID: roomID, Sender: userID, Type: spec.MRoomMember, StateKey: &userID, Content: content,
		})
		if err != nil {
			return f.rsError("event template", err)
		}
		return httputil.OK(map[string]any{"event": tmpl.Proto, "room_version": tmpl.RoomVersion})
	}
}

// parseMembershipEvent checks a signed membership event from the origin.
func (f *FederationAPI) parseMembershipEvent(req *FedRequest, ver gomatrixserverlib.IRoomVersion, raw []byte, membership string) (gomatrixserverlib.PDU, *httputil.JSONResponse) {
	fail := func(r httputil.JSONResponse) (gomatrixserverlib.PDU, *httputil.JSONResponse) { return nil, &r }
	ev, err := ver.NewEventFromUntrustedJSON(raw)
	if err != nil {
		return fail(httputil.BadJSON("Invalid event: %v", err))
	}
	switch m, _ := ev.Membership(); {
	case ev.RoomID().String() != req.PathValue("roomID"):
		return fail(httputil.BadJSON("The event is for another room"))
	case ev.EventID() != req.PathValue("eventID"):
		return fail(httputil.BadJSON("The event ID does not match the path"))
	case ev.Type() != spec.MRoomMember || ev.StateKey() == nil:
		return fail(httputil.BadJSON("Not a membership event"))
	case m != membership:
		return fail(httputil.BadJSON("Membership must be %q", membership))
	case membership != spec.Invite && !ev.StateKeyEquals(string(ev.SenderID())):
		return fail(httputil.BadJSON("The state key must be the sender"))
	case domainOf(string(ev.SenderID())) != req.Origin:
		return fail(httputil.Forbidden("The sender must belong to the requesting server"))
	}
	if err := f.verifyOriginSignature(req, ver, ev); err != nil {
		return fail(httputil.Forbidden("Signature check failed: %v", err))
	}
	return ev, nil
}

// verifyOriginSignature checks the requesting server's signature only:
// an invite is not yet signed by the invitee's server (us), which
// gomatrixserverlib.VerifyEventSignatures would demand.
func (f *FederationAPI) verifyOriginSignature(req *FedRequest, ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU) error {
	redacted, err := ver.RedactEventJSON(ev.JSON())
	if err != nil {
		return err
	}
	res, err := f.ring.VerifyJSONs(req.Context(), []gomatrixserverlib.VerifyJSONRequest{{
		ServerName: req.Origin, Message: redacted, AtTS: ev.OriginServerTS(),
		ValidityCheckingFunc: gomatrixserverlib.StrictValiditySignatureCheck,
	}})
	if err != nil {
		return err
	}
	return res[0].Error
}

func (f *FederationAPI) sendMembership(membership string) FedHandler {
	return func(req *FedRequest) httputil.JSONResponse {
		ctx := req.Context()
		roomID := req.PathValue("roomID")
		ver, r := f.roomAccess(ctx, roomID, req.Origin, false)
		if r != nil {
			return *r
		}
		ev, r := f.parseMembershipEvent(req, ver, req.Content, membership)
		if r != nil {
			return *r
		}
		if membership == spec.Join || membership == spec.Knock {
			// make_join/make_knock refuse blocked rooms (the roomserver's
			// template); a join built without one is refused here.
			if blocked, _, err := f.rooms.QueryRoomBlocked(ctx, matrixid.RoomID(roomID)); err != nil {
				return f.rsError("room blocked", err)
			} else if blocked {
				return httputil.Forbidden("This room has been blocked on this server")
			}
		}
		if membership == spec.Join {
			if ev, r = f.authoriseRestrictedJoin(req, ver, ev); r != nil {
				return *r
			}
		}
		// The resident server passes the event on to the room's other
		// servers (SendAsServer), so they learn of it without waiting
		// for the joiner.
		res, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
			{Kind: rsapi.KindNew, Event: rsapi.NewEvent(ev), SendAsServer: string(f.id.ServerName)},
		}})
		if err != nil {
			return f.rsError("input "+membership, err)
		}
		if len(res.Results) != 1 {
			return f.internal("input "+membership, nil)
		}
		switch out := res.Results[0]; {
		case len(out.MissingPrevEvents) > 0 || len(out.MissingAuthEvents) > 0:
			return httputil.BadJSON("The event refers to events this server does not have; use a template from make_%s", membership)
		case out.Err != nil:
			return httputil.Forbidden("%s", out.Err.Message)
		case out.SoftFailed:
			return httputil.Forbidden("The event is not allowed by the room's current state")
		}
		switch membership {
		case spec.Join:
			return f.sendJoinResponse(req, ev)
		case spec.Knock:
			return httputil.OK(map[string]any{"knock_room_state": f.strippedState(ctx, roomID)})
		}
		return httputil.Empty()
	}
}

// sendJoinResponse is the state before the join and its auth chain.
// v1Response wraps a successful answer in the v1 send_join/send_leave
// shape, [200, body]; errors stay plain Matrix errors.
func v1Response(h FedHandler) FedHandler {
	return func(req *FedRequest) httputil.JSONResponse {
		resp := h(req)
		if resp.Code != http.StatusOK {
			return resp
		}
		body := resp.JSON
		if body == nil {
			body = struct{}{}
		}
		return httputil.OK([]any{http.StatusOK, body})
	}
}

func (f *FederationAPI) sendJoinResponse(req *FedRequest, join gomatrixserverlib.PDU) httputil.JSONResponse {
	ctx := req.Context()
	state, err := f.rooms.QueryStateBeforeEvent(ctx, matrixid.RoomID(join.RoomID().String()), matrixid.EventID(join.EventID()))
	if err != nil {
		return f.rsError("state before join", err)
	}
	chain, err := f.authChain(ctx, append(state, rsapi.NewEvent(join)))
	if err != nil {
		return f.internal("auth chain", err)
	}
	var servers []string
	seen := map[string]bool{}
	for _, e := range state {
		if e.Type() == spec.MRoomMember && e.StateKey() != nil {
			if m, _ := e.Membership(); m == spec.Join && !seen[string(domainOf(*e.StateKey()))] {
				seen[string(domainOf(*e.StateKey()))] = true
				servers = append(servers, string(domainOf(*e.StateKey())))
			}
		}
	}
	return f.eventsBody(map[string]any{
		"origin": f.id.ServerName, "event": spec.RawJSON(join.JSON()), "members_omitted": false, "servers_in_room": servers,
	}, map[string][]*rsapi.Event{"state": state, "auth_chain": chain})
}

// inviteV2 countersigns an invite of one of our users. When we are in
// the room the invite also arrives through /send; otherwise it is stored
// out of band (with the stripped state the inviter sent) for the
// invitee's clients.
func (f *FederationAPI) inviteV2(req *FedRequest) httputil.JSONResponse {
	ctx := req.Context()
	var body struct {
		RoomVersion     gomatrixserverlib.RoomVersion `json:"room_version"`
		Event           json.RawMessage               `json:"event"`
		InviteRoomState []json.RawMessage             `json:"invite_room_state"`
	}
	if err := json.Unmarshal(req.Content, &body); err != nil || len(body.Event) == 0 {
		return httputil.BadJSON("Invalid invite request")
	}
	ver, ferr := roomVersion(body.RoomVersion)
	if ferr != nil {
		return httputil.JSONResponse{Code: http.StatusBadRequest, JSON: map[string]string{
			"errcode": "M_INCOMPATIBLE_ROOM_VERSION", "error": ferr.Message, "room_version": string(body.RoomVersion)}}
	}
	ev, r := f.parseMembershipEvent(req, ver, body.Event, spec.Invite)
	if r != nil {
		return *r
	}
	invitee := *ev.StateKey()
	if domainOf(invitee) != f.id.ServerName {
		return httputil.BadJSON("The invitee is not a user of this server")
	}
	if acct, err := f.users.QueryAccount(ctx, matrixid.UserID(invitee)); err != nil || acct == nil {
		return httputil.NotFound("Unknown user %s", invitee)
	}
	roomID := ev.RoomID().String()
	if _, err := f.rooms.QueryRoomVersion(ctx, matrixid.RoomID(roomID)); err == nil && f.aclDenies(ctx, roomID, req.Origin) {
		return httputil.Forbidden("Server %s is denied by the room's server ACL", req.Origin)
	}
	signed, err := f.countersign(ver, ev)
	if err != nil {
		return f.internal("countersign invite", err)
	}
	// The inviter gets the event without our unsigned additions.
	reply := spec.RawJSON(signed.JSON())
	if len(body.InviteRoomState) > 0 {
		if withState, err := signed.SetUnsigned(map[string]any{"invite_room_state": body.InviteRoomState}); err == nil {
			signed = withState
		}
	}
	in, _ := f.rooms.QueryServerInRoom(ctx, matrixid.RoomID(roomID), string(f.id.ServerName))
	if !in {
		res, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
			{Kind: rsapi.KindOutOfBand, Event: rsapi.NewEvent(signed)},
		}})
		if err != nil {
			return f.rsError("store invite", err)
		}
		if len(res.Results) == 1 && res.Results[0].Err != nil {
			return f.rsError("store invite", res.Results[0].Err)
		}
	}
	return httputil.OK(map[string]any{"event": reply})
}

// authoriseRestrictedJoin signs a join that names one of our users as
// join_authorised_via_users_server, after checking again that we would
// vouch for it (the joiner may have left the allowed room since
// make_join). Other joins pass unchanged; the auth rules judge them.
func (f *FederationAPI) authoriseRestrictedJoin(req *FedRequest, ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU) (gomatrixserverlib.PDU, *httputil.JSONResponse) {
	via := gjson.GetBytes(ev.Content(), "join_authorised_via_users_server")
	if via.Type != gjson.String || domainOf(via.Str) != f.id.ServerName {
		return ev, nil
	}
	if _, err := f.rooms.QueryJoinAuthoriser(req.Context(), matrixid.RoomID(ev.RoomID().String()), matrixid.UserID(*ev.StateKey())); err != nil {
		r := f.rsError("join authoriser", err)
		return nil, &r
	}
	// The server of the named user must sign (even where the joiner was
	// invited meanwhile and the field is moot).
	signed, err := f.countersign(ver, ev)
	if err != nil {
		r := f.internal("sign restricted join", err)
		return nil, &r
	}
	return signed, nil
}

// countersign adds our signature to another server's event. The event
// is parsed again from the signed JSON: gomatrixserverlib's Sign returns
// the v2 event shape for every version, which in room v12 loses the
// create event from AuthEventIDs (and the room ID of a create event).
func (f *FederationAPI) countersign(ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU) (gomatrixserverlib.PDU, error) {
	raw := ev.Sign(string(f.id.ServerName), f.id.KeyID, f.id.PrivateKey).JSON()
	return ver.NewEventFromUntrustedJSON(raw)
}
