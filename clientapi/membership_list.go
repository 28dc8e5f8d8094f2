package clientapi

import (
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

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

// members serves GET /rooms/{roomId}/members. The optional "at" is
// honoured when it is an event ID; sync tokens are ignored (current
// state), since stream positions belong to syncapi.
func (h *roomRoutes) members(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	at, r := h.visibleState(ctx, dev, roomID)
	if r != nil {
		return *r
	}
	q := req.URL.Query()
	if a := q.Get("at"); strings.HasPrefix(a, "$") && at == "" {
		at = a
	}
	evs, err := h.roomState(ctx, roomID, at, []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if err != nil {
		return h.rsError(err, "members")
	}
	want, notWant := q.Get("membership"), q.Get("not_membership")
	chunk := make([]rsapi.ClientEvent, 0, len(evs))
	for _, ev := range evs {
		m := gjson.GetBytes(ev.Content(), "membership").Str
		if (want != "" && m != want) || (notWant != "" && m == notWant) {
			continue
		}
		chunk = append(chunk, rsapi.ToClientEvent(ev.PDU, rsapi.FormatOptions{}))
	}
	return httputil.OK(map[string]any{"chunk": chunk})
}

type joinedMember struct {
	DisplayName *string `json:"display_name,omitempty"`
	AvatarURL   *string `json:"avatar_url,omitempty"`
}

func (h *roomRoutes) joinedMembers(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	at, r := h.visibleState(ctx, dev, roomID)
	if r != nil {
		return *r
	}
	evs, err := h.roomState(ctx, roomID, at, []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if err != nil {
		return h.rsError(err, "members")
	}
	joined := map[string]joinedMember{}
	for _, ev := range evs {
		c := gjson.ParseBytes(ev.Content())
		if c.Get("membership").Str != "join" {
			continue
		}
		var jm joinedMember
		if v := c.Get("displayname"); v.Type == gjson.String {
			jm.DisplayName = &v.Str
		}
		if v := c.Get("avatar_url"); v.Type == gjson.String {
			jm.AvatarURL = &v.Str
		}
		joined[*ev.StateKey()] = jm
	}
	return httputil.OK(map[string]any{"joined": joined})
}
