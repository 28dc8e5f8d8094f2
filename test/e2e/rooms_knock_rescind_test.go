package e2e

import (
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

// A user who knocked on a local room can take the knock back by leaving:
// their next incremental sync shows the room under leave with their leave
// event, and they can knock again.
func TestRoomsRescindKnock(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: "10"})
	_, err := alice.SendStateEvent(roomsCtx, roomID, event.StateJoinRules, "", map[string]string{"join_rule": "knock"})
	roomsNoErr(t, err)
	_, err = bob.KnockRoom(roomsCtx, string(roomID), &mautrix.ReqKnockRoom{Reason: "let me in"})
	roomsNoErr(t, err)
	since := syncUntil(t, bob, "", 10*time.Second, func(r *mautrix.RespSync) bool {
		_, ok := r.Rooms.Knock[roomID]
		return ok
	})

	_, err = bob.LeaveRoom(roomsCtx, roomID)
	roomsNoErr(t, err)
	if m := roomsStateContent(t, alice, roomID, "m.room.member", string(bob.UserID)); m["membership"] != "leave" {
		t.Fatalf("after rescinding, bob's membership is %v", m)
	}
	var left []*event.Event
	syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
		lr, ok := r.Rooms.Leave[roomID]
		if ok {
			left = lr.Timeline.Events
		}
		return ok
	})
	found := false
	for _, ev := range left {
		if ev.Type == event.StateMember && ev.Sender == bob.UserID && ev.Content.Raw["membership"] == "leave" {
			found = true
		}
	}
	if !found {
		t.Fatalf("leave section timeline has no leave by bob: %d events", len(left))
	}

	_, err = bob.KnockRoom(roomsCtx, string(roomID), &mautrix.ReqKnockRoom{Reason: "again"})
	roomsNoErr(t, err)
	if m := roomsStateContent(t, alice, roomID, "m.room.member", string(bob.UserID)); m["membership"] != "knock" {
		t.Fatalf("knock again: %v", m)
	}
}
