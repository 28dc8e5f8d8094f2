package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

func (h *roomRoutes) checkLocalAlias(alias string) *httputil.JSONResponse {
	if !matrixrules.ValidRoomAlias(alias) {
		r := httputil.InvalidParam("Invalid room alias %q", alias)
		return &r
	}
	if !strings.HasSuffix(alias, ":"+h.server) {
		r := httputil.InvalidParam("Room alias %s is not on this server", alias)
		return &r
	}
	return nil
}

func (h *roomRoutes) putAlias(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if dev.IsGuest {
		return httputil.GuestForbidden()
	}
	ctx := req.Context()
	alias := req.PathValue("roomAlias")
	var body struct {
		RoomID string `json:"room_id"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if r := h.checkLocalAlias(alias); r != nil {
		return *r
	}
	if r := shadowBanned(dev, false); r != nil {
		return *r
	}
	if r := h.c.appservices.checkAlias(dev, alias); r != nil {
		return *r
	}
	if body.RoomID == "" {
		return httputil.MissingParam("Missing room_id")
	}
	if r := checkRoomID(body.RoomID); r != nil {
		return *r
	}
	if m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(body.RoomID), matrixid.UserID(dev.UserID)); err != nil {
		return h.rsErrorOr(err, "membership", unknownRoom(body.RoomID))
	} else if m != "join" && !dev.IsAdmin {
		return httputil.Forbidden("You must be in the room to give it an alias")
	}
	if err := h.rs.SetRoomAlias(ctx, alias, matrixid.RoomID(body.RoomID), matrixid.UserID(dev.UserID)); err != nil {
		if e, ok := rsapi.AsError(err); ok && e.Code == rsapi.CodeInUse {
			return httputil.Error(http.StatusConflict, "M_UNKNOWN", "Room alias %s already exists", alias)
		}
		return h.rsError(err, "set alias")
	}
	return httputil.Empty()
}

func (h *roomRoutes) getAlias(req *http.Request) httputil.JSONResponse {
	alias := req.PathValue("roomAlias")
	if !matrixrules.ValidRoomAlias(alias) {
		return httputil.InvalidParam("Invalid room alias %q", alias)
	}
	if _, server, _ := strings.Cut(alias, ":"); server != h.server {
		return h.getRemoteAlias(req, alias, server)
	}
	roomID, err := h.queryAlias(req.Context(), alias)
	if err != nil {
		return h.rsError(err, "alias")
	}
	if roomID == "" {
		return httputil.NotFound("Room alias %s not found", alias)
	}
	return httputil.OK(map[string]any{"room_id": roomID, "servers": []string{h.server}})
}

// getRemoteAlias asks the alias's server (/query/directory), caching the
// answer for a minute; M_NOT_FOUND only when that server said so.
func (h *roomRoutes) getRemoteAlias(req *http.Request, alias, server string) httputil.JSONResponse {
	if h.c.fed == nil {
		return httputil.NotFound("Aliases of other servers need federation, which is disabled")
	}
	ra, err := h.remoteAliases.get(req.Context(), alias, func(ctx context.Context) (*fedapi.RoomAlias, error) {
		return h.c.fed.QueryRoomAlias(ctx, alias)
	})
	if err != nil {
		return h.rsError(err, "remote alias")
	}
	servers := ra.Servers
	if len(servers) == 0 {
		servers = []string{server}
	}
	return httputil.OK(map[string]any{"room_id": ra.RoomID, "servers": servers})
}

// deleteAlias: the alias's creator, a server admin, or a room member who
// may change the canonical alias.
func (h *roomRoutes) deleteAlias(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	alias := req.PathValue("roomAlias")
	if !matrixrules.ValidRoomAlias(alias) {
		return httputil.InvalidParam("Invalid room alias %q", alias)
	}
	roomID, creator, err := h.rs.QueryAlias(ctx, alias)
	if err != nil {
		return h.rsError(err, "alias")
	}
	if roomID == "" {
		return httputil.NotFound("Room alias %s not found", alias)
	}
	if r := h.c.appservices.checkAlias(dev, alias); r != nil {
		return *r
	}
	if creator != matrixid.UserID(dev.UserID) && !dev.IsAdmin {
		level, needed, err := h.powerLevel(ctx, string(roomID), dev.UserID, spec.MRoomCanonicalAlias)
		if err != nil {
			return h.rsError(err, "power levels")
		}
		m, _, _ := h.rs.QueryMembership(ctx, roomID, matrixid.UserID(dev.UserID))
		if m != "join" || level < needed {
			return httputil.Forbidden("You may not remove this alias")
		}
	}
	if err := h.rs.RemoveRoomAlias(ctx, alias); err != nil {
		return h.rsError(err, "remove alias")
	}
	h.dropCanonicalAlias(ctx, dev.UserID, string(roomID), alias)
	return httputil.Empty()
}

// dropCanonicalAlias takes a deleted alias out of the room's
// m.room.canonical_alias (alias and alt_aliases), sent as the user who
// deleted it, so the room no longer advertises it. The deletion stands
// even when the user may not change that event (the spec recommends it).
func (h *roomRoutes) dropCanonicalAlias(ctx context.Context, userID, roomID, alias string) {
	content, _, err := h.stateContent(ctx, roomID, spec.MRoomCanonicalAlias, "")
	if err != nil || content == nil {
		return
	}
	var c map[string]any
	if json.Unmarshal(content, &c) != nil || c == nil {
		return
	}
	changed := false
	if c["alias"] == alias {
		delete(c, "alias")
		changed = true
	}
	if alts, ok := c["alt_aliases"].([]any); ok {
		kept := make([]any, 0, len(alts))
		for _, a := range alts {
			if a != alias {
				kept = append(kept, a)
			}
		}
		if len(kept) != len(alts) {
			c["alt_aliases"], changed = kept, true
			if len(kept) == 0 {
				delete(c, "alt_aliases")
			}
		}
	}
	if !changed {
		return
	}
	sk := ""
	if _, r := h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(userID),
		Type: spec.MRoomCanonicalAlias, StateKey: &sk, Content: mustMarshal(c)}, nil, unknownRoom(roomID)); r != nil {
		h.c.base.Log.Info("deleted alias stays in the canonical alias event", "room_id", roomID, "alias", alias, "status", r.Code)
	}
}

func (h *roomRoutes) roomAliases(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	at, r := h.visibleState(ctx, dev, roomID)
	if r != nil {
		return *r
	}
	if at != "" {
		return httputil.Forbidden("You are not in this room")
	}
	aliases, err := h.rs.QueryAliasesForRoom(ctx, matrixid.RoomID(roomID))
	if err != nil {
		return h.rsError(err, "aliases")
	}
	if aliases == nil {
		aliases = []string{}
	}
	return httputil.OK(map[string]any{"aliases": aliases})
}
