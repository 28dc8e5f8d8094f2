package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

// Polls notify (MSC3930's default rules): a poll starting or ending
// counts for the other member, a vote does not. The rules are there to
// read and switch off like any default rule.
func TestPushPollRules(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
	room := syncRoom(t, alice, bob)
	for _, path := range []string{"override/.org.matrix.msc3930.rule.poll_response", "underride/.org.matrix.msc3930.rule.poll_start_one_to_one",
		"underride/.org.matrix.msc3930.rule.poll_start", "underride/.org.matrix.msc3930.rule.poll_end_one_to_one", "underride/.org.matrix.msc3930.rule.poll_end"} {
		if r := roomsDo(t, bob, "GET", "/_matrix/client/v3/pushrules/global/"+path, nil); r.Status != http.StatusOK || r.Body["default"] != true {
			t.Errorf("GET %s: %d %v", path, r.Status, r.Body)
		}
	}
	since := syncOnce(t, bob, "", 0, "").NextBatch
	send := func(typ string, content map[string]any) {
		t.Helper()
		if _, err := alice.SendMessageEvent(syncCtx, room, event.Type{Type: typ, Class: event.MessageEventType}, content); err != nil {
			t.Fatal(err)
		}
	}
	start := map[string]any{"org.matrix.msc3381.poll.start": map[string]any{"question": map[string]any{"org.matrix.msc1767.text": "tea?"},
		"answers": []any{map[string]any{"id": "y", "org.matrix.msc1767.text": "yes"}}}, "org.matrix.msc1767.text": "tea?"}
	send("org.matrix.msc3381.poll.start", start)
	send("org.matrix.msc3381.poll.response", map[string]any{"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{"y"}}})
	send("org.matrix.msc3381.poll.end", map[string]any{"org.matrix.msc1767.text": "ended"})
	syncSend(t, alice, room, "marker")
	var counts *mautrix.UnreadNotificationCounts
	syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
		jr := r.Rooms.Join[room]
		if jr == nil || !slices.Contains(syncBodies(jr.Timeline.Events), "marker") {
			return false
		}
		counts = jr.UnreadNotifications
		return true
	})
	// start + end + the marker message; the vote is silent.
	if counts == nil || counts.NotificationCount != 3 {
		t.Fatalf("unread_notifications %+v, want 3 (poll start, poll end, message)", counts)
	}
}
