package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/server/testserver"
)

// A's messages that never reached B leave a gap in B's copy of the room
// wider than get_missing_events fills (50 events): B places the oldest
// event it got on state from /state_ids and knows nothing before it.
// bob's incremental /sync across the gap is limited and starts after it,
// without his own message from before it; prev_batch leads across.
func TestSyncTimelineGapLimited(t *testing.T) {
	ctx := context.Background()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins via A: %v", err)
	}
	const filter = `{"room":{"timeline":{"limit":100}}}`
	since := syncOnce(t, bob, "", 0, filter).NextBatch
	syncSend(t, bob, room, "before the gap")
	testutil.Eventually(t, 20*time.Second, "bob's message on A", func() bool { return messageBodies(t, alice, room)["before the gap"] })

	// 70 messages A stores but does not send: SendAsServer names another
	// server as the one that federates them (as if A's queue for B had
	// been lost).
	var hidden []rsapi.InputRoomEvent
	for i := range 70 {
		content, err := json.Marshal(map[string]string{"msgtype": "m.text", "body": fmt.Sprintf("unsent %02d", i)})
		must(t, err)
		hidden = append(hidden, rsapi.InputRoomEvent{Kind: rsapi.KindNew, SendAsServer: "elsewhere.invalid", Local: &rsapi.LocalEvent{
			RoomID: matrixid.RoomID(room.String()), Sender: matrixid.UserID(alice.UserID.String()), Type: "m.room.message", Content: content}})
	}
	resp, err := a.Server.Rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: hidden})
	must(t, err)
	for _, r := range resp.Results {
		if r.Err != nil {
			t.Fatalf("hidden message: %v", r.Err)
		}
	}
	syncSend(t, alice, room, "end")

	var got *mautrix.SyncJoinedRoom
	testutil.Eventually(t, 30*time.Second, "alice's last message in bob's sync", func() bool {
		got = syncOnce(t, bob, since, 0, filter).Rooms.Join[room]
		return got != nil && slices.Contains(syncBodies(got.Timeline.Events), "end")
	})
	bodies := syncBodies(got.Timeline.Events)
	if !got.Timeline.Limited {
		t.Errorf("timeline across the gap not limited: %q", bodies)
	}
	if slices.Contains(bodies, "before the gap") {
		t.Errorf("timeline reaches back across the gap: %q", bodies)
	}
	if slices.Contains(bodies, "unsent 00") || bodies[len(bodies)-1] != "end" {
		t.Errorf("timeline %q: want the messages after the gap, ending with \"end\"", bodies)
	}
	if got.Timeline.PrevBatch == "" {
		t.Errorf("no prev_batch")
	}
}
