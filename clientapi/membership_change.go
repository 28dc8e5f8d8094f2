package clientapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// membershipBody is the body of invite/kick/ban/unban/join/leave/knock.
type membershipBody struct {
	UserID string `json:"user_id"`
	Reason string `json:"reason"`
}

// setMembership sends an m.room.member event for target. Joins, invites
// and knocks carry the target's profile.
func (h *roomRoutes) setMembership(ctx context.Context, sender, roomID, target, membership, reason string, extra map[string]any, unknown httputil.JSONResponse) (string, *httputil.JSONResponse) {
	content := map[string]any{"membership": membership}
	if reason != "" {
		content["reason"] = reason
	}
	if membership == "join" || membership == "invite" || membership == "knock" {
		h.addProfile(ctx, target, content)
	}
	for k, v := range extra {
		content[k] = v
	}
	sk := target
	return h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(sender), Type: spec.MRoomMember, StateKey: &sk, Content: mustMarshal(content)}, nil, unknown)
}

func (h *roomRoutes) joinRoomIDOrAlias(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	idOrAlias := req.PathValue("roomIdOrAlias")
	if strings.HasPrefix(idOrAlias, "#") && matrixrules.ValidRoomAlias(idOrAlias) && !strings.HasSuffix(idOrAlias, ":"+h.server) {
		// A remote alias: resolved (over federation) by the join itself,
		// which also learns the servers to join through.
		var body membershipBody
		if r := httputil.DecodeJSON(req, &body); r != nil {
			return *r
		}
		return h.remoteJoin(req.Context(), dev.UserID, idOrAlias, viaServers(req), body.Reason)
	}
	roomID, r := h.resolveRoom(req.Context(), idOrAlias)
	if r != nil {
		return *r
	}
	return h.doJoin(req, dev, roomID)
}

func (h *roomRoutes) joinRoom(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	return h.doJoin(req, dev, req.PathValue("roomId"))
}

// doJoin joins a local room. Restricted rooms need a local member who may
// invite to vouch for the join (join_authorised_via_users_server).
func (h *roomRoutes) doJoin(req *http.Request, dev *uapi.Device, roomID string) httputil.JSONResponse {
	ctx := req.Context()
	var body membershipBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if !strings.HasPrefix(roomID, "!") {
		return httputil.InvalidParam("Invalid room ID")
	}
	if vias := viaServers(req); !h.serverInRoom(ctx, roomID) && (len(vias) > 0 || !h.createdHere(ctx, roomID)) {
		// Unknown here, known only through an invite, or left: join
		// through the servers given, the inviter's and the room ID's.
		return h.remoteJoin(ctx, dev.UserID, roomID, vias, body.Reason)
	}
	unknown := httputil.NotFound("Room %s is not known to this server", roomID)
	extra := map[string]any{}
	current, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID))
	if err != nil {
		return h.rsErrorOr(err, "membership", unknown)
	}
	summary, err := h.rs.QueryRoomSummary(ctx, matrixid.RoomID(roomID))
	if err != nil {
		return h.rsError(err, "summary")
	}
	if dev.IsGuest && !summary.GuestCanJoin {
		return httputil.Forbidden("Guest access is not allowed in this room")
	}
	if matrixrules.NeedsRestrictedAuthoriser(summary.JoinRule, current) {
		via, r := h.restrictedAuthoriser(ctx, roomID, dev.UserID, summary.AllowedRoomIDs)
		if r != nil {
			return *r
		}
		extra["join_authorised_via_users_server"] = via
	}
	if _, r := h.setMembership(ctx, dev.UserID, roomID, dev.UserID, "join", body.Reason, extra, unknown); r != nil {
		return *r
	}
	return httputil.OK(map[string]string{"room_id": roomID})
}

// restrictedAuthoriser finds a local joined user allowed to invite, if
// the joiner is in one of the allowed rooms.
func (h *roomRoutes) restrictedAuthoriser(ctx context.Context, roomID, userID string, allowed []string) (string, *httputil.JSONResponse) {
	ok := false
	for _, a := range allowed {
		if m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(a), matrixid.UserID(userID)); err == nil && m == "join" {
			ok = true
			break
		}
	}
	if !ok {
		r := httputil.Forbidden("You are not a member of any room that grants access to this restricted room")
		return "", &r
	}
	members, err := h.rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if err != nil {
		r := h.rsError(err, "members")
		return "", &r
	}
	pl, err := h.powerLevels(ctx, roomID)
	if err != nil {
		r := h.rsError(err, "power levels")
		return "", &r
	}
	for _, m := range members {
		uid := *m.StateKey()
		if gjson.GetBytes(m.Content(), "membership").Str != "join" || !strings.HasSuffix(uid, ":"+h.server) {
			continue
		}
		if pl.UserLevel(uid) >= pl.Invite {
			return uid, nil
		}
	}
	r := httputil.Forbidden("No local user can authorise a join to this restricted room")
	return "", &r
}

func (h *roomRoutes) knock(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	var body membershipBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	roomID, r := h.resolveRoom(ctx, req.PathValue("roomIdOrAlias"))
	if r != nil {
		return *r
	}
	unknown := httputil.NotFound("Room %s is not known to this server", roomID)
	if _, r := h.setMembership(ctx, dev.UserID, roomID, dev.UserID, "knock", body.Reason, nil, unknown); r != nil {
		return *r
	}
	return httputil.OK(map[string]string{"room_id": roomID})
}

// otherMembership runs invite/kick/ban/unban: body.user_id is the target.
func (h *roomRoutes) otherMembership(req *http.Request, dev *uapi.Device, action matrixrules.Action) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	var body membershipBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if body.UserID == "" {
		return httputil.MissingParam("Missing user_id")
	}
	if _, _, ok := parseUserIDParts(body.UserID); !ok {
		return httputil.InvalidParam("Invalid user_id")
	}
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	if action == matrixrules.ActionInvite {
		if r := shadowBanned(dev, false); r != nil {
			return *r
		}
	}
	unknown := httputil.Forbidden("You are not in room %s", roomID)
	if action == matrixrules.ActionInvite && h.isRemoteUser(body.UserID) {
		cur, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(body.UserID))
		if err != nil {
			return h.rsErrorOr(err, "membership", unknown)
		}
		if msg := matrixrules.CheckTransition(action, cur); msg != "" {
			return httputil.Forbidden("%s", msg)
		}
		return h.remoteInvite(ctx, dev.UserID, roomID, body.UserID, body.Reason)
	}
	if action == matrixrules.ActionKick || action == matrixrules.ActionUnban {
		// The auth rules would accept a leave over a leave; these
		// requests ask for a change, so say why there is none.
		cur, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(body.UserID))
		if err != nil {
			return h.rsErrorOr(err, "membership", unknown)
		}
		if msg := matrixrules.CheckTransition(action, cur); msg != "" {
			return httputil.Forbidden("%s", msg)
		}
	}
	if _, r := h.setMembership(ctx, dev.UserID, roomID, body.UserID, matrixrules.ResultingMembership(action), body.Reason, nil, unknown); r != nil {
		return *r
	}
	return httputil.Empty()
}

func parseUserIDParts(userID string) (string, string, bool) {
	if len(userID) < 3 || userID[0] != '@' {
		return "", "", false
	}
	local, server, ok := strings.Cut(userID[1:], ":")
	return local, server, ok && local != "" && server != ""
}

func (h *roomRoutes) invite(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	return h.otherMembership(req, dev, matrixrules.ActionInvite)
}

func (h *roomRoutes) kick(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	return h.otherMembership(req, dev, matrixrules.ActionKick)
}

func (h *roomRoutes) ban(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	return h.otherMembership(req, dev, matrixrules.ActionBan)
}

func (h *roomRoutes) unban(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	return h.otherMembership(req, dev, matrixrules.ActionUnban)
}

func (h *roomRoutes) leave(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	var body membershipBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	cur, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID))
	if err != nil {
		return h.rsErrorOr(err, "membership", unknownRoom(roomID))
	}
	if cur == "leave" {
		return httputil.Empty() // already left: leaving again is a no-op
	}
	if matrixrules.CheckTransition(matrixrules.ActionLeave, cur) != "" {
		return httputil.Forbidden("You are not in room %s", roomID)
	}
	if (cur == "invite" || cur == "knock") && !h.serverInRoom(ctx, roomID) {
		return h.remoteLeave(ctx, dev.UserID, roomID, body.Reason)
	}
	if _, r := h.setMembership(ctx, dev.UserID, roomID, dev.UserID, "leave", body.Reason, nil, unknownRoom(roomID)); r != nil {
		return *r
	}
	return httputil.Empty()
}

func (h *roomRoutes) forget(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	if err := h.rs.ForgetRoom(ctx, matrixid.UserID(dev.UserID), matrixid.RoomID(roomID)); err != nil {
		if e, ok := rsapi.AsError(err); ok && e.Code == rsapi.CodeForbidden {
			return httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "%s", e.Message)
		}
		return h.rsErrorOr(err, "forget", unknownRoom(roomID))
	}
	return httputil.Empty()
}
