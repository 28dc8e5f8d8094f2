package roomserver

import (
	"context"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/roomserver/api"
)

// QueryJoinAuthoriser implements api.RoomserverAPI: who of this server
// vouches (join_authorised_via_users_server) for userID's join to a
// restricted room. "" when the join needs no one: the join rule is not
// restricted in the room's version, or the user is already invited or
// joined.
//
// A condition (an allowed room) counts only if this server is in that
// room, since otherwise its view of the user's membership may be stale.
// Errors: CodeForbidden when the user meets no condition (or the rule
// has none), CodeUnableToAuthoriseJoin when this server can judge no
// condition, CodeUnableToGrantJoin when the user qualifies but no local
// member may invite. The last two tell a joining server to try another.
func (r *RoomServer) QueryJoinAuthoriser(ctx context.Context, roomID matrixid.RoomID, userID matrixid.UserID) (matrixid.UserID, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return "", err
	}
	evs, err := r.stateEvents(ctx, rm, rm.snapshot([]api.StateKey{
		{Type: spec.MRoomJoinRules}, {Type: spec.MRoomCreate}, {Type: spec.MRoomPowerLevels},
		{Type: spec.MRoomMember, StateKey: string(userID)},
	}))
	if err != nil {
		return "", err
	}
	version := string(rm.version.Version())
	room := matrixrules.Room{Version: version}
	var joinRules []byte
	current := ""
	for _, ev := range evs {
		switch ev.Type() {
		case spec.MRoomJoinRules:
			joinRules = ev.Content()
		case spec.MRoomCreate:
			room.CreateSender, room.CreateContent = string(ev.SenderID()), ev.Content()
		case spec.MRoomPowerLevels:
			room.PowerLevels = ev.Content()
		case spec.MRoomMember:
			current = membershipOf(ev.PDU)
		}
	}
	rule := gjson.GetBytes(joinRules, "join_rule").Str
	features := matrixrules.FeaturesOf(version)
	if (rule == spec.Restricted && !features.Restricted) || (rule == spec.KnockRestricted && !features.KnockRestricted) ||
		!matrixrules.NeedsRestrictedAuthoriser(rule, current) {
		return "", nil
	}
	allowed := matrixrules.AllowedRoomIDs(joinRules)
	if len(allowed) == 0 {
		return "", api.Errorf(api.CodeForbidden, "The room's join rules allow no one to join without an invite")
	}
	judged, met := false, false
	for _, a := range allowed {
		arm, err := r.room(ctx, a)
		if err != nil {
			return "", err
		}
		if arm == nil {
			continue
		}
		in, err := r.serverHasNow(ctx, arm, string(r.serverName), spec.Join)
		if err != nil {
			return "", err
		}
		if !in {
			continue
		}
		judged = true
		m, _, err := r.membership(ctx, arm, arm.snapshot([]api.StateKey{{Type: spec.MRoomMember, StateKey: string(userID)}}), string(userID))
		if err != nil {
			return "", err
		}
		if m == spec.Join {
			met = true
			break
		}
	}
	switch {
	case met:
	case judged:
		return "", api.Errorf(api.CodeForbidden, "You are not a member of any room that grants access to this restricted room")
	default:
		return "", api.Errorf(api.CodeUnableToAuthoriseJoin, "This server is in none of the rooms that grant access to this restricted room")
	}
	pl, err := matrixrules.NewPowerLevels(room)
	if err != nil {
		return "", err
	}
	members, err := r.stateEvents(ctx, rm, rm.snapshot([]api.StateKey{{Type: spec.MRoomMember, StateKey: "*"}}))
	if err != nil {
		return "", err
	}
	// The most powerful local member, a user ID breaking ties, so the
	// choice does not depend on map order.
	var best string
	var bestLevel int64
	for _, m := range members {
		uid := *m.StateKey()
		if serverOf(uid) != string(r.serverName) || membershipOf(m.PDU) != spec.Join {
			continue
		}
		level := pl.UserLevel(uid)
		if level < pl.Invite {
			continue
		}
		if best == "" || level > bestLevel || (level == bestLevel && strings.Compare(uid, best) < 0) {
			best, bestLevel = uid, level
		}
	}
	if best == "" {
		return "", api.Errorf(api.CodeUnableToGrantJoin, "No user of this server may invite to this room; try another server")
	}
	return matrixid.UserID(best), nil
}
