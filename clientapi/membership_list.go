package clientapi

import (
	"net/http"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

func (h *roomRoutes) joinedRooms(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	rooms, err := h.rs.QueryRoomsForUser(req.Context(), matrixid.UserID(dev.UserID), "join")
	if err != nil {
		return h.rsError(err, "joined rooms")
	}
	if rooms == nil {
		rooms = []matrixid.RoomID{}
	}
	return httputil.OK(map[string]any{"joined_rooms": rooms})
}

// joinedMember is one entry of /joined_members. Both keys are always
// present, null when unset (as clients and other servers expect).
type joinedMember struct {
	DisplayName *string `json:"display_name"`
	AvatarURL   *string `json:"avatar_url"`
}

// joinedMembers serves GET /rooms/{roomId}/joined_members: the current
// joined members, for a caller joined to the room now (spec), or an
// appservice one of whose users is.
func (h *roomRoutes) joinedMembers(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	notMember := httputil.Forbidden("You aren't a member of the room")
	if r := h.roomExists(ctx, roomID, notMember); r != nil {
		return *r
	}
	evs, err := h.roomState(ctx, roomID, "", []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if err != nil {
		return h.rsError(err, "members")
	}
	var reg *config.AppService
	if dev.AppserviceID != "" {
		reg = h.c.base.Cfg.AppServiceByID(dev.AppserviceID)
	}
	allowed := false
	joined := map[string]joinedMember{}
	for _, ev := range evs {
		c := gjson.ParseBytes(ev.Content())
		if c.Get("membership").Str != "join" {
			continue
		}
		uid := *ev.StateKey()
		if uid == dev.UserID || (reg != nil && reg.OwnsUser(uid, h.server)) {
			allowed = true
		}
		var jm joinedMember
		if v := c.Get("displayname"); v.Type == gjson.String {
			jm.DisplayName = &v.Str
		}
		if v := c.Get("avatar_url"); v.Type == gjson.String {
			jm.AvatarURL = &v.Str
		}
		joined[uid] = jm
	}
	if !allowed {
		return notMember
	}
	return httputil.OK(map[string]any{"joined": joined})
}
