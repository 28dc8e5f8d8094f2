package e2e

import (
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// Events served to a user carry unsigned.membership, the user's
// membership at the event (Matrix 1.11): "leave" before they joined,
// their own join event and everything after it "join", and after they
// leave, their leave. /sync (joined and left rooms), /messages,
// /context and /event agree.
func TestSyncUnsignedMembership(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	pre := syncSend(t, alice, roomID, "before bob")
	_, err := bob.JoinRoomByID(roomsCtx, roomID)
	roomsNoErr(t, err)
	post := syncSend(t, alice, roomID, "after bob joined")

	want := func(evs []*event.Event, what string, expect map[id.EventID]event.Membership) {
		t.Helper()
		seen := 0
		for _, ev := range evs {
			if m, ok := expect[ev.ID]; ok {
				seen++
				if ev.Unsigned.Membership != m {
					t.Errorf("%s: %s (%s %q): membership %q, want %q", what, ev.ID, ev.Type.Type, syncBodies([]*event.Event{ev}), ev.Unsigned.Membership, m)
				}
			}
			if ev.Unsigned.Membership == "" {
				t.Errorf("%s: %s (%s) has no unsigned.membership", what, ev.ID, ev.Type.Type)
			}
		}
		if seen != len(expect) {
			t.Fatalf("%s: saw %d of the %d expected events", what, seen, len(expect))
		}
	}

	var bobJoin id.EventID
	var tl []*event.Event
	syncUntilFiltered(t, bob, "", `{"room":{"timeline":{"limit":50}}}`, func(r *mautrix.RespSync) bool {
		jr, ok := r.Rooms.Join[roomID]
		if !ok {
			return false
		}
		tl = jr.Timeline.Events
		for _, ev := range tl {
			if ev.Type == event.StateMember && ev.GetStateKey() == bob.UserID.String() {
				bobJoin = ev.ID
			}
			if ev.ID == post {
				return bobJoin != ""
			}
		}
		return false
	})
	want(tl, "initial /sync", map[id.EventID]event.Membership{pre: "leave", bobJoin: "join", post: "join"})
	for _, ev := range tl {
		if ev.Type == event.StateCreate && ev.Unsigned.Membership != "leave" {
			t.Errorf("create event: membership %q, want leave", ev.Unsigned.Membership)
		}
	}

	msgs, err := bob.Messages(roomsCtx, roomID, "", "", mautrix.DirectionBackward, nil, 50)
	roomsNoErr(t, err)
	want(msgs.Chunk, "/messages", map[id.EventID]event.Membership{pre: "leave", bobJoin: "join", post: "join"})

	c, err := bob.Context(roomsCtx, roomID, bobJoin, nil, 10)
	roomsNoErr(t, err)
	if c.Event == nil || c.Event.Unsigned.Membership != "join" {
		t.Fatalf("/context event: %+v", c.Event)
	}
	want(append(c.EventsBefore, c.EventsAfter...), "/context", map[id.EventID]event.Membership{pre: "leave", post: "join"})
	for evID, m := range map[id.EventID]event.Membership{pre: "leave", post: "join"} {
		ev, err := bob.GetEvent(roomsCtx, roomID, evID)
		roomsNoErr(t, err)
		if ev.Unsigned.Membership != m {
			t.Errorf("/event %s: membership %q, want %q", evID, ev.Unsigned.Membership, m)
		}
	}

	// After bob leaves: the leave is "leave", what he saw while joined
	// stays "join".
	since := syncOnce(t, bob, "", 0, "").NextBatch
	_, err = bob.LeaveRoom(roomsCtx, roomID)
	roomsNoErr(t, err)
	var left []*event.Event
	syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
		lr, ok := r.Rooms.Leave[roomID]
		if ok {
			left = lr.Timeline.Events
		}
		return ok
	})
	var bobLeave id.EventID
	for _, ev := range left {
		if ev.Type == event.StateMember && ev.GetStateKey() == bob.UserID.String() {
			bobLeave = ev.ID
		}
	}
	if bobLeave == "" {
		t.Fatalf("left room timeline has no leave of bob: %s", fmt.Sprint(len(left)))
	}
	want(left, "left room /sync", map[id.EventID]event.Membership{bobLeave: "leave"})
	msgs, err = bob.Messages(roomsCtx, roomID, "", "", mautrix.DirectionBackward, nil, 50)
	roomsNoErr(t, err)
	want(msgs.Chunk, "/messages after leaving", map[id.EventID]event.Membership{pre: "leave", bobJoin: "join", post: "join", bobLeave: "leave"})
}
