package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/types"
)

func bodies(evs []json.RawMessage) []string {
	var out []string
	for _, e := range evs {
		if gjson.GetBytes(e, "type").Str == "m.room.message" {
			out = append(out, gjson.GetBytes(e, "content.body").Str)
		}
	}
	return out
}

// TestConsumerAndSync feeds roomserver output straight into the consumer
// and checks /sync's view: exactly-once, duplicates ignored, visibility,
// unread counts, redaction.
func TestConsumerAndSync(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := newTestSyncAPI(t, b.NewDSN(t))
			alice, bob := "@alice:test", "@bob:test"
			r := newTestRoom(t, "!room:test")
			r.create(s, alice)
			r.say(s, alice, "before bob")
			// joined history visibility: bob must not see the earlier message.
			s.mustApply(t, 0, r.event(alice, "m.room.history_visibility", sk(""), map[string]any{"history_visibility": "joined"}))
			r.say(s, alice, "hidden")
			r.join(s, bob)
			first := testSync(t, s, bob, nil, nil)
			jr := first.Rooms.Join[r.id]
			if jr == nil {
				t.Fatal("bob's room missing")
			}
			// "shared" history stays readable to a new member; "joined" does not.
			if got := bodies(jr.Timeline.Events); fmt.Sprint(got) != "[before bob]" {
				t.Fatalf("bob's view of history before his join: %v", got)
			}
			since, err := types.ParseStreamToken(first.NextBatch)
			must(t, err)
			id1 := r.say(s, alice, "one")
			ev2 := r.event(alice, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "two @bob"})
			ev2.TransactionID = &rsapi.TransactionID{DeviceID: "ALICEDEV", TransactionID: "txn2"}
			s.mustApply(t, 7, ev2)
			s.mustApply(t, 8, ev2) // a redelivered message changes nothing
			inc := testSync(t, s, bob, &since, nil)
			if got := bodies(inc.Rooms.Join[r.id].Timeline.Events); fmt.Sprint(got) != "[one two @bob]" {
				t.Fatalf("incremental timeline %v", got)
			}
			if gjson.GetBytes(inc.Rooms.Join[r.id].Timeline.Events[1], "unsigned.transaction_id").Exists() {
				t.Fatal("transaction ID leaked to another user")
			}
			if got := inc.Rooms.Join[r.id].UnreadNotifications; got.Notification != 2 {
				t.Fatalf("unread %+v", got)
			}
			seq, err := s.db.ConsumerSeq(context.Background(), "room_events")
			must(t, err)
			if seq != 8 {
				t.Fatalf("stored seq %d", seq)
			}
			// Redaction replaces the stored event.
			red := r.event(alice, "m.room.redaction", nil, map[string]any{"redacts": id1})
			s.mustApply(t, 0, red)
			redactedPDU, err := r.version.RedactEventJSON(r.pdus[id1])
			if err != nil {
				t.Fatal(err)
			}
			if err := s.applyRedaction(context.Background(), 0, &rsapi.OutputRedaction{RoomID: r.id, RedactedEventID: id1, RedactionEventID: red.EventID, RedactedEvent: redactedPDU}); err != nil {
				t.Fatal(err)
			}
			target, err := s.db.EventByID(context.Background(), nil, id1)
			must(t, err)
			if !target.Redacted || gjson.GetBytes(target.JSON, "content.body").Exists() || gjson.GetBytes(target.JSON, "unsigned.redacted_because.event_id").Str != red.EventID {
				t.Fatalf("not redacted: %s", target.JSON)
			}
		})
	}
}
