package syncapi

import (
	"context"
	"fmt"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/storage"
)

// TestRoomOutputsBatchDeferredRows applies a batch whose messages are
// written together after the rest: they keep output order around a
// state event, a redaction later in the batch finds its target, search
// finds them, their shared notifications (written with them) count for
// the members joined before each, and the same batch delivered again
// stores nothing twice.
func TestRoomOutputsBatchDeferredRows(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newTestSyncAPI(t, b.NewDSN(t))
			alice, bob, carol := "@alice:test", "@bob:test", "@carol:test"
			r := newTestRoom(t, "!deferred:test")
			r.create(s, alice)
			wrap := func(ore *rsapi.OutputNewRoomEvent) *rsapi.OutputEvent {
				return &rsapi.OutputEvent{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: ore}
			}
			if err := s.applyRoomOutputs(ctx, []*rsapi.OutputEvent{wrap(r.event(carol, "m.room.member", sk(carol), map[string]any{"membership": "join"}))}, 6); err != nil {
				t.Fatal(err)
			}
			say := func(body string) *rsapi.OutputEvent {
				return wrap(r.event(alice, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": body}))
			}
			var outs []*rsapi.OutputEvent
			for i := range 40 { // more than one run of the multi-row insert
				outs = append(outs, say(fmt.Sprintf("zebra %d", i)))
			}
			outs = append(outs, wrap(r.event(bob, "m.room.member", sk(bob), map[string]any{"membership": "join"})))
			outs = append(outs, say("zebra after join"), say("zebra redacted"))
			target := outs[len(outs)-1].NewRoomEvent
			redaction := r.event(alice, "m.room.redaction", nil, map[string]any{"redacts": target.EventID})
			outs = append(outs, wrap(redaction), &rsapi.OutputEvent{Type: rsapi.OutputTypeRedaction, Redaction: &rsapi.OutputRedaction{
				RoomID: r.id, RedactedEventID: target.EventID, RedactionEventID: redaction.EventID, RedactedEvent: target.Event,
			}})
			outs = append(outs, outs[0]) // a repeat inside the batch
			before, err := s.db.RoomEvents(ctx, r.id, 0, 1<<40, 1000, false)
			must(t, err)
			if err := s.applyRoomOutputs(ctx, outs, 7); err != nil {
				t.Fatal(err)
			}
			check := func() {
				t.Helper()
				evs, err := s.db.RoomEvents(ctx, r.id, 0, 1<<40, 1000, false)
				must(t, err)
				var ids []string
				for i, ev := range evs {
					if i > 0 && ev.Pos <= evs[i-1].Pos {
						t.Fatalf("positions out of order at %d", i)
					}
					ids = append(ids, ev.EventID)
				}
				var want []string
				for _, o := range outs[:len(outs)-1] {
					if o.NewRoomEvent != nil {
						want = append(want, o.NewRoomEvent.EventID)
					}
				}
				if len(ids) < len(want) || fmt.Sprint(ids[len(ids)-len(want):]) != fmt.Sprint(want) || len(ids) != len(want)+len(before) {
					t.Fatalf("timeline has %d events, want the batch's %d in order after %d", len(ids), len(want), len(before))
				}
				got, err := s.db.EventByID(ctx, nil, target.EventID)
				must(t, err)
				if got == nil || !got.Redacted {
					t.Fatalf("redaction target %+v, want redacted", got)
				}
				n, err := s.db.SearchCount(ctx, storage.SearchQuery{Terms: []string{"zebra"}, Rooms: []string{r.id}, Keys: []string{"content.body"}, Limit: 100})
				must(t, err)
				if n != 41 { // the redacted one left the index
					t.Fatalf("search finds %d, want 41", n)
				}
				for user, want := range map[string]int{carol: 42, bob: 2} {
					n, err := s.db.UnreadOfType(ctx, user, "m.room.message")
					must(t, err)
					if n != want {
						t.Fatalf("%s has %d notifications, want %d", user, n, want)
					}
				}
			}
			check()
			if err := s.applyRoomOutputs(ctx, outs, 7); err != nil { // redelivered
				t.Fatal(err)
			}
			check()
		})
	}
}
