package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestDeactivateErase: deactivation with erase (client API and admin
// API) makes every read path serve the user's past messages redacted —
// /messages, /context, /event, /sync (also a later joiner's initial sync)
// and /search — while their state events and other users' messages stay.
// Deactivation without erase hides nothing.
func TestDeactivateErase(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "admin")
		alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
		dave, erin := inst.Register("dave", "password123"), inst.Register("erin", "password123")
		room := syncRoom(t, alice, bob, dave, erin)
		_, err := alice.SendStateEvent(roomsCtx, room, event.StateTopic, "", map[string]any{"topic": "alice's topic"})
		must(t, err)
		aliceMsg := syncSend(t, alice, room, "alicesecret words")
		daveMsg := syncSend(t, dave, room, "davesecret words")
		erinMsg := syncSend(t, erin, room, "erinkept words")
		bobMsg := syncSend(t, bob, room, "bobkept words")

		// alice erases herself; dave is erased by the admin; erin is
		// deactivated without erase.
		r := roomsDo(t, alice, "POST", "/_matrix/client/v3/account/deactivate", map[string]any{"erase": true})
		r = roomsDo(t, alice, "POST", "/_matrix/client/v3/account/deactivate", map[string]any{"erase": true,
			"auth": acctPasswordAuth("alice", "password123", fmt.Sprint(r.Body["session"]))})
		if r.Status != 200 {
			t.Fatalf("deactivate with erase: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "POST", "/v1/deactivate/"+url.PathEscape(string(dave.UserID)), map[string]any{"erase": true}); r.Status != 200 {
			t.Fatalf("admin deactivate with erase: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "POST", "/v1/deactivate/"+url.PathEscape(string(erin.UserID)), map[string]any{}); r.Status != 200 {
			t.Fatalf("admin deactivate: %d %v", r.Status, r.Body)
		}
		for who, want := range map[id.UserID]bool{alice.UserID: true, dave.UserID: true, erin.UserID: false} {
			if u := adminDo(t, admin, "GET", "/v2/users/"+url.PathEscape(string(who)), nil); u.Body["erased"] != want {
				t.Fatalf("%s: admin user erased = %v, want %v", who, u.Body["erased"], want)
			}
		}

		base := "/_matrix/client/v3/rooms/" + url.PathEscape(string(room))
		body := func(ev any) (string, bool) {
			m, _ := ev.(map[string]any)
			c, _ := m["content"].(map[string]any)
			b, ok := c["body"].(string)
			return b, ok
		}
		getEvent := func(c *mautrix.Client, evID id.EventID) map[string]any {
			t.Helper()
			r := roomsDo(t, c, "GET", base+"/event/"+url.PathEscape(string(evID)), nil)
			if r.Status != 200 {
				t.Fatalf("/event %s: %d %v", evID, r.Status, r.Body)
			}
			return r.Body
		}
		// The erasure reaches syncapi through the account_data stream.
		testutil.Eventually(t, 10*time.Second, "erased messages served redacted", func() bool {
			_, a := body(getEvent(bob, aliceMsg))
			_, d := body(getEvent(bob, daveMsg))
			return !a && !d
		})
		for _, evID := range []id.EventID{aliceMsg, daveMsg} {
			ev := getEvent(bob, evID)
			if c, _ := ev["content"].(map[string]any); len(c) != 0 || ev["sender"] == nil || ev["type"] != "m.room.message" {
				t.Fatalf("/event of an erased message: %v", ev)
			}
		}
		for evID, want := range map[id.EventID]string{erinMsg: "erinkept words", bobMsg: "bobkept words"} {
			if b, _ := body(getEvent(bob, evID)); b != want {
				t.Fatalf("/event %s: body %q, want %q", evID, b, want)
			}
		}

		// /messages and /context.
		wantBodies := func(what string, evs []any) {
			t.Helper()
			got := map[string]bool{}
			for _, e := range evs {
				if b, ok := body(e); ok {
					got[b] = true
				}
			}
			if got["alicesecret words"] || got["davesecret words"] || !got["erinkept words"] || !got["bobkept words"] {
				t.Fatalf("%s shows %v", what, got)
			}
		}
		m := roomsDo(t, bob, "GET", base+"/messages?dir=b&limit=100", nil)
		chunk, _ := m.Body["chunk"].([]any)
		wantBodies("/messages", chunk)
		cx := roomsDo(t, bob, "GET", base+"/context/"+url.PathEscape(string(daveMsg))+"?limit=20", nil)
		before, _ := cx.Body["events_before"].([]any)
		after, _ := cx.Body["events_after"].([]any)
		wantBodies("/context", append(append([]any{cx.Body["event"]}, before...), after...))

		// A user who joins later sees them redacted in an initial /sync;
		// alice's topic (state) stays.
		frank := inst.Register("frank", "password123")
		_, err = frank.JoinRoomByID(roomsCtx, room)
		must(t, err)
		resp := syncOnce(t, frank, "", 0, `{"room":{"timeline":{"limit":50}}}`)
		jr := resp.Rooms.Join[room]
		if jr == nil {
			t.Fatalf("frank's sync has no room")
		}
		var timeline []any
		for _, ev := range jr.Timeline.Events {
			timeline = append(timeline, map[string]any{"content": ev.Content.Raw})
		}
		wantBodies("a later joiner's /sync", timeline)
		if topic := roomsStateContent(t, frank, room, "m.room.topic", ""); topic["topic"] != "alice's topic" {
			t.Fatalf("erased user's state event changed: %v", topic)
		}

		// /search finds nothing of theirs.
		for term, want := range map[string]int{"alicesecret": 0, "davesecret": 0, "erinkept": 1} {
			sr := roomsDo(t, bob, "POST", "/_matrix/client/v3/search", map[string]any{"search_categories": map[string]any{
				"room_events": map[string]any{"search_term": term}}})
			cats, _ := sr.Body["search_categories"].(map[string]any)
			re, _ := cats["room_events"].(map[string]any)
			results, _ := re["results"].([]any)
			if len(results) != want {
				t.Fatalf("/search %q: %d results, want %d (%v)", term, len(results), want, sr.Body)
			}
			for _, res := range results {
				if b, _ := body(res.(map[string]any)["result"]); strings.Contains(b, "secret") {
					t.Fatalf("/search %q shows %q", term, b)
				}
			}
		}
	})
}
