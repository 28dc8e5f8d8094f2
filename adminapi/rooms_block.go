package adminapi

import (
	"net/http"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// Room blocking (the roomserver refuses joins, invites and knocks of a
// blocked room, locally and over federation). A room need not be known
// to be blocked.

// putRoomBlock serves PUT /v1/rooms/{roomId}/block.
func (a *AdminAPI) putRoomBlock(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	roomID := req.PathValue("roomId")
	if _, err := spec.NewRoomID(roomID); err != nil || len(roomID) > 255 {
		return httputil.InvalidParam("%q is not a room ID", roomID)
	}
	var body struct {
		Block *bool `json:"block"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if body.Block == nil {
		return httputil.MissingParam("block (true or false) is required")
	}
	if err := a.rooms.SetRoomBlocked(req.Context(), matrixid.RoomID(roomID), *body.Block, matrixid.UserID(admin.UserID)); err != nil {
		return a.fail(err, "block room")
	}
	return httputil.OK(map[string]bool{"block": *body.Block})
}

// getRoomBlock serves GET /v1/rooms/{roomId}/block.
func (a *AdminAPI) getRoomBlock(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	roomID := req.PathValue("roomId")
	if _, err := spec.NewRoomID(roomID); err != nil || len(roomID) > 255 {
		return httputil.InvalidParam("%q is not a room ID", roomID)
	}
	blocked, by, err := a.rooms.QueryRoomBlocked(req.Context(), matrixid.RoomID(roomID))
	if err != nil {
		return a.fail(err, "room blocked")
	}
	if !blocked {
		return httputil.OK(map[string]any{"block": false})
	}
	return httputil.OK(map[string]any{"block": true, "user_id": by})
}
