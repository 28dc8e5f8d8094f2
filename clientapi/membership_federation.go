package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// Membership of rooms on other servers goes through the federation
// component (nil when federation is off).
// fed is the federation component, or nil when federation is off.
func (h *roomRoutes) fed() fedapi.FederationAPI { return h.c.fed }

// serverInRoom: is this server in the room (so can act in it locally)?
// False for unknown rooms and for stubs holding only a remote invite.
func (h *roomRoutes) serverInRoom(ctx context.Context, roomID string) bool {
	in, err := h.rs.QueryServerInRoom(ctx, matrixid.RoomID(roomID), h.server)
	return err == nil && in
}

// createdHere: was the room created by a user of this server? Such a
// room's state is complete here even when no local user is in it.
func (h *roomRoutes) createdHere(ctx context.Context, roomID string) bool {
	_, create, err := h.stateContent(ctx, roomID, spec.MRoomCreate, "")
	if err != nil || create == nil {
		return false
	}
	_, server, _ := strings.Cut(string(create.SenderID()), ":")
	return server == h.server
}

// viaServers reads ?server_name= and ?via= of a join request.
func viaServers(req *http.Request) []string {
	q := req.URL.Query()
	return append(append([]string{}, q["server_name"]...), q["via"]...)
}

// inviterServer is the server of whoever invited userID (from the
// stored invite), so a join or rejection can go through it.
func (h *roomRoutes) inviterServer(ctx context.Context, roomID, userID string) []string {
	m, eventID, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(userID))
	if err != nil || eventID == "" || (m != "invite" && m != "knock") {
		return nil
	}
	evs, err := h.rs.QueryEvents(ctx, []matrixid.EventID{eventID})
	if err != nil || len(evs) != 1 {
		return nil
	}
	if _, server, ok := strings.Cut(string(evs[0].SenderID()), ":"); ok {
		return []string{server}
	}
	return nil
}

// remoteJoin joins through other servers, with the body's reason and
// custom keys in the member event like a local join.
func (h *roomRoutes) remoteJoin(ctx context.Context, userID, roomIDOrAlias string, servers []string, body joinBody) httputil.JSONResponse {
	if strings.HasPrefix(roomIDOrAlias, "!") {
		// A blocked room this server is not in (perhaps purged); the
		// federation join checks rooms found through an alias.
		if blocked, _, err := h.rs.QueryRoomBlocked(ctx, matrixid.RoomID(roomIDOrAlias)); err != nil {
			return h.rsError(err, "room blocked")
		} else if blocked {
			return httputil.Forbidden("This room has been blocked on this server")
		}
	}
	fed := h.fed()
	if fed == nil {
		return httputil.NotFound("Room %s is not known to this server and federation is disabled", roomIDOrAlias)
	}
	content := map[string]any{}
	for k, v := range body.Extra {
		content[k] = v
	}
	if body.Reason != "" {
		content["reason"] = body.Reason
	}
	h.addProfile(ctx, userID, content)
	if strings.HasPrefix(roomIDOrAlias, "!") {
		servers = append(servers, h.inviterServer(ctx, roomIDOrAlias, userID)...)
	}
	raw, _ := json.Marshal(content)
	resp, err := fed.PerformJoin(ctx, &fedapi.PerformJoinRequest{RoomIDOrAlias: roomIDOrAlias, UserID: userID, ServerNames: servers, Content: raw})
	if err != nil {
		return h.rsError(err, "remote join")
	}
	return httputil.OK(map[string]string{"room_id": resp.RoomID})
}

// remoteLeave rejects an invite (or withdraws a knock) for a room this
// server is not in.
func (h *roomRoutes) remoteLeave(ctx context.Context, userID, roomID, reason string) httputil.JSONResponse {
	fed := h.fed()
	if fed == nil {
		return httputil.Forbidden("You are not in room %s", roomID)
	}
	var content json.RawMessage
	if reason != "" {
		content, _ = json.Marshal(map[string]string{"reason": reason})
	}
	if err := fed.PerformLeave(ctx, &fedapi.PerformLeaveRequest{RoomID: roomID, UserID: userID, Content: content}); err != nil {
		return h.rsError(err, "remote leave")
	}
	return httputil.Empty()
}

// remoteInvite invites a user of another server.
func (h *roomRoutes) remoteInvite(ctx context.Context, inviter, roomID, invitee, reason string) httputil.JSONResponse {
	content := map[string]any{}
	if reason != "" {
		content["reason"] = reason
	}
	if r := h.performRemoteInvite(ctx, inviter, roomID, invitee, content); r != nil {
		return *r
	}
	return httputil.Empty()
}

// remoteCreateInvite is one invitee of createRoom's invite list on
// another server.
func (h *roomRoutes) remoteCreateInvite(ctx context.Context, inviter, roomID, invitee string, isDirect bool) *httputil.JSONResponse {
	content := map[string]any{}
	if isDirect {
		content["is_direct"] = true
	}
	return h.performRemoteInvite(ctx, inviter, roomID, invitee, content)
}

func (h *roomRoutes) performRemoteInvite(ctx context.Context, inviter, roomID, invitee string, content map[string]any) *httputil.JSONResponse {
	fed := h.fed()
	if fed == nil {
		r := httputil.Forbidden("Cannot invite users of other servers: federation is disabled")
		return &r
	}
	raw, _ := json.Marshal(content)
	if _, err := fed.PerformInvite(ctx, &fedapi.PerformInviteRequest{RoomID: roomID, Inviter: inviter, Invitee: invitee, Content: raw}); err != nil {
		r := h.rsError(err, "remote invite")
		return &r
	}
	return nil
}

// isRemoteUser: does userID belong to another server?
func (h *roomRoutes) isRemoteUser(userID string) bool {
	_, server, ok := parseUserIDParts(userID)
	return ok && server != h.server
}
