package e2e

import (
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

func TestRoomsHistoryVisibility(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		eve := inst.Register("eve", "password123")
		roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		get := func(c *mautrix.Client, evID string) int {
			return roomsDo(t, c, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/event/"+evID, nil).Status
		}
		setVis := func(v string) {
			_, err := alice.SendStateEvent(roomsCtx, roomID, event.StateHistoryVisibility, "", map[string]string{"history_visibility": v})
			roomsNoErr(t, err)
		}

		// "joined": bob joins after the message and cannot see it.
		setVis("joined")
		early, err := alice.SendText(roomsCtx, roomID, "before bob")
		roomsNoErr(t, err)
		_, err = bob.JoinRoomByID(roomsCtx, roomID)
		roomsNoErr(t, err)
		if s := get(bob, string(early.EventID)); s != 404 {
			t.Fatalf("joined visibility leaked: %d", s)
		}
		// "shared": history sent under it is visible to current members.
		setVis("shared")
		shared, err := alice.SendText(roomsCtx, roomID, "shared")
		roomsNoErr(t, err)
		if s := get(bob, string(shared.EventID)); s != 200 {
			t.Fatalf("shared for member: %d", s)
		}
		if s := get(eve, string(shared.EventID)); s != 404 {
			t.Fatalf("shared for non-member: %d", s)
		}
		r := roomsDo(t, eve, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state", nil)
		if r.Status != 403 {
			t.Fatalf("state for non-member: %d", r.Status)
		}
		// "world_readable": anyone.
		setVis("world_readable")
		open, err := alice.SendText(roomsCtx, roomID, "open")
		roomsNoErr(t, err)
		if s := get(eve, string(open.EventID)); s != 200 {
			t.Fatalf("world_readable: %d", s)
		}
		if r := roomsDo(t, eve, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state", nil); r.Status != 200 {
			t.Fatalf("world_readable state: %d", r.Status)
		}
		if s := get(eve, string(shared.EventID)); s != 404 {
			t.Fatalf("earlier shared event became visible: %d", s)
		}
		// "invited": eve, invited, sees what is sent while invited.
		setVis("invited")
		_, err = alice.InviteUser(roomsCtx, roomID, &mautrix.ReqInviteUser{UserID: eve.UserID})
		roomsNoErr(t, err)
		whileInvited, err := alice.SendText(roomsCtx, roomID, "while invited")
		roomsNoErr(t, err)
		if s := get(eve, string(whileInvited.EventID)); s != 200 {
			t.Fatalf("invited: %d", s)
		}

		// A member who left reads the state as it was when they left.
		_, err = bob.LeaveRoom(roomsCtx, roomID)
		roomsNoErr(t, err)
		_, err = alice.SendStateEvent(roomsCtx, roomID, event.StateRoomName, "", map[string]string{"name": "after bob"})
		roomsNoErr(t, err)
		r = roomsDo(t, bob, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/m.room.name/", nil)
		if r.Status != 404 {
			t.Fatalf("left member sees later state: %d %v", r.Status, r.Body)
		}
		r = roomsDo(t, bob, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/m.room.history_visibility/", nil)
		if r.Status != 200 || r.Body["history_visibility"] != "invited" {
			t.Fatalf("left member state: %d %v", r.Status, r.Body)
		}
	})
}
