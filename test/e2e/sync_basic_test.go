package e2e

import (
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/testutil"
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
		testutil.Eventually(t, 10*time.Second, "20 messages in bob's /sync", func() bool {
			resp := syncOnce(t, bob, since, 2000, `{"room":{"timeline":{"limit":100}}}`)
			since = resp.NextBatch
			if jr, ok := resp.Rooms.Join[room]; ok {
				if jr.Timeline.Limited {
					t.Fatalf("timeline limited with limit 100")
				}
				got = append(got, syncBodies(jr.Timeline.Events)...)
			}
			return len(got) >= 20
		})
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

// TestSyncLongPollWakes: a /sync that is already waiting returns as soon
// as a message is sent. The message goes out only once the server reports
// the long-poll parked, so it cannot be picked up by the request's first
// read: only the wake-up can deliver it.
func TestSyncLongPollWakes(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		since := syncOnce(t, bob, "", 0, "").NextBatch
		if n := parkedLongPolls(t); n != 0 {
			t.Fatalf("%d long-polls parked before the test's", n)
		}
		type result struct {
			resp *mautrix.RespSync
			err  error
		}
		done := make(chan result, 1)
		go func() {
			resp, err := bob.SyncRequest(syncCtx, 60000, since, "", false, "")
			done <- result{resp, err}
		}()
		testutil.Eventually(t, 10*time.Second, "bob's long-poll to park", func() bool { return parkedLongPolls(t) == 1 })
		syncSend(t, alice, room, "wake up")
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatal(r.err)
			}
			if b := syncBodies(r.resp.Rooms.Join[room].Timeline.Events); len(b) != 1 || b[0] != "wake up" {
				t.Fatalf("woken sync has %v", b)
			}
		case <-time.After(30 * time.Second): // half the long-poll's own timeout
			t.Fatal("long-poll not woken by the message")
		}
		testutil.Eventually(t, 10*time.Second, "the woken long-poll to leave the gauge", func() bool { return parkedLongPolls(t) == 0 })
	})
}
