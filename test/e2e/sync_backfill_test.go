package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// A server that joins a room late pages back into the history from
// before its join: /messages backfills it from the other server, page
// after page, and serves it in order until the other server has no more.
// (State events the joining server already had from the join, like the
// room's creation, are not backfilled into the timeline.)
func TestSyncBackfillMessages(t *testing.T) {
	ctx := context.Background()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")

	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	const n = 25
	var want []string
	for i := range n {
		body := fmt.Sprintf("history %02d", i)
		syncSend(t, alice, room, body)
		want = append(want, body)
	}
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins via A: %v", err)
	}
	syncSend(t, alice, room, "after join")
	bs := newFedSyncer(t, bob)
	bs.until(20*time.Second, "message after bob's join", func() bool { return bs.hasBody(room, "after join") })

	// Page backwards 10 at a time from now to the start.
	var got []string
	from := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatalf("pagination does not end")
		}
		resp, err := bob.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 10)
		if err != nil {
			t.Fatalf("messages: %v", err)
		}
		got = append(got, syncBodies(resp.Chunk)...)
		if resp.End == "" {
			break
		}
		from = resp.End
	}
	slices.Reverse(got)
	wantAll := append(slices.Clone(want), "after join")
	if !slices.Equal(got, wantAll) {
		t.Fatalf("history through backfill:\n got %q\nwant %q", got, wantAll)
	}
}

// Paging back through a backfilled room reaches its very first messages:
// the last /backfill answer holds the room's creation (whose state, on
// the server that has it, is empty rather than unknown), and the page
// ends with the oldest message, not two short of it.
func TestSyncBackfillToRoomStart(t *testing.T) {
	ctx := context.Background()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	var want []string
	for i := range 20 {
		body := fmt.Sprintf("history %02d", i)
		syncSend(t, alice, room, body)
		want = append(want, body)
	}
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins via A: %v", err)
	}
	var got []string
	from := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatalf("pagination does not end")
		}
		resp, err := bob.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 10)
		if err != nil {
			t.Fatalf("messages: %v", err)
		}
		got = append(got, syncBodies(resp.Chunk)...)
		if resp.End == "" {
			break
		}
		from = resp.End
	}
	slices.Reverse(got)
	if !slices.Equal(got, want) {
		t.Fatalf("history through backfill:\n got %q\nwant %q", got, want)
	}
}

// A page larger than one /backfill answer is filled by asking again from
// the new oldest event, not cut short at the first answer.
func TestSyncBackfillFillsPage(t *testing.T) {
	ctx := context.Background()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	const n, limit = 130, 120 // one /backfill answer holds at most 100
	var want []string
	for i := range n {
		body := fmt.Sprintf("history %03d", i)
		syncSend(t, alice, room, body)
		want = append(want, body)
	}
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins via A: %v", err)
	}
	resp, err := bob.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, limit)
	if err != nil {
		t.Fatalf("messages: %v", err)
	}
	got := syncBodies(resp.Chunk)
	slices.Reverse(got)
	// The page holds bob's join and the newest limit-1 messages.
	if wantPage := want[n-limit+1:]; !slices.Equal(got, wantPage) {
		t.Fatalf("first page of %d:\n got %d %q\nwant %d %q", limit, len(got), got, len(wantPage), wantPage)
	}
	if resp.End == "" {
		t.Fatalf("first page has no end token; %d older messages remain", n-limit+1)
	}
}
