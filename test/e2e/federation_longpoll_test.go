package e2e

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
)

// In an encrypted room shared across two servers (device lists flow over
// federation), a long-polling /sync returns only with something new for
// the client: every answer before the awaited message carries a new
// next_batch (issue 17 saw one token answered ~470 times a second in
// Complement TestDeviceListsUpdateOverFederation).
func TestFederationLongPollReturnsOnlyWithNews(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	bs := newFedSyncer(t, bob)
	const wait = 20 * time.Second
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID},
		InitialState: []*event.Event{{Type: event.StateEncryption, StateKey: new(string),
			Content: event.Content{Raw: map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}}}})
	bs.until(wait, "bob's invite", func() bool { return bs.invite[room] })
	if _, err := bob.JoinRoom(ctx, room.String(), nil); err != nil {
		t.Fatalf("bob joins: %v", err)
	}
	bs.until(wait, "bob's join", func() bool { return bs.membershipOf(room, bob.UserID) == "join" })

	type answer struct {
		resp *mautrix.RespSync
		err  error
	}
	since, sent := bs.since, false
	for answers := 0; ; answers++ {
		if answers > 50 {
			t.Fatal("50 long-poll answers without the message")
		}
		got := make(chan answer, 1)
		parkedBefore := parkedLongPolls(t)
		go func(since string) {
			resp, err := bob.SyncRequest(ctx, 60000, since, "", false, "")
			got <- answer{resp, err}
		}(since)
		if !sent {
			// Send once the poll is parked, so an early empty answer
			// would be seen as one.
			testutil.Eventually(t, wait, "bob's long-poll parked", func() bool {
				select {
				case ans := <-got:
					got <- ans // answered already: news came first
					return true
				default:
				}
				return parkedLongPolls(t) > parkedBefore
			})
			syncSend(t, alice, room, "worth waking for")
			sent = true
		}
		ans := <-got
		if ans.err != nil {
			t.Fatalf("long-poll: %v", ans.err)
		}
		if syncHasBody(ans.resp, room, "worth waking for") {
			return
		}
		if ans.resp.NextBatch == since {
			t.Fatalf("long-poll answered with nothing new (next_batch %s unchanged) after %d answers", since, answers)
		}
		since = ans.resp.NextBatch
	}
}

func syncHasBody(resp *mautrix.RespSync, room id.RoomID, body string) bool {
	r, ok := resp.Rooms.Join[room]
	if !ok {
		return false
	}
	for _, b := range syncBodies(r.Timeline.Events) {
		if b == body {
			return true
		}
	}
	return false
}
