package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Bounds on a createRoom request's lists: generous for people, and small
// enough that one request is a bounded amount of work.
const (
	maxCreateInvites      = 200
	maxCreateInvites3PID  = 50
	maxCreateInitialState = 100
	// maxCreatePLEntries bounds each map in power_level_content_override.
	maxCreatePLEntries = 500
	// inviteStep invites are input per roomserver request after the
	// room is made, so a room with many is created in short steps that
	// other rooms' events pass between.
	inviteStep = 50
)

type createRoomBody struct {
	Visibility                string            `json:"visibility"`
	RoomAliasName             string            `json:"room_alias_name"`
	Name                      *string           `json:"name"`
	Topic                     *string           `json:"topic"`
	Invite                    []string          `json:"invite"`
	Invite3PID                []json.RawMessage `json:"invite_3pid"`
	RoomVersion               string            `json:"room_version"`
	CreationContent           json.RawMessage   `json:"creation_content"`
	InitialState              []initialState    `json:"initial_state"`
	Preset                    string            `json:"preset"`
	IsDirect                  bool              `json:"is_direct"`
	PowerLevelContentOverride json.RawMessage   `json:"power_level_content_override"`
	Extra                     map[string]string `json:"-"`
}

type initialState struct {
	Type     string          `json:"type"`
	StateKey string          `json:"state_key"`
	Content  json.RawMessage `json:"content"`
}

// presetState is what each preset sets: join rule, history visibility,
// guest access, and whether invitees get the creator's power. public_chat
// sends no guest access event: absent means forbidden (the spec's preset
// table lists "forbidden"), and other servers send none, so the room's
// first events are the same everywhere (Complement
// TestInboundCanReturnMissingEvents counts them).
var presetState = map[string]struct {
	joinRule, history, guest string
	trusted                  bool
}{
	"private_chat":         {"invite", "shared", "can_join", false},
	"trusted_private_chat": {"invite", "shared", "can_join", true},
	"public_chat":          {"public", "shared", "", false},
}

func (h *roomRoutes) createRoom(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	if dev.IsGuest {
		return httputil.Error(http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN", "Guests cannot create rooms")
	}
	if r := h.createLimit.Check(req, dev.UserID); r != nil {
		return *r
	}
	var body createRoomBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if r := checkCreateBounds(&body); r != nil {
		return *r
	}
	if dev.ShadowBanned {
		// Appears to succeed; nothing is created, nobody invited.
		return httputil.OK(map[string]string{"room_id": h.fakeRoomID()})
	}
	if body.Visibility != "" && body.Visibility != "public" && body.Visibility != "private" {
		return httputil.BadJSON("visibility must be public or private")
	}
	if body.Preset == "" {
		body.Preset = "private_chat"
		if body.Visibility == "public" {
			body.Preset = "public_chat"
		}
	}
	preset, ok := presetState[body.Preset]
	if !ok {
		return httputil.BadJSON("Unknown preset %q", body.Preset)
	}
	version := body.RoomVersion
	if version == "" {
		version = h.c.base.Cfg.Rooms.DefaultVersion
	}
	for _, inv := range body.Invite {
		if _, _, ok := parseUserIDParts(inv); !ok {
			return httputil.InvalidParam("Invalid user ID to invite: %q", inv)
		}
	}
	for _, s := range body.InitialState {
		if s.Type == "" {
			return httputil.Error(http.StatusBadRequest, "M_INVALID_ROOM_STATE", "initial_state event without a type")
		}
		var obj map[string]json.RawMessage
		if len(s.Content) == 0 || json.Unmarshal(s.Content, &obj) != nil {
			return httputil.Error(http.StatusBadRequest, "M_INVALID_ROOM_STATE", "initial_state content must be an object")
		}
	}
	alias := ""
	if body.RoomAliasName != "" {
		alias = "#" + body.RoomAliasName + ":" + h.server
		if strings.ContainsAny(body.RoomAliasName, ": \t\n#") || !matrixrules.ValidRoomAlias(alias) {
			return httputil.InvalidParam("Invalid room_alias_name")
		}
		if r := h.c.appservices.checkAlias(dev, alias); r != nil {
			return *r
		}
		if existing, _, err := h.rs.QueryAlias(ctx, alias); err != nil {
			return h.rsError(err, "alias")
		} else if existing != "" {
			return httputil.Error(http.StatusBadRequest, "M_ROOM_IN_USE", "Room alias %s already exists", alias)
		}
	}

	var creation map[string]any
	if len(body.CreationContent) > 0 {
		if err := json.Unmarshal(body.CreationContent, &creation); err != nil {
			return httputil.BadJSON("creation_content must be an object")
		}
	}
	if creation == nil { // absent or null
		creation = map[string]any{}
	}
	creation["room_version"] = version
	if preset.trusted && matrixrules.FeaturesOf(version).PrivilegedCreators {
		addAdditionalCreators(creation, body.Invite)
	}
	events := []rsapi.InputRoomEvent{h.stateEv(dev, spec.MRoomCreate, "", creation)}
	events[0].Local.RoomVersion = version

	joinContent := map[string]any{"membership": "join"}
	h.addProfile(ctx, dev.UserID, joinContent)
	if body.IsDirect {
		joinContent["is_direct"] = true
	}
	events = append(events, h.stateEv(dev, spec.MRoomMember, dev.UserID, joinContent))

	pl, r := h.initialPowerLevels(dev.UserID, version, body, preset.trusted)
	if r != nil {
		return *r
	}
	events = append(events, h.stateEv(dev, spec.MRoomPowerLevels, "", pl))
	if alias != "" {
		events = append(events, h.stateEv(dev, spec.MRoomCanonicalAlias, "", map[string]any{"alias": alias}))
	}
	events = append(events,
		h.stateEv(dev, spec.MRoomJoinRules, "", map[string]any{"join_rule": preset.joinRule}),
		h.stateEv(dev, spec.MRoomHistoryVisibility, "", map[string]any{"history_visibility": preset.history}),
	)
	if preset.guest != "" {
		events = append(events, h.stateEv(dev, spec.MRoomGuestAccess, "", map[string]any{"guest_access": preset.guest}))
	}
	for _, s := range body.InitialState {
		ev := h.stateEv(dev, s.Type, s.StateKey, nil)
		ev.Local.Content = s.Content
		events = append(events, ev)
	}
	if body.Name != nil {
		events = append(events, h.stateEv(dev, spec.MRoomName, "", map[string]any{"name": *body.Name}))
	}
	if body.Topic != nil {
		// The plain topic and its text/plain m.topic form (spec 1.15).
		events = append(events, h.stateEv(dev, spec.MRoomTopic, "", map[string]any{
			"topic": *body.Topic, "m.topic": map[string]any{"m.text": []map[string]string{{"body": *body.Topic, "mimetype": "text/plain"}}},
		}))
	}
	resp, errResp := h.input(ctx, events...)
	if resp == nil || resp.RoomID == "" {
		if errResp != nil {
			return *errResp
		}
		return httputil.InternalError()
	}
	roomID := resp.RoomID
	if errResp == nil {
		errResp = h.createInvites(ctx, dev, string(roomID), body)
	}
	if alias != "" {
		if err := h.rs.SetRoomAlias(ctx, alias, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID)); err != nil {
			return h.rsError(err, "set alias")
		}
	}
	if body.Visibility == "public" {
		if err := h.rs.SetRoomVisibility(ctx, matrixid.RoomID(roomID), "public"); err != nil {
			return h.rsError(err, "publish")
		}
	}
	if errResp != nil {
		// The room exists but some requested state was refused: say so
		// (the client cannot get the room ID otherwise anyway).
		return *errResp
	}
	return httputil.OK(map[string]string{"room_id": string(roomID)})
}

// createInvites sends the invites of a new room: local invitees
// inviteStep per roomserver request (see inviteStep), users of other
// servers each through the federation invite their server countersigns.
func (h *roomRoutes) createInvites(ctx context.Context, dev *uapi.Device, roomID string, body createRoomBody) *httputil.JSONResponse {
	var locals []string
	for _, inv := range body.Invite {
		if !h.isRemoteUser(inv) {
			locals = append(locals, inv)
			continue
		}
		if r := h.remoteCreateInvite(ctx, dev.UserID, roomID, inv, body.IsDirect); r != nil {
			return r
		}
	}
	for start := 0; start < len(locals); start += inviteStep {
		var events []rsapi.InputRoomEvent
		for _, inv := range locals[start:min(start+inviteStep, len(locals))] {
			c := map[string]any{"membership": "invite"}
			if body.IsDirect {
				c["is_direct"] = true
			}
			h.addProfile(ctx, inv, c)
			ev := h.stateEv(dev, spec.MRoomMember, inv, c)
			ev.Local.RoomID = matrixid.RoomID(roomID)
			events = append(events, ev)
		}
		if _, errResp := h.input(ctx, events...); errResp != nil {
			return errResp
		}
	}
	return nil
}

// checkCreateBounds refuses a createRoom request with a list longer than
// its bound, before any work.
func checkCreateBounds(body *createRoomBody) *httputil.JSONResponse {
	over := func(field string, n, limit int) *httputil.JSONResponse {
		if n <= limit {
			return nil
		}
		r := httputil.BadJSON("%s has %d entries; at most %d allowed", field, n, limit)
		return &r
	}
	if r := over("invite", len(body.Invite), maxCreateInvites); r != nil {
		return r
	}
	if r := over("invite_3pid", len(body.Invite3PID), maxCreateInvites3PID); r != nil {
		return r
	}
	if r := over("initial_state", len(body.InitialState), maxCreateInitialState); r != nil {
		return r
	}
	if len(body.PowerLevelContentOverride) > 0 {
		var maps map[string]json.RawMessage
		if json.Unmarshal(body.PowerLevelContentOverride, &maps) == nil {
			for _, key := range []string{"users", "events", "notifications"} {
				var m map[string]json.RawMessage
				if json.Unmarshal(maps[key], &m) == nil {
					if r := over("power_level_content_override."+key, len(m), maxCreatePLEntries); r != nil {
						return r
					}
				}
			}
		}
	}
	return nil
}

// stateEv is a local state event for a room being created (no room ID
// yet: the roomserver fills it in).
func (h *roomRoutes) stateEv(dev *uapi.Device, evType, stateKey string, content any) rsapi.InputRoomEvent {
	sk := stateKey
	return rsapi.InputRoomEvent{Kind: rsapi.KindNew, Local: &rsapi.LocalEvent{
		Sender: matrixid.UserID(dev.UserID), Type: matrixid.EventType(evType), StateKey: &sk, Content: mustMarshal(content),
	}}
}

// addAdditionalCreators makes trusted_private_chat invitees creators of
// a v12+ room (they would get level 100 before v12), keeping any the
// client put in creation_content. A malformed list is left for the
// roomserver to refuse.
func addAdditionalCreators(creation map[string]any, invitees []string) {
	var list []any
	switch v := creation["additional_creators"].(type) {
	case nil:
	case []any:
		list = v
	default:
		return
	}
	for _, inv := range invitees {
		if !slices.Contains(list, any(inv)) {
			list = append(list, inv)
		}
	}
	if len(list) > 0 {
		creation["additional_creators"] = list
	}
}

// initialPowerLevels is the default power levels for a new room, with
// invitees raised for trusted_private_chat and the client's override
// merged on top. Privileged creators (v12) are implicitly all-powerful
// and must not be listed.
func (h *roomRoutes) initialPowerLevels(creator, version string, body createRoomBody, trusted bool) (map[string]any, *httputil.JSONResponse) {
	users := map[string]any{}
	if !matrixrules.FeaturesOf(version).PrivilegedCreators {
		users[creator] = 100
	}
	if trusted && !matrixrules.FeaturesOf(version).PrivilegedCreators {
		for _, inv := range body.Invite {
			users[inv] = 100
		}
	}
	invite := 0
	if body.Preset == "public_chat" {
		invite = 50
	}
	pl := map[string]any{
		"users":          users,
		"users_default":  0,
		"events_default": 0,
		"state_default":  50,
		"ban":            50,
		"kick":           50,
		"redact":         50,
		"invite":         invite,
		"events": map[string]any{
			spec.MRoomName: 50, spec.MRoomPowerLevels: 100, spec.MRoomHistoryVisibility: 100,
			spec.MRoomCanonicalAlias: 50, spec.MRoomAvatar: 50, matrixrules.MRoomTombstone: matrixrules.TombstoneLevel(version),
			matrixrules.MRoomServerACL: 100, spec.MRoomEncryption: 100,
		},
		"notifications": map[string]any{"room": 50},
	}
	if len(body.PowerLevelContentOverride) > 0 {
		var override map[string]json.RawMessage
		if err := json.Unmarshal(body.PowerLevelContentOverride, &override); err != nil {
			r := httputil.BadJSON("power_level_content_override must be an object")
			return nil, &r
		}
		for k, v := range override {
			pl[k] = v
		}
	}
	return pl, nil
}
