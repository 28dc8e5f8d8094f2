package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

func (h *roomRoutes) getVisibility(req *http.Request) httputil.JSONResponse {
	roomID := req.PathValue("roomId")
	v, err := h.rs.QueryRoomVisibility(req.Context(), matrixid.RoomID(roomID))
	if err != nil {
		return h.rsErrorOr(err, "visibility", unknownRoom(roomID))
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
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	if !dev.IsAdmin {
		m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID))
		if err != nil {
			return h.rsErrorOr(err, "membership", unknownRoom(roomID))
		}
		level, needed, err := h.powerLevel(ctx, roomID, dev.UserID, spec.MRoomCanonicalAlias)
		if err != nil {
			return h.rsError(err, "power levels")
		}
		if m != "join" || level < needed {
			return httputil.Forbidden("You may not change this room's directory visibility")
		}
	}
	if err := h.rs.SetRoomVisibility(ctx, matrixid.RoomID(roomID), visibility); err != nil {
		return h.rsErrorOr(err, "visibility", unknownRoom(roomID))
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
	if body.IncludeAllNetworks && body.ThirdPartyInstanceID != "" {
		return httputil.InvalidParam("include_all_networks and third_party_instance_id cannot be used together")
	}
	if body.Server != "" && body.Server != h.server {
		return h.remotePublicRooms(req, body)
	}
	if body.Since != "" {
		if n, err := strconv.Atoi(body.Since); err != nil || n < 0 {
			return httputil.InvalidParam("Invalid since token")
		}
	}
	resp, err := h.rs.QueryPublicRooms(req.Context(), &rsapi.PublicRoomsRequest{Limit: body.Limit, Since: body.Since, Filter: body.Filter.GenericSearchTerm,
		ThirdPartyInstanceID: body.ThirdPartyInstanceID, AllNetworks: body.IncludeAllNetworks})
	if err != nil {
		return h.rsError(err, "public rooms")
	}
	return httputil.OK(resp)
}

// remotePublicRooms pages another server's directory over federation,
// caching each page for 30 s (directory views are opened repeatedly).
func (h *roomRoutes) remotePublicRooms(req *http.Request, body publicRoomsBody) httputil.JSONResponse {
	if h.c.fed == nil {
		return httputil.NotFound("Other servers' directories need federation, which is disabled")
	}
	if len(body.Server) > 255 || strings.ContainsAny(body.Server, "/?#@ ") {
		return httputil.InvalidParam("Invalid server name %q", body.Server)
	}
	q := fedapi.PublicRoomsQuery{Limit: min(body.Limit, 500), Since: body.Since, Filter: body.Filter.GenericSearchTerm,
		IncludeAllNetworks: body.IncludeAllNetworks, ThirdPartyInstanceID: body.ThirdPartyInstanceID}
	key, _ := json.Marshal([]any{body.Server, q})
	page, err := h.remoteDirectories.get(req.Context(), string(key), func(ctx context.Context) (json.RawMessage, error) {
		return h.c.fed.QueryPublicRooms(ctx, body.Server, q)
	})
	if err != nil {
		return h.rsError(err, "remote public rooms")
	}
	return httputil.OK(page)
}
