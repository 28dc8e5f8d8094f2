package e2e

import (
	"testing"
	"time"

	"github.com/axon-hs/axon/server/testserver"
	"maunium.net/go/mautrix"
)

// TestSyncMessagesExactlyOnce: messages sent by one user appear in the
// other's /sync exactly once and in order, across incremental syncs.
func TestSyncMessagesExactlyOnce(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		first := syncOnce(t, bob, "", 0, "")
		if _, ok := first.Rooms.Join[room]; !ok {
			t.Fatalf("initial sync lacks joined room %s", room)
		}
		since := first.NextBatch
		var got []string
		for i := 0; i < 20; i++ {
			syncSend(t, alice, room, "msg"+string(rune('a'+i)))
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(got) < 20 && time.Now().Before(deadline) {
			resp := syncOnce(t, bob, since, 2000, `{"room":{"timeline":{"limit":100}}}`)
			since = resp.NextBatch
			if jr, ok := resp.Rooms.Join[room]; ok {
				if jr.Timeline.Limited {
					t.Fatalf("timeline limited with limit 100")
				}
				got = append(got, syncBodies(jr.Timeline.Events)...)
			}
		}
		if len(got) != 20 {
			t.Fatalf("got %d messages: %v", len(got), got)
		}
		for i, b := range got {
			if b != "msg"+string(rune('a'+i)) {
				t.Fatalf("message %d = %q (all: %v)", i, b, got)
			}
		}
		// Nothing more arrives: an empty long-poll returns after its timeout.
		start := time.Now()
		resp := syncOnce(t, bob, since, 300, "")
		if jr, ok := resp.Rooms.Join[room]; ok && len(jr.Timeline.Events) > 0 {
			t.Fatalf("repeated events: %v", syncBodies(jr.Timeline.Events))
		}
		if time.Since(start) < 250*time.Millisecond {
			t.Fatalf("empty long-poll returned early")
		}
	})
}

// TestSyncLongPollWakes: a waiting /sync returns as soon as a message is sent.
func TestSyncLongPollWakes(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		since := syncOnce(t, bob, "", 0, "").NextBatch
		done := make(chan *mautrix.RespSync, 1)
		start := time.Now()
		go func() {
			resp, err := bob.SyncRequest(syncCtx, 20000, since, "", false, "")
			if err != nil {
				t.Error(err)
			}
			done <- resp
		}()
		time.Sleep(200 * time.Millisecond)
		syncSend(t, alice, room, "wake up")
		select {
		case resp := <-done:
			if resp == nil {
				return
			}
			if b := syncBodies(resp.Rooms.Join[room].Timeline.Events); len(b) != 1 || b[0] != "wake up" {
				t.Fatalf("woken sync has %v", b)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("long-poll took %s", time.Since(start))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("long-poll not woken")
		}
	})
}
