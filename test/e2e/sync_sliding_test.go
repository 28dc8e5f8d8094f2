package e2e

import (
	"testing"

	"github.com/axon-hs/axon/internal/testserver"
)

// TestSlidingSync: rooms sorted by recency, initial then incremental
// delivery by pos, unknown pos rejected.
func TestSlidingSync(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		older := syncRoom(t, alice)
		newer := syncRoom(t, alice)
		syncSend(t, alice, newer, "latest")
		path := "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
		req := map[string]any{
			"lists":      map[string]any{"all": map[string]any{"ranges": [][2]int{{0, 0}}, "timeline_limit": 5, "required_state": [][2]string{{"m.room.create", ""}}}},
			"extensions": map[string]any{"to_device": map[string]any{"enabled": true}, "account_data": map[string]any{"enabled": true}},
		}
		r := roomsDo(t, alice, "POST", path, req)
		if r.Status != 200 {
			t.Fatalf("sliding sync: %d %v", r.Status, r.Body)
		}
		if c := r.Body["lists"].(map[string]any)["all"].(map[string]any)["count"]; c != float64(2) {
			t.Fatalf("count %v", c)
		}
		rooms := r.Body["rooms"].(map[string]any)
		if _, ok := rooms[string(newer)]; !ok || len(rooms) != 1 {
			t.Fatalf("range [0,0] should hold only the most recent room: %v", rooms)
		}
		rm := rooms[string(newer)].(map[string]any)
		if rm["initial"] != true || len(rm["required_state"].([]any)) != 1 || len(rm["timeline"].([]any)) == 0 {
			t.Fatalf("room %v", rm)
		}
		pos := r.Body["pos"].(string)
		syncSend(t, alice, older, "bump")
		r = roomsDo(t, alice, "POST", path+"?timeout=5000&pos="+pos, req)
		rooms = r.Body["rooms"].(map[string]any)
		rm, ok := rooms[string(older)].(map[string]any)
		if !ok || rm["initial"] != true {
			t.Fatalf("bumped room not sent as initial: %v", rooms)
		}
		pos = r.Body["pos"].(string)
		syncSend(t, alice, older, "again")
		r = roomsDo(t, alice, "POST", path+"?timeout=5000&pos="+pos, req)
		rm = r.Body["rooms"].(map[string]any)[string(older)].(map[string]any)
		if rm["initial"] != false || len(rm["timeline"].([]any)) != 1 {
			t.Fatalf("incremental room %v", rm)
		}
		r = roomsDo(t, alice, "POST", path+"?pos=nope", req)
		if r.Status != 400 || r.errcode() != "M_UNKNOWN_POS" {
			t.Fatalf("unknown pos: %d %v", r.Status, r.Body)
		}
	})
}
