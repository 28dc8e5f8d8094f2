package clientapi

import (
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// roomSummary serves MSC3266's GET /_matrix/client/v1/room_summary/{roomIdOrAlias}
// (a room preview before joining), with or without an access token:
// anyone sees a world-readable room or one they could join or knock on
// (restricted: members of an allowed room), members and invitees see
// their room, with their membership. Rooms this
// server does not know are 404 (asking other servers is not built yet).
func (h *roomRoutes) roomSummary(req *http.Request) httputil.JSONResponse {
	ctx := req.Context()
	var dev *uapi.Device
	if token, ok := httputil.AccessToken(req); ok {
		d, merr := h.c.base.Client.Auth.AuthenticateToken(req, token)
		if merr != nil {
			return httputil.Error(http.StatusUnauthorized, merr.ErrCode, "%s", merr.Err)
		}
		dev = d
	}
	target := req.PathValue("roomIdOrAlias")
	roomID := target
	switch {
	case strings.HasPrefix(target, "#"):
		if !matrixrules.ValidRoomAlias(target) {
			return httputil.InvalidParam("Invalid room alias %q", target)
		}
		id, err := h.queryAlias(ctx, target)
		if err != nil {
			return h.rsError(err, "room summary alias")
		}
		if id == "" {
			return httputil.NotFound("Room alias %s not found", target)
		}
		roomID = id
	case !strings.HasPrefix(target, "!") || !strings.Contains(target, ":"):
		return httputil.InvalidParam("%q is not a room ID or alias", target)
	}
	notFound := httputil.NotFound("Room %s not found or not visible", target)
	s, err := h.rs.QueryRoomSummary(ctx, matrixid.RoomID(roomID))
	if err != nil || s == nil {
		return notFound // the same answer for unknown and hidden rooms
	}
	membership := ""
	if dev != nil {
		if m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID)); err == nil {
			membership = m
		}
	}
	previewable := s.WorldReadable || membership == "join" || membership == "invite" || membership == "knock"
	switch s.JoinRule {
	case "public", "knock", "knock_restricted":
		previewable = true // anyone may join or knock
	case "restricted": // members of an allowed room may join
		for _, allowed := range s.AllowedRoomIDs {
			if dev != nil && !previewable {
				m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(allowed), matrixid.UserID(dev.UserID))
				previewable = err == nil && m == "join"
			}
		}
	}
	if !previewable {
		return notFound
	}
	out := map[string]any{
		"room_id": s.RoomID, "num_joined_members": s.NumJoinedMembers, "guest_can_join": s.GuestCanJoin,
		"world_readable": s.WorldReadable, "join_rule": s.JoinRule,
	}
	for k, v := range map[string]string{"name": s.Name, "topic": s.Topic, "avatar_url": s.AvatarURL, "canonical_alias": s.CanonicalAlias,
		"room_type": s.RoomType, "room_version": s.RoomVersion} {
		if v != "" {
			out[k] = v
		}
	}
	if len(s.AllowedRoomIDs) > 0 {
		out["allowed_room_ids"] = s.AllowedRoomIDs
	}
	if membership != "" {
		out["membership"] = membership
	}
	return httputil.OK(out)
}
