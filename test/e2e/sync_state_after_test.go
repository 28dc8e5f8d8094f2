package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// /sync with use_state_after (Matrix 1.16, MSC4222; also its unstable
// name): state_after replaces state and holds the state at the end of
// the timeline, state events in the timeline included; with lazy
// loading, the members of the timeline's senders. A room with nothing
// to report still has an empty state_after.
func TestSyncStateAfter(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
	room := syncRoom(t, alice, bob)
	other := syncRoom(t, alice)
	if v := roomsDo(t, alice, "GET", "/_matrix/client/versions", nil); v.Body["unstable_features"].(map[string]any)["org.matrix.msc4222"] != true {
		t.Errorf("org.matrix.msc4222 not advertised: %v", v.Body["unstable_features"])
	}
	// syncRaw returns the sync response and alice's section of room.
	syncRaw := func(q url.Values) (map[string]any, map[string]any) {
		t.Helper()
		r := roomsDo(t, alice, "GET", "/_matrix/client/v3/sync?"+q.Encode(), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("sync: %d %v", r.Status, r.Body)
		}
		rooms, _ := r.Body["rooms"].(map[string]any)
		join, _ := rooms["join"].(map[string]any)
		jr, _ := join[string(room)].(map[string]any)
		return r.Body, jr
	}
	// stateOf lists "type|state_key" of the state events under key.
	stateOf := func(jr map[string]any, key string) []string {
		t.Helper()
		sec, ok := jr[key].(map[string]any)
		if !ok {
			t.Fatalf("no %s in %v", key, jr)
		}
		var out []string
		for _, e := range sec["events"].([]any) {
			ev := e.(map[string]any)
			if sk, ok := ev["state_key"].(string); ok {
				out = append(out, ev["type"].(string)+"|"+sk)
			}
		}
		return out
	}
	testutil.Eventually(t, 10*time.Second, "bob's join in alice's sync", func() bool {
		_, jr := syncRaw(url.Values{})
		return jr != nil && slices.Contains(append(stateOf(jr, "state"), stateOf(jr, "timeline")...), "m.room.member|"+string(bob.UserID))
	})

	lazy := `{"room":{"timeline":{"limit":20},"state":{"lazy_load_members":true}}}`
	body, jr := syncRaw(url.Values{"use_state_after": {"true"}, "filter": {lazy}})
	if _, has := jr["state"]; has {
		t.Errorf("state sent with use_state_after: %v", jr["state"])
	}
	after := stateOf(jr, "state_after")
	for _, want := range []string{"m.room.create|", "m.room.member|" + string(alice.UserID), "m.room.member|" + string(bob.UserID)} {
		if !slices.Contains(after, want) {
			t.Errorf("initial state_after %v lacks %s", after, want)
		}
	}

	// Incremental: the topic, in the timeline, is in state_after too.
	since := body["next_batch"].(string)
	if _, err := alice.SendStateEvent(syncCtx, room, event.StateTopic, "", map[string]string{"topic": "new"}); err != nil {
		t.Fatal(err)
	}
	var unstable map[string]any
	testutil.Eventually(t, 10*time.Second, "the topic in state_after", func() bool {
		_, jr = syncRaw(url.Values{"org.matrix.msc4222.use_state_after": {"true"}, "since": {since}})
		if jr == nil {
			return false
		}
		unstable = jr
		return slices.Contains(stateOf(jr, "org.matrix.msc4222.state_after"), "m.room.topic|")
	})
	if _, has := unstable["state"]; has {
		t.Errorf("state sent with the unstable use_state_after: %v", unstable["state"])
	}
	if after := stateOf(unstable, "org.matrix.msc4222.state_after"); len(after) != 1 {
		t.Errorf("incremental state_after %v, want the topic alone", after)
	}
	// Without it the topic is only in the timeline.
	if _, jr := syncRaw(url.Values{"since": {since}}); len(stateOf(jr, "state")) != 0 {
		t.Errorf("state %v of a gapless incremental sync, want none", stateOf(jr, "state"))
	}

	// A room with only account data has an empty state_after.
	if err := alice.SetRoomAccountData(syncCtx, other, "org.example.tag", map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the other room's account data", func() bool {
		r := roomsDo(t, alice, "GET", "/_matrix/client/v3/sync?use_state_after=true&since="+url.QueryEscape(since), nil)
		ojr, _ := r.Body["rooms"].(map[string]any)["join"].(map[string]any)[string(other)].(map[string]any)
		if ojr == nil {
			return false
		}
		raw, _ := json.Marshal(ojr)
		if _, has := ojr["state"]; has || ojr["state_after"] == nil {
			t.Errorf("room with only account data: %s", raw)
		}
		return true
	})
}
