package adminapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// roomJSON is a room as the Synapse admin API shows it.
type roomJSON struct {
	RoomID             string  `json:"room_id"`
	Name               *string `json:"name"`
	Topic              *string `json:"topic,omitempty"`
	Avatar             *string `json:"avatar,omitempty"`
	CanonicalAlias     *string `json:"canonical_alias"`
	JoinedMembers      int     `json:"joined_members"`
	JoinedLocalMembers int     `json:"joined_local_members"`
	Version            string  `json:"version"`
	Creator            string  `json:"creator"`
	Encryption         *string `json:"encryption"`
	Federatable        bool    `json:"federatable"`
	Public             bool    `json:"public"`
	JoinRules          *string `json:"join_rules"`
	GuestAccess        *string `json:"guest_access"`
	HistoryVisibility  *string `json:"history_visibility"`
	StateEvents        int     `json:"state_events"`
	RoomType           *string `json:"room_type"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// roomDetails builds a room's admin view from its current state.
func (a *AdminAPI) roomDetails(ctx context.Context, roomID string) (*roomJSON, error) {
	version, err := a.rooms.QueryRoomVersion(ctx, matrixid.RoomID(roomID))
	if err != nil {
		return nil, err
	}
	state, err := a.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), nil)
	if err != nil {
		return nil, err
	}
	r := &roomJSON{RoomID: roomID, Version: version, StateEvents: len(state), Federatable: true}
	suffix := ":" + a.serverName
	for _, ev := range state {
		c := ev.Content()
		switch ev.Type() {
		case spec.MRoomCreate:
			r.Creator = ev.SenderID().ToUserID().String()
			if f := gjson.GetBytes(c, "m\\.federate"); f.Exists() {
				r.Federatable = f.Bool()
			}
			if cr := gjson.GetBytes(c, "creator").Str; cr != "" {
				r.Creator = cr
			}
			r.RoomType = strPtr(gjson.GetBytes(c, "type").Str)
		case spec.MRoomName:
			r.Name = strPtr(gjson.GetBytes(c, "name").Str)
		case spec.MRoomTopic:
			r.Topic = strPtr(gjson.GetBytes(c, "topic").Str)
		case spec.MRoomAvatar:
			r.Avatar = strPtr(gjson.GetBytes(c, "url").Str)
		case spec.MRoomCanonicalAlias:
			r.CanonicalAlias = strPtr(gjson.GetBytes(c, "alias").Str)
		case spec.MRoomEncryption:
			r.Encryption = strPtr(gjson.GetBytes(c, "algorithm").Str)
		case spec.MRoomJoinRules:
			r.JoinRules = strPtr(gjson.GetBytes(c, "join_rule").Str)
		case spec.MRoomGuestAccess:
			r.GuestAccess = strPtr(gjson.GetBytes(c, "guest_access").Str)
		case spec.MRoomHistoryVisibility:
			r.HistoryVisibility = strPtr(gjson.GetBytes(c, "history_visibility").Str)
		case spec.MRoomMember:
			if gjson.GetBytes(c, "membership").Str == "join" {
				r.JoinedMembers++
				if sk := ev.StateKey(); sk != nil && strings.HasSuffix(*sk, suffix) {
					r.JoinedLocalMembers++
				}
			}
		}
	}
	vis, err := a.rooms.QueryRoomVisibility(ctx, matrixid.RoomID(roomID))
	if err != nil {
		return nil, err
	}
	r.Public = vis == "public"
	return r, nil
}

// roomOrders are the order_by values of GET /v1/rooms, each a comparison.
var roomOrders = map[string]func(a, b *roomJSON) int{
	"name":                 func(a, b *roomJSON) int { return strings.Compare(deref(a.Name), deref(b.Name)) },
	"canonical_alias":      func(a, b *roomJSON) int { return strings.Compare(deref(a.CanonicalAlias), deref(b.CanonicalAlias)) },
	"joined_members":       func(a, b *roomJSON) int { return b.JoinedMembers - a.JoinedMembers },
	"joined_local_members": func(a, b *roomJSON) int { return b.JoinedLocalMembers - a.JoinedLocalMembers },
	"version":              func(a, b *roomJSON) int { return strings.Compare(a.Version, b.Version) },
	"creator":              func(a, b *roomJSON) int { return strings.Compare(a.Creator, b.Creator) },
	"state_events":         func(a, b *roomJSON) int { return b.StateEvents - a.StateEvents },
	"room_id":              func(a, b *roomJSON) int { return strings.Compare(a.RoomID, b.RoomID) },
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// listRooms: GET /_synapse/admin/v1/rooms?from&limit&order_by&dir&search_term.
// Every room is read to sort and filter, so it costs O(rooms) per call.
func (a *AdminAPI) listRooms(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	q := req.URL.Query()
	from, limit, e := paging(req, 100)
	if e != nil {
		return *e
	}
	orderBy := q.Get("order_by")
	if orderBy == "" {
		orderBy = "joined_members"
	}
	cmp, ok := roomOrders[orderBy]
	if !ok {
		return httputil.InvalidParam("order_by %q is not supported", orderBy)
	}
	dir := q.Get("dir")
	if dir != "" && dir != "f" && dir != "b" {
		return httputil.InvalidParam("dir must be f or b")
	}
	term := strings.ToLower(q.Get("search_term"))
	if len(term) > 255 {
		return httputil.InvalidParam("search_term is at most 255 bytes")
	}
	ids, err := a.rooms.QueryAllRooms(req.Context())
	if err != nil {
		return a.fail(err, "list rooms")
	}
	var rooms []*roomJSON
	for _, id := range ids {
		r, err := a.roomDetails(req.Context(), id)
		if err != nil {
			if errors.Is(err, rsapi.ErrRoomNotFound) {
				continue // known only as an outlier (e.g. an invite)
			}
			return a.fail(err, "room details")
		}
		if term != "" && !strings.Contains(strings.ToLower(deref(r.Name)+"\x00"+deref(r.CanonicalAlias)+"\x00"+r.RoomID), term) {
			continue
		}
		rooms = append(rooms, r)
	}
	slices.SortStableFunc(rooms, cmp)
	if dir == "b" {
		slices.Reverse(rooms)
	}
	total := len(rooms)
	start := min(from, total)
	end := min(start+limit, total)
	body := map[string]any{"rooms": nonNil(rooms[start:end]), "offset": from, "total_rooms": total}
	if end < total {
		body["next_batch"] = end
	}
	if start > 0 {
		body["prev_batch"] = max(0, start-limit)
	}
	return httputil.OK(body)
}

// pathRoom reads the {roomId} path segment and checks the room exists.
func (a *AdminAPI) pathRoom(req *http.Request) (string, *httputil.JSONResponse) {
	roomID := req.PathValue("roomId")
	if !strings.HasPrefix(roomID, "!") || len(roomID) > 255 {
		r := httputil.InvalidParam("%q is not a room ID", roomID)
		return "", &r
	}
	if _, err := a.rooms.QueryRoomVersion(req.Context(), matrixid.RoomID(roomID)); err != nil {
		r := a.fail(err, "room version")
		if errors.Is(err, rsapi.ErrRoomNotFound) {
			r = httputil.NotFound("Room not found")
		}
		return "", &r
	}
	return roomID, nil
}

// getRoom: GET /_synapse/admin/v1/rooms/{roomId}.
func (a *AdminAPI) getRoom(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	roomID, e := a.pathRoom(req)
	if e != nil {
		return *e
	}
	r, err := a.roomDetails(req.Context(), roomID)
	if err != nil {
		return a.fail(err, "room details")
	}
	return httputil.OK(r)
}

// roomMembers: GET /_synapse/admin/v1/rooms/{roomId}/members (joined).
func (a *AdminAPI) roomMembers(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	roomID, e := a.pathRoom(req)
	if e != nil {
		return *e
	}
	state, err := a.rooms.QueryCurrentState(req.Context(), matrixid.RoomID(roomID), nil)
	if err != nil {
		return a.fail(err, "room state")
	}
	members := []string{}
	for _, ev := range state {
		if ev.Type() == spec.MRoomMember && ev.StateKey() != nil && gjson.GetBytes(ev.Content(), "membership").Str == "join" {
			members = append(members, *ev.StateKey())
		}
	}
	slices.Sort(members)
	return httputil.OK(map[string]any{"members": members, "total": len(members)})
}

// roomState: GET /_synapse/admin/v1/rooms/{roomId}/state.
func (a *AdminAPI) roomState(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	roomID, e := a.pathRoom(req)
	if e != nil {
		return *e
	}
	state, err := a.rooms.QueryCurrentState(req.Context(), matrixid.RoomID(roomID), nil)
	if err != nil {
		return a.fail(err, "room state")
	}
	return httputil.OK(map[string]any{"state": nonNil(rsapi.ToClientEvents(state, rsapi.FormatOptions{}))})
}
