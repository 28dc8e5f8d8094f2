package e2e

import (
	"fmt"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestSyncPaginationExactlyOnce: 1000 messages paged back and then forward
// with /messages are all present exactly once and in order.
func TestSyncPaginationExactlyOnce(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		room := syncRoom(t, alice)
		const n = 1000
		for i := 0; i < n; i++ {
			syncSend(t, alice, room, fmt.Sprintf("m%04d", i))
		}
		// Backwards from the newest event.
		var back []string
		from := ""
		for pages := 0; pages < 100; pages++ {
			resp, err := alice.Messages(syncCtx, room, from, "", mautrix.DirectionBackward, nil, 97)
			if err != nil {
				t.Fatal(err)
			}
			back = append(back, syncBodies(resp.Chunk)...)
			if resp.End == "" {
				break
			}
			from = resp.End
		}
		if len(back) != n {
			t.Fatalf("backwards: %d messages", len(back))
		}
		for i, b := range back {
			if want := fmt.Sprintf("m%04d", n-1-i); b != want {
				t.Fatalf("backwards[%d] = %s, want %s", i, b, want)
			}
		}
		// Forwards from the beginning of the room.
		var fwd []string
		from = "t0"
		for pages := 0; pages < 100; pages++ {
			resp, err := alice.Messages(syncCtx, room, from, "", mautrix.DirectionForward, nil, 89)
			if err != nil {
				t.Fatal(err)
			}
			fwd = append(fwd, syncBodies(resp.Chunk)...)
			if resp.End == "" {
				break
			}
			from = resp.End
		}
		if len(fwd) != n {
			t.Fatalf("forwards: %d messages", len(fwd))
		}
		for i, b := range fwd {
			if want := fmt.Sprintf("m%04d", i); b != want {
				t.Fatalf("forwards[%d] = %s, want %s", i, b, want)
			}
		}
	})
}

// TestSyncLimitedGapFill: a limited incremental timeline's prev_batch
// fills the gap through /messages up to the previous sync, exactly.
func TestSyncLimitedGapFill(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		syncSend(t, alice, room, "before")
		since := syncOnce(t, bob, "", 0, "").NextBatch
		for i := 0; i < 25; i++ {
			syncSend(t, alice, room, fmt.Sprintf("g%02d", i))
		}
		resp := syncOnce(t, bob, since, 0, `{"room":{"timeline":{"limit":5}}}`)
		jr := resp.Rooms.Join[room]
		if jr == nil || !jr.Timeline.Limited || jr.Timeline.PrevBatch == "" {
			t.Fatalf("expected a limited timeline with prev_batch: %+v", jr)
		}
		got := syncBodies(jr.Timeline.Events)
		if len(got) != 5 || got[0] != "g20" {
			t.Fatalf("timeline %v", got)
		}
		// Fill the gap back to the previous sync token.
		var gap []string
		from := jr.Timeline.PrevBatch
		for {
			m, err := bob.Messages(syncCtx, room, from, since, mautrix.DirectionBackward, nil, 7)
			if err != nil {
				t.Fatal(err)
			}
			gap = append(gap, syncBodies(m.Chunk)...)
			if m.End == "" {
				break
			}
			from = m.End
		}
		if len(gap) != 20 || gap[0] != "g19" || gap[19] != "g00" {
			t.Fatalf("gap %v", gap)
		}
	})
}

// TestMessagesEndAtRoomStart: a backward page that holds the create event
// has no `end`; a filtered page that ran out of matches without reaching
// it keeps `end`, and following it gives an empty chunk without one.
func TestMessagesEndAtRoomStart(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	room := syncRoom(t, alice)
	syncSend(t, alice, room, "one")
	syncSend(t, alice, room, "two")

	all, err := alice.Messages(syncCtx, room, "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Chunk) == 0 || all.Chunk[len(all.Chunk)-1].Type.Type != "m.room.create" || all.End != "" {
		t.Fatalf("unfiltered page: %d events, end %q; want the create event last and no end", len(all.Chunk), all.End)
	}

	filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage}}
	msgs, err := alice.Messages(syncCtx, room, "", "", mautrix.DirectionBackward, filter, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := syncBodies(msgs.Chunk); len(got) != 2 || msgs.End == "" {
		t.Fatalf("filtered page: %v, end %q; want both messages and an end", got, msgs.End)
	}
	rest, err := alice.Messages(syncCtx, room, msgs.End, "", mautrix.DirectionBackward, filter, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Chunk) != 0 || rest.End != "" {
		t.Fatalf("after the end: %d events, end %q; want none and no end", len(rest.Chunk), rest.End)
	}
}
