package e2e

import (
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

func TestRoomsMembershipFlows(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		carol := inst.Register("carol", "password123")
		roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})

		_, err := bob.JoinRoomByID(roomsCtx, roomID)
		roomsExpectErr(t, err, "M_FORBIDDEN", "join invite-only room uninvited")
		_, err = bob.SendText(roomsCtx, roomID, "x")
		roomsExpectErr(t, err, "M_FORBIDDEN", "send without being in the room")
		_, err = bob.InviteUser(roomsCtx, roomID, &mautrix.ReqInviteUser{UserID: carol.UserID})
		roomsExpectErr(t, err, "M_FORBIDDEN", "invite from outside")

		_, err = alice.InviteUser(roomsCtx, roomID, &mautrix.ReqInviteUser{UserID: bob.UserID})
		roomsNoErr(t, err)
		_, err = bob.JoinRoom(roomsCtx, string(roomID), nil)
		roomsNoErr(t, err)
		joined, err := bob.JoinedRooms(roomsCtx)
		roomsNoErr(t, err)
		if !slices.Contains(joined.JoinedRooms, roomID) {
			t.Fatalf("joined_rooms %v", joined.JoinedRooms)
		}

		// Bob (level 0) may not kick, ban or change power levels.
		_, err = bob.KickUser(roomsCtx, roomID, &mautrix.ReqKickUser{UserID: alice.UserID})
		roomsExpectErr(t, err, "M_FORBIDDEN", "kick by level 0")
		_, err = bob.BanUser(roomsCtx, roomID, &mautrix.ReqBanUser{UserID: alice.UserID})
		roomsExpectErr(t, err, "M_FORBIDDEN", "ban by level 0")
		_, err = bob.SendStateEvent(roomsCtx, roomID, event.StateRoomName, "", map[string]string{"name": "bob's"})
		roomsExpectErr(t, err, "M_FORBIDDEN", "state by level 0")

		// Members listing with filters.
		members, err := alice.Members(roomsCtx, roomID)
		roomsNoErr(t, err)
		if len(members.Chunk) != 2 {
			t.Fatalf("members %d", len(members.Chunk))
		}
		jm, err := alice.JoinedMembers(roomsCtx, roomID)
		roomsNoErr(t, err)
		if len(jm.Joined) != 2 {
			t.Fatalf("joined members %v", jm.Joined)
		}
		r := roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/members?not_membership=join", nil)
		if r.Status != 200 || len(r.Body["chunk"].([]any)) != 0 {
			t.Fatalf("not_membership filter: %v", r.Body)
		}
		_, err = carol.Members(roomsCtx, roomID)
		roomsExpectErr(t, err, "M_FORBIDDEN", "members from outside")

		// Kick: bob is out and cannot rejoin an invite-only room.
		_, err = alice.KickUser(roomsCtx, roomID, &mautrix.ReqKickUser{UserID: bob.UserID, Reason: "bye"})
		roomsNoErr(t, err)
		if m := roomsStateContent(t, alice, roomID, "m.room.member", string(bob.UserID)); m["membership"] != "leave" || m["reason"] != "bye" {
			t.Fatalf("after kick %v", m)
		}
		_, err = bob.JoinRoomByID(roomsCtx, roomID)
		roomsExpectErr(t, err, "M_FORBIDDEN", "rejoin after kick")
		_, err = alice.KickUser(roomsCtx, roomID, &mautrix.ReqKickUser{UserID: carol.UserID})
		roomsExpectErr(t, err, "M_FORBIDDEN", "kick a non-member")

		// Ban/unban.
		_, err = alice.BanUser(roomsCtx, roomID, &mautrix.ReqBanUser{UserID: bob.UserID})
		roomsNoErr(t, err)
		_, err = alice.InviteUser(roomsCtx, roomID, &mautrix.ReqInviteUser{UserID: bob.UserID})
		roomsExpectErr(t, err, "M_FORBIDDEN", "invite banned user")
		_, err = alice.UnbanUser(roomsCtx, roomID, &mautrix.ReqUnbanUser{UserID: carol.UserID})
		roomsExpectErr(t, err, "M_FORBIDDEN", "unban a user who is not banned")
		_, err = alice.UnbanUser(roomsCtx, roomID, &mautrix.ReqUnbanUser{UserID: bob.UserID})
		roomsNoErr(t, err)
		_, err = alice.InviteUser(roomsCtx, roomID, &mautrix.ReqInviteUser{UserID: bob.UserID})
		roomsNoErr(t, err)
		// Rejecting an invite is leaving.
		_, err = bob.LeaveRoom(roomsCtx, roomID)
		roomsNoErr(t, err)
		_, err = bob.ForgetRoom(roomsCtx, roomID)
		roomsNoErr(t, err)
		_, err = alice.ForgetRoom(roomsCtx, roomID)
		roomsExpectErr(t, err, "M_UNKNOWN", "forget a joined room")

		// Public rooms can be joined by alias; unknown rooms are 404.
		pub := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "pub"})
		resp, err := carol.JoinRoom(roomsCtx, "#pub:"+inst.Cfg.ServerName, nil)
		roomsNoErr(t, err)
		if resp.RoomID != pub {
			t.Fatalf("joined %s", resp.RoomID)
		}
		_, err = carol.JoinRoom(roomsCtx, "!unknown:"+inst.Cfg.ServerName, nil)
		roomsExpectErr(t, err, "M_NOT_FOUND", "join unknown room")
		_, err = carol.JoinRoom(roomsCtx, "#nope:elsewhere.example", nil)
		roomsExpectErr(t, err, "M_NOT_FOUND", "join remote alias")
	})
}

func TestRoomsKnockAndRestricted(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		space := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: map[string]any{"type": "m.space"}})
		knockRoom := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: "10"})
		_, err := alice.SendStateEvent(roomsCtx, knockRoom, event.StateJoinRules, "", map[string]string{"join_rule": "knock"})
		roomsNoErr(t, err)
		_, err = bob.KnockRoom(roomsCtx, string(knockRoom), &mautrix.ReqKnockRoom{Reason: "let me in"})
		roomsNoErr(t, err)
		if m := roomsStateContent(t, alice, knockRoom, "m.room.member", string(bob.UserID)); m["membership"] != "knock" {
			t.Fatalf("knock %v", m)
		}

		restricted := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: "10"})
		_, err = alice.SendStateEvent(roomsCtx, restricted, event.StateJoinRules, "", map[string]any{
			"join_rule": "restricted", "allow": []map[string]string{{"type": "m.room_membership", "room_id": string(space)}}})
		roomsNoErr(t, err)
		_, err = bob.JoinRoomByID(roomsCtx, restricted)
		roomsExpectErr(t, err, "M_FORBIDDEN", "restricted join without space membership")
		_, err = bob.JoinRoomByID(roomsCtx, space)
		roomsNoErr(t, err)
		_, err = bob.JoinRoomByID(roomsCtx, restricted)
		roomsNoErr(t, err)
		if m := roomsStateContent(t, alice, restricted, "m.room.member", string(bob.UserID)); m["join_authorised_via_users_server"] != string(alice.UserID) {
			t.Fatalf("restricted join %v", m)
		}

		// Space hierarchy over local rooms.
		_, err = alice.SendStateEvent(roomsCtx, space, event.StateSpaceChild, string(restricted), map[string]any{"via": []string{inst.Cfg.ServerName}})
		roomsNoErr(t, err)
		h, err := bob.Hierarchy(roomsCtx, space, &mautrix.ReqHierarchy{})
		roomsNoErr(t, err)
		if len(h.Rooms) != 2 || h.Rooms[0].RoomID != space || h.Rooms[1].RoomID != restricted || len(h.Rooms[0].ChildrenState) != 1 {
			t.Fatalf("hierarchy %+v", h.Rooms)
		}
	})
}
