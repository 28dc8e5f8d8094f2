package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// roomRoutes holds what the room handlers share.
type roomRoutes struct {
	c        *ClientAPI
	rs       rsapi.RoomserverAPI
	server   string
	msgLimit *httputil.Limiter
	// remoteAliases caches aliases other servers resolved (directory_alias.go).
	remoteAliases *ttlCache[*fedapi.RoomAlias]
	// remoteDirectories caches pages of other servers' room directories.
	remoteDirectories *ttlCache[json.RawMessage]
	// remoteHierarchies caches other servers' answers about spaces
	// (room_hierarchy_remote.go).
	remoteHierarchies *remoteHierarchyCache
	// remoteSummaryLimit limits, per IP, room summaries without an
	// access token that need another server.
	remoteSummaryLimit *httputil.Limiter
	// createLimit limits createRoom per user.
	createLimit *httputil.Limiter
	// overrides are users' own message rates (admin API).
	overrides *overrideLimiters
}

// checkMsgLimit applies the per-user message limit, which appservice
// users are exempt from when their registration says so, and which a
// user's own rate (admin API override_ratelimit) replaces.
func (h *roomRoutes) checkMsgLimit(req *http.Request, dev *uapi.Device) *httputil.JSONResponse {
	if dev.RateLimitExempt {
		return nil
	}
	if dev.RateLimit != nil {
		return h.overrides.check(req, dev)
	}
	return h.msgLimit.Check(req, dev.UserID)
}

// input sends local events (one room) and maps a failure to a response:
// the first rejected event's error, or an internal error.
func (h *roomRoutes) input(ctx context.Context, events ...rsapi.InputRoomEvent) (*rsapi.InputRoomEventsResponse, *httputil.JSONResponse) {
	return h.inputOr(ctx, httputil.NotFound("Unknown room"), events...)
}

// inputOr is input answering unknown when the room does not exist: the
// input call says so itself, so writes make no separate lookup first.
func (h *roomRoutes) inputOr(ctx context.Context, unknown httputil.JSONResponse, events ...rsapi.InputRoomEvent) (*rsapi.InputRoomEventsResponse, *httputil.JSONResponse) {
	resp, err := h.rs.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: events})
	if err != nil {
		r := h.rsErrorOr(err, "input events", unknown)
		return nil, &r
	}
	for _, res := range resp.Results {
		if res.Err != nil {
			r := h.rsError(res.Err, "")
			return resp, &r
		}
	}
	return resp, nil
}

// sendLocal sends one local event to an existing room and returns its ID;
// unknown is the answer if the room does not exist.
func (h *roomRoutes) sendLocal(ctx context.Context, le *rsapi.LocalEvent, txn *rsapi.TransactionID, unknown httputil.JSONResponse) (string, *httputil.JSONResponse) {
	resp, errResp := h.inputOr(ctx, unknown, rsapi.InputRoomEvent{Kind: rsapi.KindNew, Local: le, TransactionID: txn})
	if errResp != nil {
		return "", errResp
	}
	return string(resp.Results[0].EventID), nil
}

// unknownRoom is the usual answer for a room this server does not know.
func unknownRoom(roomID string) httputil.JSONResponse {
	return httputil.NotFound("Unknown room %s", roomID)
}

// rsErrorOr is rsError answering unknown for "room not found": a
// handler's first roomserver call answers whether the room exists.
func (h *roomRoutes) rsErrorOr(err error, action string, unknown httputil.JSONResponse) httputil.JSONResponse {
	if errors.Is(err, rsapi.ErrRoomNotFound) {
		return unknown
	}
	return h.rsError(err, action)
}

// checkRoomID refuses what cannot be a room ID, before any lookup.
func checkRoomID(roomID string) *httputil.JSONResponse {
	if !strings.HasPrefix(roomID, "!") {
		r := httputil.InvalidParam("Invalid room ID")
		return &r
	}
	return nil
}

// roomExists is false (and a response) for unknown or malformed room IDs,
// for reads that would otherwise not tell an unknown room from an empty
// answer.
func (h *roomRoutes) roomExists(ctx context.Context, roomID string, unknown httputil.JSONResponse) *httputil.JSONResponse {
	if r := checkRoomID(roomID); r != nil {
		return r
	}
	if _, err := h.rs.QueryRoomVersion(ctx, matrixid.RoomID(roomID)); err != nil {
		if errors.Is(err, rsapi.ErrRoomNotFound) {
			return &unknown
		}
		r := h.rsError(err, "room version")
		return &r
	}
	return nil
}

// stateContent reads one current state event's content (nil if none).
func (h *roomRoutes) stateContent(ctx context.Context, roomID, evType, stateKey string) (json.RawMessage, *rsapi.Event, error) {
	evs, err := h.rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: matrixid.EventType(evType), StateKey: stateKey}})
	if err != nil || len(evs) == 0 {
		return nil, nil, err
	}
	return evs[0].Content(), evs[0], nil
}

// powerLevels reads the room's create and power levels events in one
// query and applies the room version's power rules to them.
func (h *roomRoutes) powerLevels(ctx context.Context, roomID string) (*matrixrules.PowerLevels, error) {
	evs, err := h.rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: spec.MRoomCreate}, {Type: spec.MRoomPowerLevels}})
	if err != nil {
		return nil, err
	}
	var room matrixrules.Room
	for _, ev := range evs {
		switch ev.Type() {
		case spec.MRoomCreate:
			room.CreateSender, room.CreateContent = string(ev.SenderID()), ev.Content()
			room.Version = matrixrules.VersionOfCreate(room.CreateContent)
		case spec.MRoomPowerLevels:
			room.PowerLevels = ev.Content()
		}
	}
	return matrixrules.NewPowerLevels(room)
}

// powerLevel returns the user's power level and the level needed to send
// a state event of evType (state) in the room's current state.
func (h *roomRoutes) powerLevel(ctx context.Context, roomID, userID, evType string) (user, needed int64, err error) {
	pl, err := h.powerLevels(ctx, roomID)
	if err != nil {
		return 0, 0, err
	}
	return pl.UserLevel(userID), pl.StateLevel(evType), nil
}

// gjsonEscape escapes gjson path metacharacters in a key.
func gjsonEscape(k string) string {
	r := strings.NewReplacer(".", `\.`, "*", `\*`, "?", `\?`, "|", `\|`, "#", `\#`, "@", `\@`, "!", `\!`, "=", `\=`, "<", `\<`, ">", `\>`, "%", `\%`)
	return r.Replace(k)
}

// profile is the user's display name and avatar for member events.
func (h *roomRoutes) profile(ctx context.Context, userID string) (string, string) {
	if h.c.users == nil {
		return "", ""
	}
	if dn, av, err := h.c.users.QueryProfile(ctx, matrixid.UserID(userID)); err == nil {
		return dn, av
	}
	return "", ""
}

// addProfile puts userID's display name and avatar (when set) into a
// member event's content, as the spec asks of joins, invites and knocks.
func (h *roomRoutes) addProfile(ctx context.Context, userID string, content map[string]any) {
	dn, av := h.profile(ctx, userID)
	if dn != "" {
		content["displayname"] = dn
	}
	if av != "" {
		content["avatar_url"] = av
	}
}

// visibleState decides which state a user may read: current state when
// joined (or when the room is world-readable), the state when they left
// if they were a member, otherwise none (403).
func (h *roomRoutes) visibleState(ctx context.Context, dev *uapi.Device, roomID string) (atEventID string, resp *httputil.JSONResponse) {
	notMember := httputil.Forbidden("You aren't a member of the room and weren't previously a member of the room.")
	if r := h.roomExists(ctx, roomID, notMember); r != nil {
		return "", r
	}
	m, evID, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID))
	if err != nil {
		r := h.rsError(err, "membership")
		return "", &r
	}
	switch m {
	case "join":
		return "", nil
	case "leave", "ban":
		return string(evID), nil
	}
	hv, _, err := h.stateContent(ctx, roomID, spec.MRoomHistoryVisibility, "")
	if err != nil {
		r := h.rsError(err, "history visibility")
		return "", &r
	}
	if gjson.GetBytes(hv, "history_visibility").Str == rsapi.VisibilityWorldReadable {
		return "", nil
	}
	return "", &notMember
}

// roomState returns current state, or the state after atEventID.
func (h *roomRoutes) roomState(ctx context.Context, roomID, atEventID string, tuples []rsapi.StateKey) ([]*rsapi.Event, error) {
	if atEventID == "" {
		return h.rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), tuples)
	}
	return h.rs.QueryStateAfterEvent(ctx, matrixid.RoomID(roomID), matrixid.EventID(atEventID), tuples)
}

// resolveRoom maps a room ID or local alias to a room ID.
func (h *roomRoutes) resolveRoom(ctx context.Context, idOrAlias string) (string, *httputil.JSONResponse) {
	if strings.HasPrefix(idOrAlias, "!") {
		return idOrAlias, nil
	}
	if !matrixrules.ValidRoomAlias(idOrAlias) {
		r := httputil.InvalidParam("Invalid room ID or alias %q", idOrAlias)
		return "", &r
	}
	roomID, err := h.queryAlias(ctx, idOrAlias)
	if err != nil {
		r := h.rsError(err, "alias")
		return "", &r
	}
	if roomID == "" {
		r := httputil.NotFound("Room alias %s not found", idOrAlias)
		if !strings.HasSuffix(idOrAlias, ":"+h.server) {
			r = httputil.NotFound("Room alias %s is on another server; joining over federation is not supported yet", idOrAlias)
		}
		return "", &r
	}
	return roomID, nil
}

// queryAlias resolves an alias, asking the appservices when it is in one
// of their namespaces and unknown: the bridge may create it there and then.
func (h *roomRoutes) queryAlias(ctx context.Context, alias string) (string, error) {
	roomID, _, err := h.rs.QueryAlias(ctx, alias)
	if err != nil || roomID != "" || !h.c.appservices.askForAlias(ctx, alias) {
		return string(roomID), err
	}
	roomID, _, err = h.rs.QueryAlias(ctx, alias)
	return string(roomID), err
}
