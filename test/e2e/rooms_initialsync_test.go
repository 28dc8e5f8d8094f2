package e2e

import (
	"fmt"
	"net/url"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

// TestRoomInitialSync: GET /rooms/{roomId}/initialSync gives a member the
// room's state and its latest messages oldest first, with a start token
// /messages pages back from; a world-readable room can be peeked by a
// non-member; other rooms are refused.
func TestRoomInitialSync(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "snapshot"})
		for i := range 25 {
			syncSend(t, alice, room, fmt.Sprintf("m%02d", i))
		}
		must(t, alice.SetAccountData(roomsCtx, "org.example.global", map[string]any{})) // global: not the room's
		must(t, alice.SetRoomAccountData(roomsCtx, room, "org.example.room", map[string]any{"k": "v"}))

		path := "/_matrix/client/v3/rooms/" + url.PathEscape(string(room)) + "/initialSync"
		r := roomsDo(t, alice, "GET", path, nil)
		if r.Status != 200 || r.Body["room_id"] != string(room) || r.Body["membership"] != "join" {
			t.Fatalf("initialSync: %d %v", r.Status, r.Body)
		}
		msgs := r.Body["messages"].(map[string]any)
		chunk := msgs["chunk"].([]any)
		var bodies []string
		for _, e := range chunk {
			if b, ok := e.(map[string]any)["content"].(map[string]any)["body"].(string); ok {
				bodies = append(bodies, b)
			}
		}
		if len(chunk) != 20 || len(bodies) != 20 || bodies[0] != "m05" || bodies[19] != "m24" {
			t.Fatalf("initialSync messages (want m05..m24 oldest first): %v", bodies)
		}
		older := roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(string(room))+"/messages?dir=b&limit=1&from="+url.QueryEscape(msgs["start"].(string)), nil)
		if oc, _ := older.Body["chunk"].([]any); len(oc) != 1 || oc[0].(map[string]any)["content"].(map[string]any)["body"] != "m04" {
			t.Fatalf("/messages from initialSync's start: %v", older.Body)
		}
		var name any
		for _, e := range r.Body["state"].([]any) {
			if ev := e.(map[string]any); ev["type"] == "m.room.name" {
				name = ev["content"].(map[string]any)["name"]
			}
		}
		ad := r.Body["account_data"].([]any)
		if name != "snapshot" || len(ad) != 1 || ad[0].(map[string]any)["type"] != "org.example.room" {
			t.Fatalf("initialSync state name %v, account_data %v", name, ad)
		}

		// bob is no member: refused, until the room is world readable.
		if r := roomsDo(t, bob, "GET", path, nil); r.Status != 403 || r.errcode() != "M_FORBIDDEN" {
			t.Fatalf("non-member initialSync: %d %v", r.Status, r.Body)
		}
		_, err := alice.SendStateEvent(roomsCtx, room, event.StateHistoryVisibility, "", map[string]any{"history_visibility": "world_readable"})
		must(t, err)
		peek := roomsDo(t, bob, "GET", path, nil)
		if peek.Status != 200 || peek.Body["membership"] != nil || len(peek.Body["messages"].(map[string]any)["chunk"].([]any)) == 0 {
			t.Fatalf("peeking initialSync: %d %v", peek.Status, peek.Body)
		}
	})
}
