package e2e

import (
	"encoding/json"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// memberEvent reports whether evs holds userID's member event with membership.
func memberEvent(evs []*event.Event, userID id.UserID, membership string) bool {
	for _, ev := range evs {
		if ev.Type == event.StateMember && ev.StateKey != nil && *ev.StateKey == string(userID) {
			var c struct {
				Membership string `json:"membership"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			if c.Membership == membership {
				return true
			}
		}
	}
	return false
}

// stateName is the m.room.name in evs ("" if none).
func stateName(evs []*event.Event) string {
	for _, ev := range evs {
		if ev.Type == event.StateRoomName {
			var c struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			return c.Name
		}
	}
	return ""
}

// TestSyncLeaveSection: rooms.leave ends its timeline with the user's own
// leave (or ban) event, and its state is the room's state at the leave,
// not later changes: in the incremental sync that sees the leave and in
// an initial sync with include_leave.
func TestSyncLeaveSection(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		carol := inst.Register("carol", "password123")
		room := syncRoom(t, alice, bob, carol)
		setName := func(name string) {
			t.Helper()
			if _, err := alice.SendStateEvent(syncCtx, room, event.StateRoomName, "", map[string]any{"name": name}); err != nil {
				t.Fatal(err)
			}
		}
		bobSince := syncOnce(t, bob, "", 0, "").NextBatch
		carolSince := syncOnce(t, carol, "", 0, "").NextBatch
		setName("before")
		for i := range 3 {
			syncSend(t, alice, room, "msg "+string(rune('a'+i)))
		}
		if _, err := bob.LeaveRoom(syncCtx, room); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.BanUser(syncCtx, room, &mautrix.ReqBanUser{UserID: carol.UserID, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		setName("after")

		// Incremental, timeline limited to 2: the leave ends it, the name
		// change before it is in the state.
		limit2 := `{"room":{"timeline":{"limit":2}}}`
		check := func(c *mautrix.Client, since, membership string) {
			t.Helper()
			r := syncOnce(t, c, since, 0, limit2)
			lr, ok := r.Rooms.Leave[room]
			if !ok {
				t.Fatalf("%s: no rooms.leave entry", c.UserID)
			}
			tl := lr.Timeline.Events
			if len(tl) == 0 || !memberEvent(tl[len(tl)-1:], c.UserID, membership) {
				t.Fatalf("%s: timeline does not end with own %s event (%d events)", c.UserID, membership, len(tl))
			}
			if got := stateName(lr.State.Events); got != "before" {
				t.Fatalf("%s: leave state name %q, want \"before\"", c.UserID, got)
			}
			if !lr.Timeline.Limited {
				t.Fatalf("%s: timeline should be limited", c.UserID)
			}
		}
		check(bob, bobSince, "leave")
		check(carol, carolSince, "ban")

		// Initial sync with include_leave: the whole state at the leave.
		r := syncOnce(t, bob, "", 0, `{"room":{"include_leave":true,"timeline":{"limit":1}}}`)
		lr, ok := r.Rooms.Leave[room]
		if !ok {
			t.Fatalf("initial sync with include_leave: no rooms.leave entry")
		}
		if !memberEvent(lr.Timeline.Events, bob.UserID, "leave") {
			t.Fatalf("initial sync: timeline lacks bob's leave")
		}
		if got := stateName(lr.State.Events); got != "before" {
			t.Fatalf("initial sync: leave state name %q, want \"before\"", got)
		}
		hasCreate := false
		for _, ev := range lr.State.Events {
			hasCreate = hasCreate || ev.Type == event.StateCreate
		}
		if !hasCreate || !memberEvent(lr.State.Events, alice.UserID, "join") {
			t.Fatalf("initial sync: leave state lacks the create event or alice's join")
		}
	})
}
