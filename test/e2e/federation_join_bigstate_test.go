package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

// A join over federation into a room whose state is too big for the
// join's output (more than the roomserver's 100 events: the consumers
// read it from the roomserver instead): B's /sync shows all of it, and
// B's federation sender knows A is in the room (B's message reaches A).
func TestFederationJoinBigStateReachesConsumers(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		a, b := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
		alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		const n = 120
		for i := range n {
			if _, err := alice.SendStateEvent(ctx, room, event.Type{Type: "org.axon.test", Class: event.StateEventType}, strconv.Itoa(i), map[string]int{"i": i}); err != nil {
				t.Fatalf("state event %d: %v", i, err)
			}
		}
		if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			t.Fatalf("bob joins over federation: %v", err)
		}
		bs := newFedSyncer(t, bob)
		bs.until(20*time.Second, "the room on B", func() bool { return bs.membershipOf(room, bob.UserID) == "join" })
		resp, err := bob.SyncRequest(ctx, 0, "", "", true, "") // initial: the room's whole state
		if err != nil {
			t.Fatalf("initial sync on B: %v", err)
		}
		keys, aliceJoined := map[string]bool{}, false
		for _, ev := range append(resp.Rooms.Join[room].State.Events, resp.Rooms.Join[room].Timeline.Events...) {
			if ev.Type.Type == "org.axon.test" && ev.StateKey != nil {
				keys[*ev.StateKey] = true
			}
			aliceJoined = aliceJoined || ev.Type == event.StateMember && ev.StateKey != nil && *ev.StateKey == alice.UserID.String()
		}
		if len(keys) != n || !aliceJoined {
			t.Fatalf("B's /sync shows %d of the room's %d test state events; alice's join: %v", len(keys), n, aliceJoined)
		}
		syncSend(t, bob, room, "hello from B")
		as := newFedSyncer(t, alice)
		as.until(20*time.Second, "B's message on A", func() bool { return as.hasBody(room, "hello from B") })
	})
}
