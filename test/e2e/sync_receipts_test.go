package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// A user with a threaded and an unthreaded read receipt on the same
// event: m.receipt holds one receipt per user and event, and it is the
// unthreaded one (MSC4102), whichever was sent last (alice sends it
// first, bob last).
func TestSyncReceiptUnthreadedWins(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice, bob, carol := inst.Register("alice", "password123"), inst.Register("bob", "password123"), inst.Register("carol", "password123")
	room := syncRoom(t, alice, bob, carol)
	root := syncSend(t, alice, room, "root")
	r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/rooms/"+string(room)+"/send/m.room.message/reply", map[string]any{
		"msgtype": "m.text", "body": "reply", "m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": root}})
	if r.Status != http.StatusOK {
		t.Fatalf("send in thread: %d %v", r.Status, r.Body)
	}
	reply := id.EventID(r.Body["event_id"].(string))
	syncUntil(t, carol, "", 10*time.Second, func(r *mautrix.RespSync) bool {
		jr := r.Rooms.Join[room]
		return jr != nil && slices.Contains(syncBodies(jr.Timeline.Events), "reply")
	})
	receipt := func(c *mautrix.Client, body map[string]any) {
		t.Helper()
		if r := roomsDo(t, c, "POST", "/_matrix/client/v3/rooms/"+string(room)+"/receipt/m.read/"+string(reply), body); r.Status != http.StatusOK {
			t.Fatalf("receipt: %d %v", r.Status, r.Body)
		}
	}
	receipt(alice, map[string]any{})
	receipt(alice, map[string]any{"thread_id": root})
	receipt(bob, map[string]any{"thread_id": root})
	receipt(bob, map[string]any{})

	jr := syncOnce(t, carol, "", 0, "").Rooms.Join[room]
	if jr == nil {
		t.Fatal("room not in carol's sync")
	}
	var content map[id.EventID]map[string]map[string]struct {
		ThreadID *string `json:"thread_id"`
	}
	for _, ev := range jr.Ephemeral.Events {
		if ev.Type == event.EphemeralEventReceipt {
			must(t, json.Unmarshal(ev.Content.VeryRaw, &content))
		}
	}
	for _, u := range []*mautrix.Client{alice, bob} {
		r, ok := content[reply]["m.read"][string(u.UserID)]
		if !ok {
			t.Fatalf("no receipt of %s: %v", u.UserID, content)
		}
		if r.ThreadID != nil {
			t.Errorf("receipt of %s is the threaded one (thread_id %q), want the unthreaded", u.UserID, *r.ThreadID)
		}
	}
}
