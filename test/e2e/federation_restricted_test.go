package e2e

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// restrictedRoom creates, as c, a room whose joins are restricted to
// members of a second (public) room, and returns (allowed, restricted).
func restrictedRoom(t *testing.T, c *mautrix.Client, version, via string) (id.RoomID, id.RoomID) {
	t.Helper()
	allowed := roomsCreate(t, c, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	req := &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: id.RoomVersion(version), InitialState: []*event.Event{{
		Type: event.StateJoinRules, StateKey: new(string),
		Content: event.Content{Raw: map[string]any{"join_rule": "restricted", "allow": []map[string]any{
			{"type": "m.room_membership", "room_id": allowed, "via": []string{via}}}}},
	}}}
	return allowed, roomsCreate(t, c, req)
}

// A user of B joins A's restricted room through A: refused until in the
// allowed room, then A names its own member as the authoriser on
// make_join and signs the join on send_join. The joined user's later
// own member event keeps no authoriser (A would refuse one naming
// nobody), and after leaving the allowed room, or with an allow list
// that is not a list, the join is refused again.
func TestFederationRestrictedJoin(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	as := newFedSyncer(t, alice)
	const wait = 20 * time.Second
	allowed, room := restrictedRoom(t, alice, "10", a.Cfg.ServerName)
	via := &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}

	_, err := bob.JoinRoom(ctx, room.String(), via)
	roomsExpectErr(t, err, "M_FORBIDDEN", "join before joining the allowed room")
	_, err = bob.JoinRoom(ctx, allowed.String(), via)
	roomsNoErr(t, err)
	_, err = bob.JoinRoom(ctx, room.String(), via)
	roomsNoErr(t, err)
	for _, c := range []*mautrix.Client{alice, bob} {
		if m := roomsStateContent(t, c, room, "m.room.member", string(bob.UserID)); m["membership"] != "join" || m["join_authorised_via_users_server"] != string(alice.UserID) {
			t.Fatalf("bob's join as seen by %s: %v", c.UserID, m)
		}
	}

	_, err = bob.SendStateEvent(ctx, room, event.StateMember, string(bob.UserID), map[string]any{
		"membership": "join", "displayname": "Bobby", "join_authorised_via_users_server": "unused"})
	roomsNoErr(t, err)
	as.until(wait, "bob's new display name on A", func() bool {
		m := roomsStateContent(t, alice, room, "m.room.member", string(bob.UserID))
		_, has := m["join_authorised_via_users_server"]
		return m["displayname"] == "Bobby" && !has
	})

	_, err = bob.LeaveRoom(ctx, room)
	roomsNoErr(t, err)
	_, err = bob.LeaveRoom(ctx, allowed)
	roomsNoErr(t, err)
	as.until(wait, "bob's leaves on A", func() bool {
		return as.membershipOf(room, bob.UserID) == "leave" && as.membershipOf(allowed, bob.UserID) == "leave"
	})
	_, err = bob.JoinRoom(ctx, room.String(), via)
	roomsExpectErr(t, err, "M_FORBIDDEN", "join after leaving the allowed room")

	_, err = bob.JoinRoom(ctx, allowed.String(), via)
	roomsNoErr(t, err)
	_, err = alice.SendStateEvent(ctx, room, event.StateJoinRules, "", map[string]any{"join_rule": "restricted", "allow": "invalid"})
	roomsNoErr(t, err)
	_, err = bob.JoinRoom(ctx, room.String(), via)
	roomsExpectErr(t, err, "M_FORBIDDEN", "join with an allow that is not a list")
}

// Three servers, room version 12 (creators are not in the power levels).
// B is in the restricted room but none of its users may invite: asked
// through B alone, the join fails (M_UNABLE_TO_GRANT_JOIN); through B
// then A it succeeds, vouched for by A's creator. Once B's user may
// invite, a second user of B joins through B locally, vouched for by
// that user (not a remote join through A), and A accepts it. When B
// has left the allowed room it cannot judge the condition
// (M_UNABLE_TO_AUTHORISE_JOIN) and A vouches again.
func TestFederationRestrictedJoinFailOver(t *testing.T) {
	ctx := context.Background()
	opts := testserver.Options{}
	a, b, c := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2"), fedStart(t, opts, "127.0.0.3")
	alice, bob, carol := a.Register("alice", "password123"), b.Register("bob", "password123"), c.Register("carol", "password123")
	dave := b.Register("dave", "password123")
	as, bs := newFedSyncer(t, alice), newFedSyncer(t, bob)
	const wait = 20 * time.Second
	allowed, room := restrictedRoom(t, alice, "12", a.Cfg.ServerName)
	_, err := alice.SendStateEvent(ctx, room, event.StatePowerLevels, "", map[string]any{"invite": 50})
	roomsNoErr(t, err)
	viaA := &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}
	for _, u := range []*mautrix.Client{bob, carol, dave} {
		_, err := u.JoinRoom(ctx, allowed.String(), viaA)
		roomsNoErr(t, err)
	}
	_, err = bob.JoinRoom(ctx, room.String(), viaA)
	roomsNoErr(t, err)
	bs.until(wait, "carol's and dave's joins of the allowed room on B", func() bool {
		return bs.membershipOf(allowed, carol.UserID) == "join" && bs.membershipOf(allowed, dave.UserID) == "join"
	})

	_, err = carol.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName}})
	roomsExpectErr(t, err, "M_UNABLE_TO_GRANT_JOIN", "join through B, which has no one who may invite")
	_, err = carol.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName, a.Cfg.ServerName}})
	roomsNoErr(t, err)
	if m := roomsStateContent(t, alice, room, "m.room.member", string(carol.UserID)); m["join_authorised_via_users_server"] != string(alice.UserID) {
		t.Fatalf("carol's join: %v", m)
	}

	_, err = alice.SendStateEvent(ctx, room, event.StatePowerLevels, "", map[string]any{"invite": 50, "users": map[string]int{string(bob.UserID): 50}})
	roomsNoErr(t, err)
	bs.until(wait, "bob's power on B", func() bool {
		pl := roomsStateContent(t, bob, room, "m.room.power_levels", "")
		users, _ := pl["users"].(map[string]any)
		return users != nil && users[string(bob.UserID)] == float64(50)
	})
	_, err = dave.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName}})
	roomsNoErr(t, err)
	as.until(wait, "dave's join on A", func() bool { return as.membershipOf(room, dave.UserID) == "join" })
	if m := roomsStateContent(t, alice, room, "m.room.member", string(dave.UserID)); m["join_authorised_via_users_server"] != string(bob.UserID) {
		t.Fatalf("dave's join: %v", m)
	}

	_, err = carol.LeaveRoom(ctx, room)
	roomsNoErr(t, err)
	for _, u := range []*mautrix.Client{bob, dave} {
		_, err = u.LeaveRoom(ctx, allowed)
		roomsNoErr(t, err)
	}
	as.until(wait, "carol's leave on A", func() bool { return as.membershipOf(room, carol.UserID) == "leave" })
	bs.until(wait, "carol's leave on B", func() bool { return bs.membershipOf(room, carol.UserID) == "leave" })
	_, err = carol.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName}})
	roomsExpectErr(t, err, "M_UNABLE_TO_AUTHORISE_JOIN", "join through B, which left the allowed room")
	_, err = carol.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName, a.Cfg.ServerName}})
	roomsNoErr(t, err)
	if m := roomsStateContent(t, alice, room, "m.room.member", string(carol.UserID)); m["join_authorised_via_users_server"] != string(alice.UserID) {
		t.Fatalf("carol's second join: %v", m)
	}
}

// A is in B's restricted room, but its only member there may not invite:
// a user of A who qualifies joins through A all the same, A asking B
// (a remote join for a room A is in), and B's creator vouches.
func TestFederationRestrictedJoinThroughOtherServer(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	alice, bob, carol := a.Register("alice", "password123"), a.Register("bob", "password123"), b.Register("carol", "password123")
	cs := newFedSyncer(t, carol)
	const wait = 20 * time.Second
	allowed, room := restrictedRoom(t, carol, "10", b.Cfg.ServerName)
	viaA, viaB := &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}, &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName}}
	_, err := carol.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: alice.UserID})
	roomsNoErr(t, err)
	_, err = alice.JoinRoom(ctx, room.String(), viaB)
	roomsNoErr(t, err)

	_, err = bob.JoinRoom(ctx, room.String(), viaA)
	roomsExpectErr(t, err, "M_FORBIDDEN", "bob, in no allowed room (A cannot judge, B refuses)")
	_, err = bob.JoinRoom(ctx, allowed.String(), viaB)
	roomsNoErr(t, err)
	_, err = bob.JoinRoom(ctx, room.String(), viaA)
	roomsNoErr(t, err)
	cs.until(wait, "bob's join on B", func() bool { return cs.membershipOf(room, bob.UserID) == "join" })
	if m := roomsStateContent(t, carol, room, "m.room.member", string(bob.UserID)); m["join_authorised_via_users_server"] != string(carol.UserID) {
		t.Fatalf("bob's join: %v", m)
	}
}
