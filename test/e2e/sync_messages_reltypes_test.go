package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// /messages filters by relation type (MSC3874's rel_types and
// not_rel_types, unstable names): an event without a relation has no
// relation type, so rel_types leaves it out and not_rel_types keeps it.
func TestMessagesRelTypeFilter(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	room := syncRoom(t, alice)
	since := syncOnce(t, alice, "", 0, "").NextBatch
	send := func(txn string, content map[string]any) string {
		t.Helper()
		r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/rooms/"+string(room)+"/send/m.room.message/"+txn, content)
		if r.Status != http.StatusOK {
			t.Fatalf("send: %d %v", r.Status, r.Body)
		}
		return r.Body["event_id"].(string)
	}
	root := send("1", map[string]any{"msgtype": "m.text", "body": "root"})
	thread := send("2", map[string]any{"msgtype": "m.text", "body": "in thread", "m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": root}})
	ref := send("3", map[string]any{"msgtype": "m.text", "body": "reference", "m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": root}})
	syncUntil(t, alice, since, 10*time.Second, func(r *mautrix.RespSync) bool {
		jr := r.Rooms.Join[room]
		return jr != nil && slices.Contains(syncBodies(jr.Timeline.Events), "reference")
	})
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`{ "org.matrix.msc3874.rel_types" : ["m.thread"] }`, []string{thread}},
		{`{"org.matrix.msc3874.rel_types":["m.thread","m.reference"]}`, []string{thread, ref}},
		{`{"org.matrix.msc3874.not_rel_types":["m.thread"]}`, []string{root, ref}},
		{`{"org.matrix.msc3874.not_rel_types":["m.thread","m.reference"]}`, []string{root}},
		{`{"types":["m.room.message"]}`, []string{root, thread, ref}},
	} {
		q := url.Values{"dir": {"f"}, "from": {since}, "filter": {c.filter}}
		r := roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+string(room)+"/messages?"+q.Encode(), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %v", c.filter, r.Status, r.Body)
		}
		var got []string
		for _, e := range r.Body["chunk"].([]any) {
			got = append(got, e.(map[string]any)["event_id"].(string))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
}
