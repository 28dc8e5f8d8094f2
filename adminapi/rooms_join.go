package adminapi

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
)

// Force-join (POST /v1/join/{roomIdOrAlias}) and make_room_admin: the
// admin acts through a local user who has the power needed in the room,
// as that user.

// roomView is a room's current state as these requests read it.
type roomView struct {
	id        string
	joinRule  string
	pl        *matrixrules.PowerLevels
	plContent json.RawMessage
	members   map[string]string // user ID -> membership
}

// loadRoomView reads the room's current state once.
func (a *AdminAPI) loadRoomView(ctx context.Context, roomID string) (*roomView, error) {
	state, err := a.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), nil)
	if err != nil {
		return nil, err
	}
	v := &roomView{id: roomID, members: map[string]string{}}
	var room matrixrules.Room
	for _, ev := range state {
		switch ev.Type() {
		case spec.MRoomCreate:
			room.CreateSender, room.CreateContent = ev.SenderID().ToUserID().String(), ev.Content()
			room.Version = matrixrules.VersionOfCreate(room.CreateContent)
		case spec.MRoomPowerLevels:
			room.PowerLevels, v.plContent = ev.Content(), ev.Content()
		case spec.MRoomJoinRules:
			v.joinRule = gjson.GetBytes(ev.Content(), "join_rule").Str
		case spec.MRoomMember:
			if sk := ev.StateKey(); sk != nil {
				v.members[*sk] = gjson.GetBytes(ev.Content(), "membership").Str
			}
		}
	}
	if room.CreateSender == "" {
		return nil, rsapi.ErrRoomNotFound
	}
	if v.pl, err = matrixrules.NewPowerLevels(room); err != nil {
		return nil, err
	}
	return v, nil
}

// mostPowerful is the joined local user with the highest level of at
// least need ("" if none).
func (v *roomView) mostPowerful(server string, need int64) string {
	best, bestLevel := "", int64(0)
	for u, m := range v.members {
		if m != spec.Join || !strings.HasSuffix(u, ":"+server) {
			continue
		}
		if l := v.pl.UserLevel(u); l >= need && (best == "" || l > bestLevel || (l == bestLevel && u < best)) {
			best, bestLevel = u, l
		}
	}
	return best
}

// resolveRoomIDOrAlias maps a room ID or local alias to a room ID.
func (a *AdminAPI) resolveRoomIDOrAlias(ctx context.Context, idOrAlias string) (string, *httputil.JSONResponse) {
	if strings.HasPrefix(idOrAlias, "!") {
		if _, err := spec.NewRoomID(idOrAlias); err != nil || len(idOrAlias) > 255 {
			r := httputil.InvalidParam("%q is not a room ID", idOrAlias)
			return "", &r
		}
		return idOrAlias, nil
	}
	if !matrixrules.ValidRoomAlias(idOrAlias) || !strings.HasSuffix(idOrAlias, ":"+a.serverName) {
		r := httputil.InvalidParam("%q is not a room ID or an alias of this server", idOrAlias)
		return "", &r
	}
	roomID, _, err := a.rooms.QueryAlias(ctx, idOrAlias)
	if err != nil {
		r := a.fail(err, "alias")
		return "", &r
	}
	if roomID == "" {
		r := httputil.NotFound("Room alias %s not found", idOrAlias)
		return "", &r
	}
	return string(roomID), nil
}

// roomFail answers an unknown room 404, anything else as fail does.
func (a *AdminAPI) roomFail(err error, roomID, action string) httputil.JSONResponse {
	if errors.Is(err, rsapi.ErrRoomNotFound) {
		return httputil.NotFound("Room %s is not known to this server", roomID)
	}
	return a.fail(err, action)
}

// memberContent is a join or invite's content with the user's profile.
func (a *AdminAPI) memberContent(ctx context.Context, userID, membership string) json.RawMessage {
	c := map[string]any{"membership": membership}
	if name, avatar, err := a.users.QueryProfile(ctx, matrixid.UserID(userID)); err == nil {
		if name != "" {
			c["displayname"] = name
		}
		if avatar != "" {
			c["avatar_url"] = avatar
		}
	}
	raw, _ := json.Marshal(c)
	return raw
}

// forceJoin serves POST /v1/join/{roomIdOrAlias}: the local user joins;
// a room that is not public needs a local member who may invite, who
// invites them first.
func (a *AdminAPI) forceJoin(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	ctx := req.Context()
	var body struct {
		UserID string `json:"user_id"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if body.UserID == "" {
		return httputil.MissingParam("user_id is required")
	}
	if !strings.HasSuffix(body.UserID, ":"+a.serverName) || !strings.HasPrefix(body.UserID, "@") || len(body.UserID) > 255 {
		return httputil.InvalidParam("This endpoint can only be used with local users")
	}
	if _, err := a.users.QueryAccount(ctx, matrixid.UserID(body.UserID)); err != nil {
		return a.fail(err, "query user")
	}
	idOrAlias := req.PathValue("roomIdOrAlias")
	if strings.HasPrefix(idOrAlias, "#") && !strings.HasSuffix(idOrAlias, ":"+a.serverName) && matrixrules.ValidRoomAlias(idOrAlias) {
		return a.remoteForceJoin(ctx, body.UserID, idOrAlias)
	}
	roomID, r := a.resolveRoomIDOrAlias(ctx, idOrAlias)
	if r != nil {
		return *r
	}
	v, err := a.loadRoomView(ctx, roomID)
	if errors.Is(err, rsapi.ErrRoomNotFound) {
		return a.remoteForceJoin(ctx, body.UserID, roomID)
	}
	if err != nil {
		return a.roomFail(err, roomID, "room state")
	}
	cur := v.members[body.UserID]
	if cur == spec.Join {
		return httputil.OK(map[string]string{"room_id": roomID})
	}
	if v.joinRule != spec.Public && cur != spec.Invite {
		inviter := v.mostPowerful(a.serverName, v.pl.Invite)
		if inviter == "" {
			return httputil.Forbidden("No local user in room %s may invite", roomID)
		}
		sk := body.UserID
		if _, err := a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(inviter), Type: spec.MRoomMember,
			StateKey: &sk, Content: a.memberContent(ctx, body.UserID, spec.Invite)}); err != nil {
			return a.fail(err, "invite")
		}
	}
	sk := body.UserID
	if _, err := a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(body.UserID), Type: spec.MRoomMember,
		StateKey: &sk, Content: a.memberContent(ctx, body.UserID, spec.Join)}); err != nil {
		return a.fail(err, "join")
	}
	return httputil.OK(map[string]string{"room_id": roomID})
}

// remoteForceJoin joins a room this server is not in over federation,
// through the alias's or the room ID's server (public rooms only: no
// local user can invite).
func (a *AdminAPI) remoteForceJoin(ctx context.Context, userID, idOrAlias string) httputil.JSONResponse {
	if a.fed == nil {
		return httputil.NotFound("Room %s is not known to this server and federation is disabled", idOrAlias)
	}
	var servers []string
	if _, server, ok := strings.Cut(idOrAlias, ":"); ok && server != a.serverName {
		servers = []string{server}
	}
	resp, err := a.fed.PerformJoin(ctx, &fedapi.PerformJoinRequest{RoomIDOrAlias: idOrAlias, UserID: userID, ServerNames: servers,
		Content: a.memberContent(ctx, userID, spec.Join)})
	if err != nil {
		return a.fail(err, "remote join")
	}
	return httputil.OK(map[string]string{"room_id": resp.RoomID})
}

// makeRoomAdmin serves POST /v1/rooms/{roomIdOrAlias}/make_room_admin:
// the joined local user with the most power (enough to change power
// levels) gives user_id (default: the caller) the same level, and
// invites them when they are not in a room that is not public.
func (a *AdminAPI) makeRoomAdmin(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	ctx := req.Context()
	var body struct {
		UserID string `json:"user_id"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	target := body.UserID
	if target == "" {
		target = admin.UserID
	}
	if !strings.HasSuffix(target, ":"+a.serverName) || !strings.HasPrefix(target, "@") || len(target) > 255 {
		return httputil.InvalidParam("%s is not a user of this server", target)
	}
	roomID, r := a.resolveRoomIDOrAlias(ctx, req.PathValue("roomIdOrAlias"))
	if r != nil {
		return *r
	}
	v, err := a.loadRoomView(ctx, roomID)
	if err != nil {
		return a.roomFail(err, roomID, "room state")
	}
	granter := v.mostPowerful(a.serverName, v.pl.StateLevel(spec.MRoomPowerLevels))
	if granter == "" {
		return httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "No local user in room %s may change its power levels", roomID)
	}
	if !v.pl.IsPrivilegedCreator(target) {
		level := v.pl.UserLevel(granter)
		content := map[string]any{}
		if len(v.plContent) > 0 {
			if err := json.Unmarshal(v.plContent, &content); err != nil {
				return a.fail(err, "power levels")
			}
		}
		users, _ := content["users"].(map[string]any)
		if users == nil {
			users = map[string]any{}
		}
		if v.pl.IsPrivilegedCreator(granter) {
			// A v12 creator's level is infinite: give the highest level
			// anyone else has (at least 100).
			level = 100
			for _, l := range users {
				if f, ok := l.(float64); ok && int64(f) > level {
					level = int64(f)
				}
			}
		}
		users[target] = level
		content["users"] = users
		raw, _ := json.Marshal(content)
		sk := ""
		if _, err := a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(granter), Type: spec.MRoomPowerLevels,
			StateKey: &sk, Content: raw}); err != nil {
			return a.fail(err, "power levels")
		}
	}
	if m := v.members[target]; m != spec.Join && m != spec.Invite && v.joinRule != spec.Public {
		sk := target
		if _, err := a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(granter), Type: spec.MRoomMember,
			StateKey: &sk, Content: a.memberContent(ctx, target, spec.Invite)}); err != nil {
			return a.fail(err, "invite")
		}
	}
	return httputil.Empty()
}
