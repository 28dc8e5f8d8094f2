package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

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
	content := h.memberContent(ctx, target, membership, reason, extra)
	return h.sendMemberContent(ctx, sender, roomID, target, content, unknown)
}

// memberContent is the content of target's m.room.member event: the
// membership, the reason, the profile (joins, invites, knocks), then extra.
func (h *roomRoutes) memberContent(ctx context.Context, target, membership, reason string, extra map[string]any) json.RawMessage {
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
	return mustMarshal(content)
}

func (h *roomRoutes) sendMemberContent(ctx context.Context, sender, roomID, target string, content json.RawMessage, unknown httputil.JSONResponse) (string, *httputil.JSONResponse) {
	sk := target
	return h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(sender), Type: spec.MRoomMember, StateKey: &sk, Content: content}, nil, unknown)
}

// joinBody is the body of /join: reason, and any custom keys, which are
// kept in the member event (as clients and other servers expect); the
// keys the server decides itself are not taken from it.
type joinBody struct {
	Reason string
	Extra  map[string]any
}

// serverMemberKeys are the member content keys a join body cannot set.
var serverMemberKeys = map[string]bool{
	"membership": true, "reason": true, "displayname": true, "avatar_url": true,
	"join_authorised_via_users_server": true, "third_party_invite": true, "third_party_signed": true,
}

func decodeJoinBody(req *http.Request) (joinBody, *httputil.JSONResponse) {
	data, r := httputil.ReadBody(req, httputil.BodyLimit(req))
	if r != nil {
		return joinBody{}, r
	}
	var known membershipBody
	if r := httputil.UnmarshalJSON(data, &known); r != nil {
		return joinBody{}, r
	}
	var all map[string]json.RawMessage
	if r := httputil.UnmarshalJSON(data, &all); r != nil {
		return joinBody{}, r
	}
	body := joinBody{Reason: known.Reason, Extra: map[string]any{}}
	for k, v := range all {
		if !serverMemberKeys[k] && k != "user_id" {
			body.Extra[k] = v
		}
	}
	return body, nil
}

// sameJoin reports whether userID's current membership is a join whose
// content is content: joining again then changes nothing, and no new
// event is sent (the join is idempotent).
func (h *roomRoutes) sameJoin(ctx context.Context, current string, eventID matrixid.EventID, content json.RawMessage) bool {
	if current != "join" || eventID == "" {
		return false
	}
	evs, err := h.rs.QueryEvents(ctx, []matrixid.EventID{eventID})
	if err != nil || len(evs) != 1 {
		return false
	}
	var have, want any
	if json.Unmarshal(evs[0].Content(), &have) != nil || json.Unmarshal(content, &want) != nil {
		return false
	}
	return reflect.DeepEqual(have, want)
}

func (h *roomRoutes) joinRoomIDOrAlias(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	idOrAlias := req.PathValue("roomIdOrAlias")
	if strings.HasPrefix(idOrAlias, "#") && matrixrules.ValidRoomAlias(idOrAlias) && !strings.HasSuffix(idOrAlias, ":"+h.server) {
		// A remote alias: resolved (over federation) by the join itself,
		// which also learns the servers to join through.
		body, r := decodeJoinBody(req)
		if r != nil {
			return *r
		}
		return h.remoteJoin(req.Context(), dev.UserID, idOrAlias, viaServers(req), body)
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
	body, r := decodeJoinBody(req)
	if r != nil {
		return *r
	}
	if !strings.HasPrefix(roomID, "!") {
		return httputil.InvalidParam("Invalid room ID")
	}
	if vias := viaServers(req); !h.serverInRoom(ctx, roomID) && (len(vias) > 0 || !h.createdHere(ctx, roomID)) {
		// Unknown here, known only through an invite, or left: join
		// through the servers given, the inviter's and the room ID's.
		return h.remoteJoin(ctx, dev.UserID, roomID, vias, body)
	}
	unknown := httputil.NotFound("Room %s is not known to this server", roomID)
	extra := body.Extra
	current, currentID, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID))
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
		via, err := h.rs.QueryJoinAuthoriser(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID))
		if e, ok := rsapi.AsError(err); ok && (e.Code == rsapi.CodeUnableToGrantJoin || e.Code == rsapi.CodeUnableToAuthoriseJoin) && h.fed() != nil {
			// No member of ours can vouch for the join: another server
			// of the room may (a remote join, though we are in the room).
			if others := h.otherJoinedServers(ctx, roomID); len(others) > 0 {
				return h.remoteJoin(ctx, dev.UserID, roomID, append(viaServers(req), others...), body)
			}
		}
		if err != nil {
			return h.rsError(err, "join authoriser")
		}
		if via != "" {
			extra["join_authorised_via_users_server"] = string(via)
		}
	}
	content := h.memberContent(ctx, dev.UserID, "join", body.Reason, extra)
	if h.sameJoin(ctx, current, currentID, content) {
		return httputil.OK(map[string]string{"room_id": roomID})
	}
	if _, r := h.sendMemberContent(ctx, dev.UserID, roomID, dev.UserID, content, unknown); r != nil {
		return *r
	}
	return httputil.OK(map[string]string{"room_id": roomID})
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
	if cur == "invite" && h.isServerNoticesRoom(ctx, roomID) {
		// Spec (server notices): the invite cannot be rejected; leaving
		// after joining is allowed.
		return httputil.Error(http.StatusForbidden, "M_CANNOT_LEAVE_SERVER_NOTICE_ROOM", "The invite to your server notices room cannot be rejected; join it, then leave if you like")
	}
	if (cur == "invite" || cur == "knock") && !h.serverInRoom(ctx, roomID) && !h.createdHere(ctx, roomID) {
		// An invite or knock to a room known only through it: the leave
		// goes through another server. A room made here (its state is
		// here even when no local user is in it) is left locally.
		return h.remoteLeave(ctx, dev.UserID, roomID, body.Reason)
	}
	if _, r := h.setMembership(ctx, dev.UserID, roomID, dev.UserID, "leave", body.Reason, nil, unknownRoom(roomID)); r != nil {
		return *r
	}
	return httputil.Empty()
}

// isServerNoticesRoom: was roomID created by the server notices user?
func (h *roomRoutes) isServerNoticesRoom(ctx context.Context, roomID string) bool {
	notices := h.c.base.Cfg.ServerNoticesUserID()
	if notices == "" {
		return false
	}
	_, create, err := h.stateContent(ctx, roomID, spec.MRoomCreate, "")
	return err == nil && create != nil && string(create.SenderID()) == notices
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

// otherJoinedServers are the servers, other than this one, with a joined
// member in the room.
func (h *roomRoutes) otherJoinedServers(ctx context.Context, roomID string) []string {
	members, err := h.rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range members {
		if mem, _ := m.Membership(); mem != spec.Join {
			continue
		}
		if _, server, ok := parseUserIDParts(*m.StateKey()); ok && server != h.server && !slices.Contains(out, server) {
			out = append(out, server)
		}
	}
	return out
}
