package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
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
	// createLimit limits createRoom per user.
	createLimit *httputil.Limiter
}

// checkMsgLimit applies the per-user message limit, which appservice
// users are exempt from when their registration says so.
func (h *roomRoutes) checkMsgLimit(req *http.Request, dev *uapi.Device) *httputil.JSONResponse {
	if dev.RateLimitExempt {
		return nil
	}
	return h.msgLimit.Check(req, dev.UserID)
}

// input sends local events (one room) and maps a failure to a response:
// the first rejected event's error, or an internal error.
func (h *roomRoutes) input(ctx context.Context, events ...rsapi.InputRoomEvent) (*rsapi.InputRoomEventsResponse, *httputil.JSONResponse) {
	resp, err := h.rs.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: events})
	if err != nil {
		r := h.rsError(err, "input events")
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

// sendLocal sends one local event and returns its ID.
func (h *roomRoutes) sendLocal(ctx context.Context, le *rsapi.LocalEvent, txn *rsapi.TransactionID) (string, *httputil.JSONResponse) {
	resp, errResp := h.input(ctx, rsapi.InputRoomEvent{Kind: rsapi.KindNew, Local: le, TransactionID: txn})
	if errResp != nil {
		return "", errResp
	}
	return resp.Results[0].EventID, nil
}

// roomExists is false (and a response) for unknown or malformed room IDs.
func (h *roomRoutes) roomExists(ctx context.Context, roomID string, unknown httputil.JSONResponse) *httputil.JSONResponse {
	if !strings.HasPrefix(roomID, "!") {
		r := httputil.InvalidParam("Invalid room ID")
		return &r
	}
	if _, err := h.rs.QueryRoomVersion(ctx, roomID); err != nil {
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
	evs, err := h.rs.QueryCurrentState(ctx, roomID, []rsapi.StateKey{{Type: evType, StateKey: stateKey}})
	if err != nil || len(evs) == 0 {
		return nil, nil, err
	}
	return evs[0].Content(), evs[0], nil
}

// powerLevel returns the user's power level and the level needed to send
// a state event of evType (state) in the room's current state.
func (h *roomRoutes) powerLevel(ctx context.Context, roomID, userID, evType string) (user, needed int64, err error) {
	create, _, err := h.stateContent(ctx, roomID, "m.room.create", "")
	if err != nil {
		return 0, 0, err
	}
	_, createEv, _ := h.stateContent(ctx, roomID, "m.room.create", "")
	pl, _, err := h.stateContent(ctx, roomID, "m.room.power_levels", "")
	if err != nil {
		return 0, 0, err
	}
	needed = 50
	if pl == nil {
		if createEv != nil && string(createEv.SenderID()) == userID {
			return 100, needed, nil
		}
		return 0, needed, nil
	}
	p := gjson.ParseBytes(pl)
	if v := p.Get("state_default"); v.Exists() {
		needed = v.Int()
	}
	if v := p.Get("events." + gjsonEscape(evType)); v.Exists() {
		needed = v.Int()
	}
	user = p.Get("users_default").Int()
	if v := p.Get("users." + gjsonEscape(userID)); v.Exists() {
		user = v.Int()
	}
	if createEv != nil {
		if rv := gjson.GetBytes(create, "room_version").Str; rv == "12" {
			if string(createEv.SenderID()) == userID {
				return 1 << 53, needed, nil
			}
			for _, c := range gjson.GetBytes(create, "additional_creators").Array() {
				if c.Str == userID {
					return 1 << 53, needed, nil
				}
			}
		}
	}
	return user, needed, nil
}

// gjsonEscape escapes gjson path metacharacters in a key.
func gjsonEscape(k string) string {
	r := strings.NewReplacer(".", `\.`, "*", `\*`, "?", `\?`, "|", `\|`, "#", `\#`, "@", `\@`, "!", `\!`, "=", `\=`, "<", `\<`, ">", `\>`, "%", `\%`)
	return r.Replace(k)
}

// profile is the user's display name and avatar for member events.
func (h *roomRoutes) profile(ctx context.Context, userID string) (string, string) {
	type profiler interface {
		QueryProfile(ctx context.Context, userID string) (string, string, error)
	}
	if p, ok := any(h.c.users).(profiler); ok && p != nil {
		if dn, av, err := p.QueryProfile(ctx, userID); err == nil {
			return dn, av
		}
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
	m, evID, err := h.rs.QueryMembership(ctx, roomID, dev.UserID)
	if err != nil {
		r := h.rsError(err, "membership")
		return "", &r
	}
	switch m {
	case "join":
		return "", nil
	case "leave", "ban":
		return evID, nil
	}
	hv, _, err := h.stateContent(ctx, roomID, "m.room.history_visibility", "")
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
		return h.rs.QueryCurrentState(ctx, roomID, tuples)
	}
	return h.rs.QueryStateAfterEvent(ctx, roomID, atEventID, tuples)
}

// validRoomAlias checks "#localpart:server".
func validRoomAlias(alias string) bool {
	if len(alias) < 4 || len(alias) > 255 || alias[0] != '#' {
		return false
	}
	local, server, ok := strings.Cut(alias[1:], ":")
	return ok && local != "" && server != "" && !strings.ContainsAny(local, " \t\n:")
}

// resolveRoom maps a room ID or local alias to a room ID.
func (h *roomRoutes) resolveRoom(ctx context.Context, idOrAlias string) (string, *httputil.JSONResponse) {
	if strings.HasPrefix(idOrAlias, "!") {
		return idOrAlias, nil
	}
	if !validRoomAlias(idOrAlias) {
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
		return roomID, err
	}
	roomID, _, err = h.rs.QueryAlias(ctx, alias)
	return roomID, err
}
