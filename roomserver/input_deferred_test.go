package roomserver

import (
	"context"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// A request of messages with a redaction among them: the messages' rows
// wait for one insert, the redaction is stored (and reads its target)
// in between, and every event keeps its place in input order.
func TestDeferredRowsKeepOrderAndRedaction(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			rem.join(roomID, bob, tCreate, tPL, tJR)
			auth := rem.stateIDs(roomID, tCreate, tPL, api.StateKey{Type: "m.room.member", StateKey: bob})
			ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			prev := matrixid.Strings(ext)
			var evs []*api.Event
			next := func(typ string, content map[string]string) {
				ev := rem.build(roomID, bob, typ, nil, content, prev, auth, int64(20+len(evs)), time.Now())
				evs = append(evs, ev)
				prev = []string{ev.EventID()}
			}
			next("m.room.message", map[string]string{"body": "one"})
			next("m.room.message", map[string]string{"body": "two"})
			next("m.room.redaction", map[string]string{"redacts": evs[0].EventID()})
			next("m.room.message", map[string]string{"body": "three"})
			next("m.room.message", map[string]string{"body": "four"})
			req := &api.InputRoomEventsRequest{}
			for _, ev := range evs {
				req.Events = append(req.Events, api.InputRoomEvent{Kind: api.KindNew, Event: ev})
			}
			resp, err := rs.InputRoomEvents(ctx, req)
			must(t, err)
			for i, res := range resp.Results {
				if res.Err != nil || res.SoftFailed || res.Duplicate {
					t.Fatalf("event %d: %+v", i, res)
				}
			}
			var last int64
			for i, ev := range evs {
				row, err := rs.db.EventByID(ctx, rs.db, ev.EventID())
				must(t, err)
				if row.NID <= last {
					t.Fatalf("event %d stored out of input order: NID %d after %d", i, row.NID, last)
				}
				last = row.NID
				if (i == 0) != (row.RedactedBy != "") {
					t.Fatalf("event %d redacted by %q", i, row.RedactedBy)
				}
			}
			// A second request builds on the last one's rows.
			more := rem.build(roomID, bob, "m.room.message", nil, map[string]string{"body": "five"}, prev, auth, 30, time.Now())
			if res := rem.input(more); res.Err != nil || res.SoftFailed {
				t.Fatalf("event on the stored tip: %+v", res)
			}
		})
	}
}
