package clientapi

import (
	"encoding/json"
	"net/http"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// carriedState is the state copied into an upgraded room.
var carriedState = []string{
	spec.MRoomJoinRules, spec.MRoomHistoryVisibility, spec.MRoomGuestAccess, spec.MRoomName, spec.MRoomTopic,
	spec.MRoomAvatar, spec.MRoomEncryption, matrixrules.MRoomServerACL, spec.MRoomCanonicalAlias, matrixrules.MRoomRelatedGroups,
}

// upgrade replaces a room with a new one of another version: the new room
// is created with the old one's state and a predecessor link, the old
// room gets a tombstone and is restricted, and local aliases (and the
// directory listing) move across.
func (h *roomRoutes) upgrade(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	var body struct {
		NewVersion string `json:"new_version"`
		// AdditionalCreators (MSC4289) become creators of the new room
		// besides the upgrading user.
		AdditionalCreators json.RawMessage `json:"additional_creators"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if body.NewVersion == "" {
		return httputil.MissingParam("Missing new_version")
	}
	if !matrixrules.IsSupported(body.NewVersion) {
		return httputil.Error(http.StatusBadRequest, "M_UNSUPPORTED_ROOM_VERSION", "Room version %q is not supported", body.NewVersion)
	}
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	var additional []string
	if len(body.AdditionalCreators) > 0 && string(body.AdditionalCreators) != "null" {
		if !matrixrules.FeaturesOf(body.NewVersion).PrivilegedCreators {
			return httputil.BadJSON("additional_creators needs a room version with privileged creators")
		}
		wrapped, _ := json.Marshal(map[string]json.RawMessage{"additional_creators": body.AdditionalCreators})
		if msg := matrixrules.CheckAdditionalCreators(wrapped); msg != "" {
			return httputil.BadJSON("%s", msg)
		}
		_ = json.Unmarshal(body.AdditionalCreators, &additional)
	}
	if m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID)); err != nil {
		return h.rsErrorOr(err, "membership", unknownRoom(roomID))
	} else if m != "join" {
		return httputil.Forbidden("You are not in room %s", roomID)
	}
	level, needed, err := h.powerLevel(ctx, roomID, dev.UserID, matrixrules.MRoomTombstone)
	if err != nil {
		return h.rsError(err, "power levels")
	}
	if level < needed {
		return httputil.Forbidden("You need power level %d to upgrade this room", needed)
	}
	state, err := h.rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), nil)
	if err != nil {
		return h.rsError(err, "state")
	}
	byKey := map[string]*rsapi.Event{}
	for _, ev := range state {
		if sk := ev.StateKey(); sk != nil && *sk == "" {
			byKey[ev.Type()] = ev
		}
	}
	ext, err := h.rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
	if err != nil || len(ext) == 0 {
		return h.rsError(err, "extremities")
	}

	// New room: create (with predecessor and the old type/federate flags),
	// creator join, power levels, carried state.
	predecessor := map[string]string{"room_id": roomID, "event_id": string(ext[0])}
	if !matrixrules.FeaturesOf(body.NewVersion).ServerNamedRoomIDs {
		delete(predecessor, "event_id") // v12+ (MSC4291): deprecated, not sent
	}
	creation := map[string]any{"room_version": body.NewVersion, "predecessor": predecessor}
	if old := byKey[spec.MRoomCreate]; old != nil {
		c := gjson.ParseBytes(old.Content())
		for _, k := range []string{"type", "m.federate"} {
			if v := c.Get(k); v.Exists() {
				creation[k] = json.RawMessage(v.Raw)
			}
		}
	}
	if len(additional) > 0 {
		creation["additional_creators"] = additional
	}
	events := []rsapi.InputRoomEvent{h.stateEv(dev, spec.MRoomCreate, "", creation)}
	events[0].Local.RoomVersion = body.NewVersion
	joinContent := map[string]any{"membership": "join"}
	if dn, av := h.profile(ctx, dev.UserID); dn != "" {
		joinContent["displayname"] = dn
		if av != "" {
			joinContent["avatar_url"] = av
		}
	}
	events = append(events, h.stateEv(dev, spec.MRoomMember, dev.UserID, joinContent))
	pl := json.RawMessage(`{}`)
	if old := byKey[spec.MRoomPowerLevels]; old != nil {
		pl = old.Content()
	}
	newPL, _ := sjson.SetBytes(pl, "users."+gjsonEscape(dev.UserID), max(level, 100))
	if matrixrules.FeaturesOf(body.NewVersion).PrivilegedCreators {
		// Creators are all-powerful and must not be listed.
		for _, c := range append([]string{dev.UserID}, additional...) {
			newPL, _ = sjson.DeleteBytes(newPL, "users."+gjsonEscape(c))
		}
	}
	plEv := h.stateEv(dev, spec.MRoomPowerLevels, "", nil)
	plEv.Local.Content = newPL
	events = append(events, plEv)
	for _, t := range carriedState {
		if old := byKey[t]; old != nil {
			ev := h.stateEv(dev, t, "", nil)
			ev.Local.Content = old.Content()
			events = append(events, ev)
		}
	}
	resp, errResp := h.input(ctx, events...)
	if resp == nil || resp.RoomID == "" {
		if errResp != nil {
			return *errResp
		}
		return httputil.InternalError()
	}
	newRoom := resp.RoomID

	// Old room: tombstone, then stop ordinary users talking or inviting.
	tomb := &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(dev.UserID), Type: matrixrules.MRoomTombstone, StateKey: new(string),
		Content: mustMarshal(map[string]string{"body": "This room has been replaced", "replacement_room": string(newRoom)})}
	if _, r := h.sendLocal(ctx, tomb, nil, unknownRoom(roomID)); r != nil {
		return *r
	}
	if old := byKey[spec.MRoomPowerLevels]; old != nil {
		c := gjson.ParseBytes(old.Content())
		restrict := max(50, c.Get("users_default").Int()+1)
		restricted, _ := sjson.SetBytes(old.Content(), "events_default", restrict)
		restricted, _ = sjson.SetBytes(restricted, "invite", restrict)
		sk := ""
		if _, r := h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(dev.UserID), Type: spec.MRoomPowerLevels, StateKey: &sk, Content: restricted}, nil, unknownRoom(roomID)); r != nil {
			return *r
		}
	}
	if err := h.rs.MoveAliases(ctx, matrixid.RoomID(roomID), matrixid.RoomID(newRoom)); err != nil {
		return h.rsError(err, "move aliases")
	}
	if byKey[spec.MRoomCanonicalAlias] != nil {
		sk := ""
		if _, r := h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(dev.UserID), Type: spec.MRoomCanonicalAlias, StateKey: &sk, Content: json.RawMessage(`{}`)}, nil, unknownRoom(roomID)); r != nil {
			return *r
		}
	}
	if v, err := h.rs.QueryRoomVisibility(ctx, matrixid.RoomID(roomID)); err == nil && v == "public" {
		_ = h.rs.SetRoomVisibility(ctx, matrixid.RoomID(newRoom), "public")
		_ = h.rs.SetRoomVisibility(ctx, matrixid.RoomID(roomID), "private")
	}
	return httputil.OK(map[string]string{"replacement_room": string(newRoom)})
}
