package e2e

import (
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// A forgotten room is gone for its user: /messages and /context are 403,
// an initial /sync with include_leave does not list it; rejoining brings
// it back. A room left but not forgotten stays readable up to the leave.
func TestRoomsForgetHidesRoom(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		forgotten := syncRoom(t, bob, alice)
		kept := syncRoom(t, bob, alice)
		msg := syncSend(t, bob, forgotten, "before the leave")
		syncSend(t, bob, kept, "kept")
		for _, r := range []id.RoomID{forgotten, kept} {
			if _, err := alice.LeaveRoom(roomsCtx, r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := alice.ForgetRoom(roomsCtx, forgotten); err != nil {
			t.Fatal(err)
		}
		messages := func(room string) roomsRaw {
			return roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/messages?dir=b", nil)
		}
		testutil.Eventually(t, 10*time.Second, "/messages of the forgotten room refused", func() bool {
			r := messages(forgotten.String())
			return r.Status == 403 && r.errcode() == "M_FORBIDDEN"
		})
		if r := roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(forgotten.String())+"/context/"+url.PathEscape(msg.String()), nil); r.Status != 403 {
			t.Fatalf("/context of the forgotten room: %d %v", r.Status, r.Body)
		}
		if r := messages(kept.String()); r.Status != 200 || len(r.Body["chunk"].([]any)) == 0 {
			t.Fatalf("/messages of a left room: %d %v", r.Status, r.Body)
		}
		includeLeave := `{"room":{"include_leave":true}}`
		resp := syncOnce(t, alice, "", 0, includeLeave)
		if _, ok := resp.Rooms.Leave[forgotten]; ok {
			t.Fatal("forgotten room in an initial sync's rooms.leave")
		}
		if _, ok := resp.Rooms.Leave[kept]; !ok {
			t.Fatal("left (not forgotten) room missing from rooms.leave")
		}

		// Rejoining: the room is back.
		if _, err := alice.JoinRoomByID(roomsCtx, forgotten); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, "/messages after rejoining", func() bool {
			return messages(forgotten.String()).Status == 200
		})
		if _, err := alice.LeaveRoom(roomsCtx, forgotten); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, "room left again listed in rooms.leave", func() bool {
			_, ok := syncOnce(t, alice, "", 0, includeLeave).Rooms.Leave[forgotten]
			return ok
		})
	})
}
