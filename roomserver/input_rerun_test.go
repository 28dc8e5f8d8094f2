package roomserver

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// TestBatchRunAgainAfterLostConnection: on PostgreSQL a write
// transaction whose connection is lost before its commit runs again
// (internal/storage/connlost.go). A room batch run again starts from the
// room as committed: the message is stored and published once, its
// transaction ID is known, and the next message follows it. (The second
// run used to find the first run's outputs, state changes and deferred
// rows still in the batch.)
func TestBatchRunAgainAfterLostConnection(t *testing.T) {
	rs, pub := newTestServer(t, storagetest.PostgresOnlyDSN(t))
	alice := "@alice:" + testServer
	roomID := createTestRoom(t, rs, alice, "10", "public")
	before := len(pub.outputs())

	ev := local(roomID, alice, "m.room.message", nil, map[string]any{"body": "lost once"})
	ev.TransactionID = &api.TransactionID{DeviceID: "DEV", TransactionID: "rerun"}
	rs.db.LoseNextCommitForTesting()
	first := send(t, rs, ev)
	if first.Err != nil || first.EventID == "" || first.Duplicate {
		t.Fatalf("first send: %+v", first)
	}
	again := send(t, rs, ev)
	if again.EventID != first.EventID || !again.Duplicate {
		t.Fatalf("the same transaction again: %+v, want a duplicate of %s", again, first.EventID)
	}
	next := send(t, rs, local(roomID, alice, "m.room.message", nil, map[string]any{"body": "next"}))
	if next.Err != nil {
		t.Fatalf("next: %v", next.Err)
	}

	published := map[string]int{}
	var nextPrev []string
	for _, o := range pub.outputs()[before:] {
		if o.NewRoomEvent == nil {
			continue
		}
		published[o.NewRoomEvent.EventID]++
		if o.NewRoomEvent.EventID == string(next.EventID) {
			var pdu struct {
				PrevEvents []string `json:"prev_events"`
			}
			if err := json.Unmarshal(o.NewRoomEvent.Event, &pdu); err != nil {
				t.Fatal(err)
			}
			nextPrev = pdu.PrevEvents
		}
	}
	if len(published) != 2 || published[string(first.EventID)] != 1 || published[string(next.EventID)] != 1 {
		t.Fatalf("outputs per event %v, want one each for %s and %s", published, first.EventID, next.EventID)
	}
	if len(nextPrev) != 1 || nextPrev[0] != string(first.EventID) {
		t.Fatalf("next message's prev_events %v, want [%s]", nextPrev, first.EventID)
	}
	var stored int
	if err := rs.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM roomserver_events WHERE event_id = $1`, string(first.EventID)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("event rows %d (%v), want 1", stored, err)
	}
}

// TestRedactionRunAgainAfterLostConnection: a redaction whose batch runs
// again still redacts. The first run had already put the redacted event
// in the event cache, so the second run took the target for redacted and
// did nothing: the row kept its content and no redaction went out.
func TestRedactionRunAgainAfterLostConnection(t *testing.T) {
	ctx := context.Background()
	rs, pub := newTestServer(t, storagetest.PostgresOnlyDSN(t))
	alice := "@alice:" + testServer
	roomID := createTestRoom(t, rs, alice, "10", "public")
	target := send(t, rs, local(roomID, alice, "m.room.message", nil, map[string]any{"body": "secret"}))
	if target.Err != nil {
		t.Fatal(target.Err)
	}
	redaction := local(roomID, alice, "m.room.redaction", nil, map[string]any{"reason": "oops"})
	redaction.Local.Redacts = target.EventID
	rs.db.LoseNextCommitForTesting()
	if res := send(t, rs, redaction); res.Err != nil {
		t.Fatalf("redaction: %v", res.Err)
	}
	var stored string
	if err := rs.db.QueryRowContext(ctx, `SELECT event_json FROM roomserver_events WHERE event_id = $1`, string(target.EventID)).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Content map[string]any `json:"content"`
	}
	if err := json.Unmarshal([]byte(stored), &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Content) != 0 {
		t.Fatalf("stored target still has content %v", ev.Content)
	}
	redactions := 0
	for _, o := range pub.outputs() {
		if o.Redaction != nil && o.Redaction.RedactedEventID == string(target.EventID) {
			redactions++
		}
	}
	if redactions != 1 {
		t.Fatalf("%d redaction outputs for the target, want 1", redactions)
	}
}
