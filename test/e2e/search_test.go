package e2e

import (
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestSearch drives POST /search: finding a word, not in a room the user
// never joined nor after they left, ranking, recent order, paging,
// context, groupings, filters and a redacted event leaving the index.
func TestSearch(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		carol := inst.Register("carol", "password1")
		room := syncRoom(t, alice, bob)
		quick := syncSend(t, alice, room, "the quick brown fox jumps over the lazy dog today")
		foxes := syncSend(t, bob, room, "Fox! fox, FOX")
		syncSend(t, alice, room, "nothing here")
		private := roomsCreate(t, carol, &mautrix.ReqCreateRoom{Preset: "private_chat"})
		syncSend(t, carol, private, "a secret fox")
		// A room alice left: what came before her leave is searchable, not after.
		left := syncRoom(t, bob, alice)
		before := syncSend(t, bob, left, "fox before the leave")
		if _, err := alice.LeaveRoom(syncCtx, left); err != nil {
			t.Fatalf("leave: %v", err)
		}
		syncSend(t, bob, left, "fox after the leave")

		search := func(c *mautrix.Client, crit map[string]any, nextBatch string) roomsRaw {
			t.Helper()
			path := "/_matrix/client/v3/search"
			if nextBatch != "" {
				path += "?next_batch=" + nextBatch
			}
			r := roomsDo(t, c, "POST", path, map[string]any{"search_categories": map[string]any{"room_events": crit}})
			if r.Status != 200 {
				t.Fatalf("search %v: %d %v", crit, r.Status, r.Body)
			}
			return r
		}
		r := search(alice, map[string]any{"search_term": "fox"}, "")
		ids, cat := searchIDs(r)
		if !slices.Equal(ids, []string{foxes.String(), quick.String(), before.String()}) && !slices.Equal(ids, []string{foxes.String(), before.String(), quick.String()}) {
			t.Fatalf("rank order: %v (want %s first; %s and %s; no private or post-leave events)", ids, foxes, quick, before)
		}
		if !slices.Contains(anyStrings(cat["highlights"]), "fox") {
			t.Fatalf("highlights: %v", cat["highlights"])
		}

		// Newest first, one per page.
		r = search(alice, map[string]any{"search_term": "FOX", "order_by": "recent", "filter": map[string]any{"limit": 1}}, "")
		var paged []string
		pages := 0
		for ; pages < 5; pages++ {
			ids, cat := searchIDs(r)
			paged = append(paged, ids...)
			nb, _ := cat["next_batch"].(string)
			if nb == "" {
				break
			}
			r = search(alice, map[string]any{"search_term": "FOX", "order_by": "recent", "filter": map[string]any{"limit": 1}}, nb)
		}
		if !slices.Equal(paged, []string{before.String(), foxes.String(), quick.String()}) {
			t.Fatalf("recent pages: %v", paged)
		}
		// Every full page has a next_batch; the page after the last one is
		// empty and has none.
		if pages != 3 {
			t.Fatalf("recent pages: next_batch absent after page %d, want after the empty fourth", pages+1)
		}

		// All words must match; filters narrow by room and sender.
		if ids, _ := searchIDs(search(alice, map[string]any{"search_term": "lazy fox"}, "")); !slices.Equal(ids, []string{quick.String()}) {
			t.Fatalf("two words: %v", ids)
		}
		if ids, _ := searchIDs(search(alice, map[string]any{"search_term": "fox", "filter": map[string]any{"senders": []string{bob.UserID.String()}, "rooms": []string{room.String()}}}, "")); !slices.Equal(ids, []string{foxes.String()}) {
			t.Fatalf("filtered: %v", ids)
		}

		// Context with profiles, and groupings.
		r = search(alice, map[string]any{"search_term": "jumps", "event_context": map[string]any{"before_limit": 2, "after_limit": 2, "include_profile": true},
			"groupings": map[string]any{"group_by": []map[string]any{{"key": "room_id"}}}, "include_state": true}, "")
		_, cat = searchIDs(r)
		res := cat["results"].([]any)[0].(map[string]any)
		evCtx := res["context"].(map[string]any)
		if after := evCtx["events_after"].([]any); len(after) != 2 {
			t.Fatalf("context after: %v", evCtx)
		}
		if p := evCtx["profile_info"].(map[string]any)[alice.UserID.String()].(map[string]any); p["displayname"] != "alice" {
			t.Fatalf("profile_info: %v", evCtx["profile_info"])
		}
		if evCtx["start"] == nil || evCtx["end"] == nil {
			t.Fatalf("context tokens: %v", evCtx)
		}
		g := cat["groups"].(map[string]any)["room_id"].(map[string]any)[room.String()].(map[string]any)
		if !slices.Equal(anyStrings(g["results"]), []string{quick.String()}) {
			t.Fatalf("groups: %v", cat["groups"])
		}
		if st := cat["state"].(map[string]any)[room.String()].([]any); len(st) == 0 {
			t.Fatalf("state: %v", cat["state"])
		}

		// Room names are searched under content.name.
		if _, err := alice.SendStateEvent(syncCtx, room, event.StateRoomName, "", map[string]any{"name": "Foxhole"}); err != nil {
			t.Fatalf("name: %v", err)
		}
		if ids, _ := searchIDs(search(alice, map[string]any{"search_term": "foxhole", "keys": []string{"content.name"}}, "")); len(ids) != 1 {
			t.Fatalf("name search: %v", ids)
		}

		// A redacted event leaves the index.
		if _, err := bob.RedactEvent(syncCtx, room, foxes); err != nil {
			t.Fatalf("redact: %v", err)
		}
		testutil.Eventually(t, pushWithin, "redacted event gone from search", func() bool {
			ids, _ := searchIDs(search(alice, map[string]any{"search_term": "fox"}, ""))
			return !slices.Contains(ids, foxes.String())
		})

		// Carol finds her own message; bad input is refused.
		if ids, _ := searchIDs(search(carol, map[string]any{"search_term": "secret"}, "")); len(ids) != 1 {
			t.Fatalf("carol's search: %v", ids)
		}
		for what, crit := range map[string]map[string]any{
			"no term":  {},
			"order_by": {"search_term": "x", "order_by": "best"},
			"key":      {"search_term": "x", "keys": []string{"content.url"}},
		} {
			r := roomsDo(t, alice, "POST", "/_matrix/client/v3/search", map[string]any{"search_categories": map[string]any{"room_events": crit}})
			if r.Status != 400 {
				t.Errorf("%s: %d %v", what, r.Status, r.Body)
			}
		}
		if r := roomsDo(t, alice, "POST", "/_matrix/client/v3/search?next_batch=zz", map[string]any{"search_categories": map[string]any{"room_events": map[string]any{"search_term": "x"}}}); r.Status != 400 {
			t.Errorf("bad next_batch: %d", r.Status)
		}
	})
}

// searchIDs returns the event IDs of a search response's results and its room_events category.
func searchIDs(r roomsRaw) ([]string, map[string]any) {
	cats, _ := r.Body["search_categories"].(map[string]any)
	cat, _ := cats["room_events"].(map[string]any)
	results, _ := cat["results"].([]any)
	var out []string
	for _, x := range results {
		res, _ := x.(map[string]any)
		ev, _ := res["result"].(map[string]any)
		id, _ := ev["event_id"].(string)
		out = append(out, id)
	}
	return out, cat
}

func anyStrings(v any) []string {
	xs, _ := v.([]any)
	var out []string
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
