package adminapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// whois: GET /_synapse/admin/v1/whois/{userId}: the user's devices with
// their last connection.
func (a *AdminAPI) whois(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	acc, e := a.existingUser(req)
	if e != nil {
		return *e
	}
	userID := acc.UserID
	devs, err := a.users.QueryDevices(req.Context(), matrixid.UserID(userID))
	if err != nil {
		return a.fail(err, "list devices")
	}
	type connection struct {
		IP        string `json:"ip"`
		LastSeen  int64  `json:"last_seen"`
		UserAgent string `json:"user_agent"`
	}
	type session struct {
		Connections []connection `json:"connections"`
	}
	type device struct {
		Sessions []session `json:"sessions"`
	}
	out := map[string]device{}
	for _, d := range devs {
		var conns []connection
		if d.LastSeenTS != 0 {
			conns = append(conns, connection{IP: d.LastSeenIP, LastSeen: d.LastSeenTS, UserAgent: d.LastSeenUserAgent})
		}
		out[d.DeviceID] = device{Sessions: []session{{Connections: nonNil(conns)}}}
	}
	return httputil.OK(map[string]any{"user_id": userID, "devices": out})
}

// joinedRooms: GET /_synapse/admin/v1/users/{userId}/joined_rooms.
func (a *AdminAPI) joinedRooms(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	acc, e := a.existingUser(req)
	if e != nil {
		return *e
	}
	userID := acc.UserID
	rooms, err := a.rooms.QueryRoomsForUser(req.Context(), matrixid.UserID(userID), "join")
	if err != nil {
		return a.fail(err, "joined rooms")
	}
	return httputil.OK(map[string]any{"joined_rooms": nonNil(rooms), "total": len(rooms)})
}
