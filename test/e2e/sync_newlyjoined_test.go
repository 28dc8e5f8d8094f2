package e2e

import (
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// presenceSenders lists the users of a sync's presence events.
func presenceSenders(r *mautrix.RespSync) []string {
	var out []string
	for _, ev := range r.Presence.Events {
		out = append(out, ev.Sender.String())
	}
	return out
}

// Joining a room brings the presence of its members in the joiner's next
// incremental sync, and the joiner's presence to the members, although
// nobody's presence changed; it is not sent again after that.
func TestSyncPresenceOfNewlySharedUsers(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	// Both are online (a sync sets presence) before they share a room.
	aliceSince := syncOnce(t, alice, "", 0, "").NextBatch
	bobSince := syncOnce(t, bob, "", 0, "").NextBatch
	aliceSince = syncOnce(t, alice, aliceSince, 0, "").NextBatch
	bobSince = syncOnce(t, bob, bobSince, 0, "").NextBatch

	_, err := bob.JoinRoomByID(roomsCtx, roomID)
	roomsNoErr(t, err)
	bobSince = syncUntil(t, bob, bobSince, 10*time.Second, func(r *mautrix.RespSync) bool {
		return slices.Contains(presenceSenders(r), alice.UserID.String())
	})
	syncUntil(t, alice, aliceSince, 10*time.Second, func(r *mautrix.RespSync) bool {
		return slices.Contains(presenceSenders(r), bob.UserID.String())
	})
	// Not again: a message later brings no presence of the other.
	syncSend(t, alice, roomID, "hello")
	r := syncOnce(t, bob, bobSince, 0, "")
	if slices.Contains(presenceSenders(r), alice.UserID.String()) {
		t.Fatalf("alice's unchanged presence sent again: %v", presenceSenders(r))
	}
}

// A room joined since the last sync has a limited timeline unless the
// timeline starts at the room's creation: the client has none of its
// history.
func TestSyncNewlyJoinedRoomLimited(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	for range 3 {
		syncSend(t, alice, roomID, "before bob")
	}
	onlyMessages := `{"room":{"timeline":{"limit":10,"types":["m.room.message"]},"state":{"types":[]}}}`
	everything := `{"room":{"timeline":{"limit":50}}}`
	since := syncOnce(t, bob, "", 0, onlyMessages).NextBatch
	sinceAll := syncOnce(t, bob, "", 0, everything).NextBatch
	_, err := bob.JoinRoomByID(roomsCtx, roomID)
	roomsNoErr(t, err)

	var tl mautrix.SyncTimeline
	syncUntilFiltered(t, bob, since, onlyMessages, func(r *mautrix.RespSync) bool {
		jr, ok := r.Rooms.Join[roomID]
		if ok {
			tl = jr.Timeline
		}
		return ok
	})
	if len(syncBodies(tl.Events)) != 3 || !tl.Limited || tl.PrevBatch == "" {
		t.Fatalf("newly joined room, messages only: %d events, limited %v", len(tl.Events), tl.Limited)
	}
	// The whole history fits: not limited.
	syncUntilFiltered(t, bob, sinceAll, everything, func(r *mautrix.RespSync) bool {
		jr, ok := r.Rooms.Join[roomID]
		if ok {
			tl = jr.Timeline
		}
		return ok
	})
	if tl.Limited || len(tl.Events) == 0 || tl.Events[0].Type != event.StateCreate {
		t.Fatalf("newly joined room, whole history: limited %v, first %v", tl.Limited, firstType(tl.Events))
	}
	// Later incremental syncs of the room are not limited by this.
	next := syncOnce(t, bob, "", 0, onlyMessages).NextBatch
	syncSend(t, alice, roomID, "after bob")
	syncUntilFiltered(t, bob, next, onlyMessages, func(r *mautrix.RespSync) bool {
		jr, ok := r.Rooms.Join[roomID]
		if ok {
			tl = jr.Timeline
		}
		return ok && len(jr.Timeline.Events) > 0
	})
	if tl.Limited {
		t.Fatal("incremental sync of a room joined earlier is limited")
	}
}

func firstType(evs []*event.Event) string {
	if len(evs) == 0 {
		return ""
	}
	return evs[0].Type.Type
}

// syncUntilFiltered is syncUntil with a filter.
func syncUntilFiltered(t *testing.T, c *mautrix.Client, since, filter string, cond func(*mautrix.RespSync) bool) string {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, "a filtered /sync response meeting the condition", func() bool {
		resp := syncOnce(t, c, since, 1000, filter)
		since = resp.NextBatch
		return cond(resp)
	})
	return since
}
