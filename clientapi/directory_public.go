package clientapi

import (
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

func (h *roomRoutes) getVisibility(req *http.Request) httputil.JSONResponse {
	roomID := req.PathValue("roomId")
	v, err := h.rs.QueryRoomVisibility(req.Context(), roomID)
	if err != nil {
		return h.rsError(err, "visibility")
	}
	return httputil.OK(map[string]string{"visibility": v})
}

// putVisibility: room members who may change the canonical alias may
// list the room (as Synapse does), and server admins.
func (h *roomRoutes) putVisibility(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	visibility, errResp := httputil.DecodeVisibility(req)
	if errResp != nil {
		return *errResp
	}
	if r := h.roomExists(ctx, roomID, httputil.NotFound("Unknown room %s", roomID)); r != nil {
		return *r
	}
	if !dev.IsAdmin {
		m, _, err := h.rs.QueryMembership(ctx, roomID, dev.UserID)
		if err != nil {
			return h.rsError(err, "membership")
		}
		level, needed, err := h.powerLevel(ctx, roomID, dev.UserID, "m.room.canonical_alias")
		if err != nil {
			return h.rsError(err, "power levels")
		}
		if m != "join" || level < needed {
			return httputil.Forbidden("You may not change this room's directory visibility")
		}
	}
	if err := h.rs.SetRoomVisibility(ctx, roomID, visibility); err != nil {
		return h.rsError(err, "visibility")
	}
	return httputil.Empty()
}

type publicRoomsBody struct {
	Limit  int    `json:"limit"`
	Since  string `json:"since"`
	Server string `json:"server"`
	Filter struct {
		GenericSearchTerm string `json:"generic_search_term"`
	} `json:"filter"`
	// Appservice network directories (see /thirdparty/protocols).
	IncludeAllNetworks   bool   `json:"include_all_networks"`
	ThirdPartyInstanceID string `json:"third_party_instance_id"`
}

func (h *roomRoutes) publicRoomsGet(req *http.Request) httputil.JSONResponse {
	q := req.URL.Query()
	var body publicRoomsBody
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return httputil.InvalidParam("limit must be a non-negative integer")
		}
		body.Limit = n
	}
	body.Since, body.Server = q.Get("since"), q.Get("server")
	return h.publicRooms(req, body)
}

func (h *roomRoutes) publicRoomsPost(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
	var body publicRoomsBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if body.Limit < 0 {
		return httputil.InvalidParam("limit must be non-negative")
	}
	return h.publicRooms(req, body)
}

func (h *roomRoutes) publicRooms(req *http.Request, body publicRoomsBody) httputil.JSONResponse {
	if body.Server != "" && body.Server != h.server {
		return httputil.NotFound("Querying other servers' directories is not supported yet")
	}
	if body.Since != "" {
		if n, err := strconv.Atoi(body.Since); err != nil || n < 0 {
			return httputil.InvalidParam("Invalid since token")
		}
	}
	if body.IncludeAllNetworks && body.ThirdPartyInstanceID != "" {
		return httputil.InvalidParam("include_all_networks and third_party_instance_id cannot be used together")
	}
	resp, err := h.rs.QueryPublicRooms(req.Context(), &rsapi.PublicRoomsRequest{Limit: body.Limit, Since: body.Since, Filter: body.Filter.GenericSearchTerm,
		ThirdPartyInstanceID: body.ThirdPartyInstanceID, AllNetworks: body.IncludeAllNetworks})
	if err != nil {
		return h.rsError(err, "public rooms")
	}
	return httputil.OK(resp)
}
