package e2e

import (
	"encoding/json"
	"net/url"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// TestEventBundledAggregations: GET /rooms/{roomId}/event/{eventId}
// bundles m.replace, m.thread and m.reference in unsigned.m.relations,
// exactly as /messages does for the same event; unknown, foreign-room
// and unviewable events are 404.
func TestEventBundledAggregations(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		root := syncSend(t, alice, room, "root")
		send := func(content map[string]any) id.EventID {
			t.Helper()
			resp, err := alice.SendMessageEvent(roomsCtx, room, event.EventMessage, content)
			must(t, err)
			return resp.EventID
		}
		edit := send(map[string]any{"msgtype": "m.text", "body": "* root edited",
			"m.new_content": map[string]any{"msgtype": "m.text", "body": "root edited"},
			"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": root}})
		reply, err := bob.SendMessageEvent(roomsCtx, room, event.EventMessage, map[string]any{"msgtype": "m.text", "body": "in thread",
			"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": root}})
		must(t, err)
		ref := send(map[string]any{"msgtype": "m.text", "body": "see root",
			"m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": root}})

		base := "/_matrix/client/v3/rooms/" + url.PathEscape(string(room))
		got := roomsDo(t, bob, "GET", base+"/event/"+url.PathEscape(string(root)), nil)
		if got.Status != 200 || got.Body["event_id"] != string(root) {
			t.Fatalf("/event: %d %v", got.Status, got.Body)
		}
		unsigned, _ := got.Body["unsigned"].(map[string]any)
		rels, _ := unsigned["m.relations"].(map[string]any)
		replace, _ := rels["m.replace"].(map[string]any)
		thread, _ := rels["m.thread"].(map[string]any)
		latest, _ := thread["latest_event"].(map[string]any)
		refs, _ := rels["m.reference"].(map[string]any)
		chunk, _ := refs["chunk"].([]any)
		if replace["event_id"] != string(edit) || latest["event_id"] != string(reply.EventID) || thread["count"] != float64(1) ||
			thread["current_user_participated"] != true || len(chunk) != 1 || chunk[0].(map[string]any)["event_id"] != string(ref) {
			t.Fatalf("/event bundled aggregations: %v", rels)
		}

		// The same event in /messages carries the same aggregations.
		msgs := roomsDo(t, bob, "GET", base+"/messages?dir=b&limit=50", nil)
		evs, _ := msgs.Body["chunk"].([]any)
		var fromMessages any
		for _, e := range evs {
			if m := e.(map[string]any); m["event_id"] == string(root) {
				fromMessages = m["unsigned"].(map[string]any)["m.relations"]
			}
		}
		a, _ := json.Marshal(fromMessages)
		b, _ := json.Marshal(rels)
		if string(a) != string(b) {
			t.Fatalf("/messages relations %s, /event relations %s", a, b)
		}

		// Not found: unknown event, an event of another room, a room the
		// user cannot view.
		other := syncRoom(t, alice)
		otherEv := syncSend(t, alice, other, "elsewhere")
		carol := inst.Register("carol", "password123")
		for what, path := range map[string]string{
			"unknown":    base + "/event/" + url.PathEscape("$nope"),
			"other room": base + "/event/" + url.PathEscape(string(otherEv)),
		} {
			if r := roomsDo(t, bob, "GET", path, nil); r.Status != 404 || r.errcode() != "M_NOT_FOUND" {
				t.Fatalf("%s: %d %v", what, r.Status, r.Body)
			}
		}
		if r := roomsDo(t, carol, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(string(other))+"/event/"+url.PathEscape(string(otherEv)), nil); r.Status != 404 {
			t.Fatalf("non-member: %d %v", r.Status, r.Body)
		}
	})
}
