package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// Follow-ups a client makes the moment a write returned, served by
// syncapi from its copy of the rooms (which trails the roomserver by the
// stream): each is answered as if the write were already applied. The
// unit tests (syncapi TestReceiptForEventNotYetApplied and the others of
// readyourwrites_test.go) hold the copy back deterministically; this runs
// the real race several times.
func TestReadYourWritesFollowUps(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
	for i := range 10 {
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		_, err := bob.JoinRoomByID(roomsCtx, room)
		roomsNoErr(t, err)
		if r := roomsDo(t, bob, "GET", "/_matrix/client/v3/presence/"+url.PathEscape(string(alice.UserID))+"/status", nil); r.Status != http.StatusOK {
			t.Fatalf("round %d: bob reads alice's presence right after joining her room: %d %v", i, r.Status, r.Body)
		}
		r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/rooms/"+string(room)+"/send/m.room.message/m"+string(rune('a'+i)), map[string]any{
			"msgtype": "m.text", "body": "hi bob", "m.mentions": map[string]any{"user_ids": []id.UserID{bob.UserID}}})
		if r.Status != http.StatusOK {
			t.Fatalf("round %d: send: %d %v", i, r.Status, r.Body)
		}
		ev := r.Body["event_id"].(string)
		if r := roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+string(room)+"/receipt/m.read/"+url.PathEscape(ev), map[string]any{}); r.Status != http.StatusOK {
			t.Fatalf("round %d: receipt for the message just sent: %d %v", i, r.Status, r.Body)
		}
		if r := roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+string(room)+"/read_markers", map[string]any{"m.fully_read": ev}); r.Status != http.StatusOK {
			t.Fatalf("round %d: read marker at the message just sent: %d %v", i, r.Status, r.Body)
		}
		n := roomsDo(t, bob, "GET", "/_matrix/client/v3/notifications?limit=1", nil)
		list, _ := n.Body["notifications"].([]any)
		if n.Status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["event"].(map[string]any)["event_id"] != ev {
			t.Fatalf("round %d: bob's newest notification right after the mention: %d %v", i, n.Status, n.Body)
		}
	}
}
