package clientapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

const (
	// roomSummaryMaxVia bounds the via servers a summary request may name.
	roomSummaryMaxVia = 10
	// roomSummaryRemoteBudget bounds the time spent asking other servers.
	roomSummaryRemoteBudget = 20 * time.Second
)

// roomSummaryResponse is a room summary: the room as a hierarchy shows
// it, without children_state, with the caller's membership.
type roomSummaryResponse struct {
	rsapi.HierarchyRoom
	ChildrenState []rsapi.StrippedChild `json:"children_state,omitempty"` // hides the embedded one
	Membership    string                `json:"membership,omitempty"`
}

// roomSummary serves MSC3266's GET /_matrix/client/v1/room_summary/{roomIdOrAlias}
// (a room preview before joining), with or without an access token:
// anyone sees a world-readable room or one they could join or knock on
// (restricted: members of an allowed room), members and invitees see
// their room, with their membership. A room this server is not in is
// asked of the via servers (then the alias's or room ID's server) with
// federation /hierarchy, answers cached as for /hierarchy.
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
	via := req.URL.Query()["via"]
	if len(via) > roomSummaryMaxVia {
		return httputil.InvalidParam("At most %d via servers", roomSummaryMaxVia)
	}
	for _, s := range via {
		if len(s) == 0 || len(s) > 255 || strings.ContainsAny(s, "/?#@ ") {
			return httputil.InvalidParam("Invalid server name %q", s)
		}
	}
	roomID := target
	switch {
	case strings.HasPrefix(target, "#"):
		if !matrixrules.ValidRoomAlias(target) {
			return httputil.InvalidParam("Invalid room alias %q", target)
		}
		id, servers, r := h.summaryAlias(req, dev, target)
		if r != nil {
			return *r
		}
		roomID, via = id, append(via, servers...)
	default:
		if r := checkRoomID(target); r != nil {
			return httputil.InvalidParam("%q is not a room ID or alias", target)
		}
	}
	notFound := httputil.NotFound("Room %s not found or not visible", target)
	room, r := h.summaryRoom(req, dev, roomID, via)
	if r != nil {
		return *r
	}
	if room == nil {
		return notFound // the same answer for unknown and hidden rooms
	}
	var members map[string]string
	memberOf := func(id string) string {
		if dev == nil {
			return ""
		}
		if m, ok := members[id]; ok {
			return m
		}
		m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(id), matrixid.UserID(dev.UserID))
		if err != nil {
			m = ""
		}
		if members == nil {
			members = map[string]string{}
		}
		members[id] = m
		return m
	}
	membership := memberOf(roomID)
	previewable := membership == "join" || membership == "invite" || membership == "knock" ||
		room.Preview().Previewable(func(id string) bool { return memberOf(id) == "join" })
	if !previewable {
		return notFound
	}
	return httputil.OK(roomSummaryResponse{HierarchyRoom: *room, Membership: membership})
}

// summaryAlias resolves an alias: here, or by asking its server (rate
// limited per IP without an access token).
func (h *roomRoutes) summaryAlias(req *http.Request, dev *uapi.Device, alias string) (string, []string, *httputil.JSONResponse) {
	ctx := req.Context()
	notFound := httputil.NotFound("Room alias %s not found", alias)
	if _, server, _ := strings.Cut(alias, ":"); server == h.server {
		id, err := h.queryAlias(ctx, alias)
		if err != nil {
			r := h.rsError(err, "room summary alias")
			return "", nil, &r
		}
		if id == "" {
			return "", nil, &notFound
		}
		return id, nil, nil
	}
	if h.c.fed == nil {
		return "", nil, &notFound
	}
	if dev == nil {
		if r := h.remoteSummaryLimit.Check(req, httputil.ClientIP(req)); r != nil {
			return "", nil, r
		}
	}
	ra, err := h.remoteAliases.get(ctx, alias, func(ctx context.Context) (*fedapi.RoomAlias, error) {
		return h.c.fed.QueryRoomAlias(ctx, alias)
	})
	if err != nil {
		r := h.rsError(err, "remote alias")
		return "", nil, &r
	}
	_, server, _ := strings.Cut(alias, ":")
	return ra.RoomID, append(slices.Clone(ra.Servers), server), nil
}

// summaryRoom describes roomID: from this server's state when it is in
// the room, else from another server's answer (its /hierarchy), else
// from what this server last knew. nil when nothing is known.
func (h *roomRoutes) summaryRoom(req *http.Request, dev *uapi.Device, roomID string, via []string) (*rsapi.HierarchyRoom, *httputil.JSONResponse) {
	ctx := req.Context()
	local, lerr := h.rs.QueryHierarchyRoom(ctx, matrixid.RoomID(roomID), false)
	if lerr == nil {
		if in, err := h.rs.QueryServerInRoom(ctx, matrixid.RoomID(roomID), h.server); err == nil && in {
			return local, nil
		}
	} else if _, ok := rsapi.AsError(lerr); !ok && !errors.Is(lerr, rsapi.ErrRoomNotFound) {
		r := h.rsError(lerr, "room summary")
		return nil, &r
	}
	mayFetch := true
	if dev == nil {
		if _, cached := h.remoteHierarchies.get(roomID + "|a"); !cached {
			if r := h.remoteSummaryLimit.Check(req, httputil.ClientIP(req)); r != nil {
				if lerr != nil {
					return nil, r
				}
				mayFetch = false
			}
		}
	}
	if lerr == nil && dev != nil { // known but not joined: perhaps only invited
		via = append(slices.Clone(via), h.inviterServer(ctx, roomID, dev.UserID)...)
	}
	remoteCtx, cancel := context.WithTimeout(ctx, roomSummaryRemoteBudget)
	defer cancel()
	rh, _, _ := h.remoteHierarchyErr(remoteCtx, roomID, via, false, mayFetch)
	if rh != nil {
		room := rh.resp.Room
		return &room, nil
	}
	if lerr == nil {
		return local, nil
	}
	return nil, nil
}
