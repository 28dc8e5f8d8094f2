package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// A room on A joined from B over federation (via server_name); messages
// flow both ways and reach /sync on both servers. Runs on SQLite and
// PostgreSQL.
func TestFederationJoinAndMessages(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		a, b := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
		alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "fed room"})
		syncSend(t, alice, room, "before bob")

		if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			t.Fatalf("bob joins over federation: %v", err)
		}
		as, bs := newFedSyncer(t, alice), newFedSyncer(t, bob)
		as.until(20*time.Second, "bob's join on A", func() bool { return as.membershipOf(room, bob.UserID) == "join" })
		bs.until(20*time.Second, "the room on B", func() bool { return bs.membershipOf(room, bob.UserID) == "join" })

		syncSend(t, alice, room, "hello from A")
		syncSend(t, bob, room, "hello from B")
		bs.until(20*time.Second, "A's message on B", func() bool { return bs.hasBody(room, "hello from A") })
		as.until(20*time.Second, "B's message on A", func() bool { return as.hasBody(room, "hello from B") })
		for i := range 5 {
			syncSend(t, alice, room, fmt.Sprintf("a%d", i))
			syncSend(t, bob, room, fmt.Sprintf("b%d", i))
		}
		for i := range 5 {
			as.until(20*time.Second, "burst on A", func() bool { return as.hasBody(room, fmt.Sprintf("b%d", i)) })
			bs.until(20*time.Second, "burst on B", func() bool { return bs.hasBody(room, fmt.Sprintf("a%d", i)) })
		}
	})
}
