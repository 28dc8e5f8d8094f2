package e2e

import (
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// TestSyncRoomMentionNotifies: an "@room" message highlights the other
// members when the sender may notify the room. In room v12 the creator
// is privileged by the create event (not listed in power levels), so the
// notification level check must honour the creators rule; in v10 the
// creator's level comes from the power levels event.
func TestSyncRoomMentionNotifies(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		for _, version := range []id.RoomVersion{"10", "12"} {
			t.Run("v"+string(version), func(t *testing.T) {
				resp, err := alice.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: version})
				if err != nil {
					t.Fatal(err)
				}
				room := resp.RoomID
				if _, err := bob.JoinRoomByID(syncCtx, room); err != nil {
					t.Fatal(err)
				}
				since := syncOnce(t, bob, "", 0, "").NextBatch
				if _, err := alice.SendMessageEvent(syncCtx, room, event.EventMessage, map[string]any{
					"msgtype": "m.text", "body": "@room wake up",
				}); err != nil {
					t.Fatal(err)
				}
				var got *mautrix.SyncJoinedRoom
				syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
					jr, ok := r.Rooms.Join[room]
					if !ok || len(syncBodies(jr.Timeline.Events)) == 0 {
						return false
					}
					got = jr
					return true
				})
				n := got.UnreadNotifications
				if n == nil || n.NotificationCount != 1 || n.HighlightCount != 1 {
					t.Fatalf("unread_notifications after the creator's @room = %+v, want 1 notification, 1 highlight", n)
				}
			})
		}
	})
}
