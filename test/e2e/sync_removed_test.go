package e2e

import (
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// TestSyncInitialShowsRemovedRooms: an initial sync without include_leave
// shows rooms the user was banned or kicked from (so a client learns why
// they went), not rooms the user left, nor a removal the user forgot.
func TestSyncInitialShowsRemovedRooms(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	bob := inst.Register("bob", "password123")
	alice := inst.Register("alice", "password123")
	room := func() id.RoomID {
		r := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		_, err := alice.JoinRoomByID(roomsCtx, r)
		roomsNoErr(t, err)
		return r
	}
	banned, kicked, left, forgotten := room(), room(), room(), room()
	_, err := bob.BanUser(roomsCtx, banned, &mautrix.ReqBanUser{UserID: alice.UserID})
	roomsNoErr(t, err)
	_, err = bob.KickUser(roomsCtx, kicked, &mautrix.ReqKickUser{UserID: alice.UserID})
	roomsNoErr(t, err)
	_, err = alice.LeaveRoom(roomsCtx, left)
	roomsNoErr(t, err)
	_, err = bob.KickUser(roomsCtx, forgotten, &mautrix.ReqKickUser{UserID: alice.UserID})
	roomsNoErr(t, err)
	_, err = alice.ForgetRoom(roomsCtx, forgotten)
	roomsNoErr(t, err)

	resp := syncOnce(t, alice, "", 0, "")
	for r, want := range map[id.RoomID]string{banned: "ban", kicked: "leave"} {
		lr, ok := resp.Rooms.Leave[r]
		if !ok || !memberEvent(lr.Timeline.Events, alice.UserID, want) {
			t.Errorf("room alice was removed from (%s) not in rooms.leave with her %s event: %v", want, want, ok)
		}
	}
	for _, r := range []id.RoomID{left, forgotten} {
		if _, ok := resp.Rooms.Leave[r]; ok {
			t.Errorf("room %s in rooms.leave of an initial sync without include_leave", r)
		}
	}
}
