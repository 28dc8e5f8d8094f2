package e2e

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// TestRoomTags: tags round-trip through the tag routes, /sync (as m.tag
// room account data) and sliding sync; concurrent changes keep each other.
func TestRoomTags(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password1")
		room := syncRoom(t, alice)
		base := "/_matrix/client/v3/user/" + alice.UserID.String() + "/rooms/" + room.String() + "/tags"
		since := syncOnce(t, alice, "", 0, "").NextBatch

		if r := roomsDo(t, alice, "PUT", base+"/m.favourite", map[string]any{"order": 0.25}); r.Status != 200 {
			t.Fatalf("put tag: %d %v", r.Status, r.Body)
		}
		// Concurrent PUTs of different tags all survive.
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for _, tag := range []string{"u.a", "u.b", "u.c", "u.d"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r, err := tagPut(alice, base+"/"+tag); err != nil || r != 200 {
					errs <- tag
				}
			}()
		}
		wg.Wait()
		close(errs)
		for tag := range errs {
			t.Fatalf("concurrent put of %s failed", tag)
		}
		r := roomsDo(t, alice, "GET", base, nil)
		tags, _ := r.Body["tags"].(map[string]any)
		fav, _ := tags["m.favourite"].(map[string]any)
		if r.Status != 200 || len(tags) != 5 || fav["order"] != 0.25 {
			t.Fatalf("get tags: %d %v", r.Status, r.Body)
		}
		if r := roomsDo(t, alice, "DELETE", base+"/u.a", nil); r.Status != 200 {
			t.Fatalf("delete tag: %d %v", r.Status, r.Body)
		}

		// /sync carries m.tag in the room's account data.
		syncUntil(t, alice, since, 10*time.Second, func(resp *mautrix.RespSync) bool {
			jr := resp.Rooms.Join[room]
			if jr == nil {
				return false
			}
			for _, ev := range jr.AccountData.Events {
				if ev.Type == event.AccountDataRoomTags {
					var c struct {
						Tags map[string]json.RawMessage `json:"tags"`
					}
					_ = json.Unmarshal(ev.Content.VeryRaw, &c)
					_, fav := c.Tags["m.favourite"]
					_, gone := c.Tags["u.a"]
					return len(c.Tags) == 4 && fav && !gone
				}
			}
			return false
		})

		// Sliding sync's account_data extension has it too.
		sr := roomsDo(t, alice, "POST", "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync", map[string]any{
			"lists":      map[string]any{"all": map[string]any{"ranges": [][2]int{{0, 9}}, "timeline_limit": 1}},
			"extensions": map[string]any{"account_data": map[string]any{"enabled": true}},
		})
		if !slidingHasRoomData(sr, room, "m.tag") {
			t.Fatalf("sliding sync without m.tag: %v", sr.Body["extensions"])
		}

		// Bad input.
		if r := roomsDo(t, alice, "PUT", base+"/u.x", map[string]any{"order": "first"}); r.Status != 400 || r.errcode() != "M_BAD_JSON" {
			t.Fatalf("string order: %d %v", r.Status, r.Body)
		}
		if r := roomsDo(t, alice, "PUT", base+"/u.x", "[1]"); r.Status != 400 {
			t.Fatalf("array body: %d %v", r.Status, r.Body)
		}
		bob := inst.Register("bob", "password1")
		if r := roomsDo(t, bob, "GET", base, nil); r.Status != 403 || r.errcode() != "M_FORBIDDEN" {
			t.Fatalf("another user's tags: %d %v", r.Status, r.Body)
		}
	})
}

func tagPut(c *mautrix.Client, path string) (int, error) {
	_, err := c.MakeRequest(syncCtx, "PUT", c.HomeserverURL.String()+path, map[string]any{}, nil)
	if err != nil {
		return 0, err
	}
	return 200, nil
}

// slidingHasRoomData reports whether a sliding sync response's
// account_data extension holds evType for room.
func slidingHasRoomData(r roomsRaw, room id.RoomID, evType string) bool {
	ext, _ := r.Body["extensions"].(map[string]any)
	ad, _ := ext["account_data"].(map[string]any)
	rooms, _ := ad["rooms"].(map[string]any)
	evs, _ := rooms[room.String()].([]any)
	for _, e := range evs {
		if m, _ := e.(map[string]any); m["type"] == evType {
			return true
		}
	}
	return false
}
