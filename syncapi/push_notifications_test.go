package syncapi

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/storage"
)

// TestSharedNotificationExceptions checks the per-member exceptions to an
// event's shared push outcome: a mention highlights only the mentioned
// user, a muted room counts nothing, a read receipt resets the count, and
// neither the sender nor a later joiner count earlier events.
func TestSharedNotificationExceptions(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newTestSyncAPI(t, b.NewDSN(t))
			alice, bob, carol, dave, erin := "@alice:test", "@bob:test", "@carol:test", "@dave:test", "@erin:test"
			r := newTestRoom(t, "!room:test")
			r.create(s, alice)
			for _, u := range []string{bob, carol, dave} {
				r.join(s, u)
			}
			// bob mutes the room with a room-specific override.
			s.push.set(bob, []byte(`{"global":{"override":[{"rule_id":"!room:test","enabled":true,
				"conditions":[{"kind":"event_match","key":"room_id","pattern":"!room:test"}],"actions":[]}]}}`))
			r.say(s, alice, "hello")
			ev := r.event(alice, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "hi carol",
				"m.mentions": map[string]any{"user_ids": []string{carol}}})
			s.mustApply(t, 0, ev)
			r.join(s, erin)
			last := r.say(s, alice, "third")

			unread := func(user string) (int, int) {
				t.Helper()
				jr := testSync(t, s, user, nil, nil).Rooms.Join[r.id]
				if jr == nil {
					t.Fatalf("%s: room missing", user)
				}
				return jr.UnreadNotifications.Notification, jr.UnreadNotifications.Highlight
			}
			for _, c := range []struct {
				user     string
				n, hl    int
				listed   int
				listedHL int
			}{{alice, 0, 0, 0, 0}, {bob, 0, 0, 0, 0}, {carol, 3, 1, 3, 1}, {dave, 3, 0, 3, 0}, {erin, 1, 0, 1, 0}} {
				if n, hl := unread(c.user); n != c.n || hl != c.hl {
					t.Errorf("%s: unread %d/%d, want %d/%d", c.user, n, hl, c.n, c.hl)
				}
				all, err := s.db.Notifications(ctx, c.user, 0, 100, false)
				if err != nil {
					t.Fatal(err)
				}
				hls, err := s.db.Notifications(ctx, c.user, 0, 100, true)
				must(t, err)
				if len(all) != c.listed || len(hls) != c.listedHL {
					t.Errorf("%s: /notifications %d (highlight %d), want %d (%d)", c.user, len(all), len(hls), c.listed, c.listedHL)
				}
				if c.listedHL > 0 && hls[0].EventID != ev.EventID {
					t.Errorf("%s: highlighted %s, want the mention", c.user, hls[0].EventID)
				}
			}
			// Paging walks newest first without repeats.
			page1, err := s.db.Notifications(ctx, dave, 0, 2, false)
			must(t, err)
			page2, err := s.db.Notifications(ctx, dave, page1[len(page1)-1].ID, 2, false)
			must(t, err)
			if len(page1) != 2 || len(page2) != 1 || page1[0].EventID != last || page2[0].EventPos >= page1[1].EventPos {
				t.Fatalf("paging %+v then %+v", page1, page2)
			}
			// dave reads up to the last event: his count resets, carol's stays.
			lastEv, err := s.db.EventByID(ctx, nil, last)
			must(t, err)
			storeReceipts(t, s, storage.Receipt{RoomID: r.id, Type: "m.read", UserID: dave, EventID: last, EventPos: lastEv.Pos, TS: 1})
			if n, hl := unread(dave); n != 0 || hl != 0 {
				t.Fatalf("dave after receipt %d/%d", n, hl)
			}
			if n, _ := unread(carol); n != 3 {
				t.Fatalf("carol after dave's receipt %d", n)
			}
			r.say(s, alice, "fourth")
			if n, _ := unread(dave); n != 1 {
				t.Fatalf("dave after a new message %d", n)
			}
			// A member who left gets no count for later events.
			s.mustApply(t, 0, r.event(dave, "m.room.member", sk(dave), map[string]any{"membership": "leave"}))
			r.say(s, alice, "fifth")
			if ns, err := s.db.Notifications(ctx, dave, 0, 100, false); err != nil || len(ns) != 4 {
				t.Fatalf("dave's notifications after leaving %d, want 4", len(ns))
			}
		})
	}
}

// TestRoomOutputsBatch applies joins and messages in one transaction: a
// later event must see the membership an earlier one in the same batch
// gave, exactly as if applied one by one.
func TestRoomOutputsBatch(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newTestSyncAPI(t, b.NewDSN(t))
			alice, bob, carol := "@alice:test", "@bob:test", "@carol:test"
			r := newTestRoom(t, "!batch:test")
			r.create(s, alice)
			wrap := func(ore *rsapi.OutputNewRoomEvent) *rsapi.OutputEvent {
				return &rsapi.OutputEvent{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: ore}
			}
			outs := []*rsapi.OutputEvent{
				wrap(r.event(bob, "m.room.member", sk(bob), map[string]any{"membership": "join"})),
				wrap(r.event(alice, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "one"})),
				wrap(r.event(carol, "m.room.member", sk(carol), map[string]any{"membership": "join"})),
				wrap(r.event(alice, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "two",
					"m.mentions": map[string]any{"user_ids": []string{carol}}})),
			}
			if err := s.applyRoomOutputs(ctx, outs, 42); err != nil {
				t.Fatal(err)
			}
			if seq, err := s.db.ConsumerSeq(ctx, "room_events"); err != nil || seq != 42 {
				t.Fatalf("stored seq %d", seq)
			}
			for user, want := range map[string][2]int{bob: {2, 0}, carol: {1, 1}} {
				jr := testSync(t, s, user, nil, nil).Rooms.Join[r.id]
				if jr == nil {
					t.Fatalf("%s: room missing", user)
				}
				if got := jr.UnreadNotifications; got.Notification != want[0] || got.Highlight != want[1] {
					t.Errorf("%s: unread %+v, want %v", user, got, want)
				}
			}
			if got := bodies(testSync(t, s, carol, nil, nil).Rooms.Join[r.id].Timeline.Events); len(got) == 0 || got[len(got)-1] != "two" {
				t.Fatalf("carol's timeline %v", got)
			}
		})
	}
}

// TestLoneEventSharedNotification: a batch's lone new event keeps its
// shared notification for the end of the batch's outputs (with the
// commit on PostgreSQL), but writes it before an output that changes
// notifications: a purge of the room after it in the same batch leaves
// no row of the room.
func TestLoneEventSharedNotification(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newTestSyncAPI(t, b.NewDSN(t))
			alice, bob := "@alice:test", "@bob:test"
			rows := func(roomID string) int {
				t.Helper()
				var n int
				must(t, s.db.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM syncapi_notify_events WHERE room_id = $1`, roomID).Scan(&n))
				return n
			}
			kept := newTestRoom(t, "!kept:test")
			kept.create(s, alice)
			kept.join(s, bob)
			kept.say(s, alice, "hello")
			if rows(kept.id) != 1 {
				t.Fatalf("lone event: %d shared rows, want 1", rows(kept.id))
			}
			purged := newTestRoom(t, "!purged:test")
			purged.create(s, alice)
			purged.join(s, bob)
			msg := purged.event(alice, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "then purged"})
			if err := s.applyRoomOutputs(ctx, []*rsapi.OutputEvent{
				{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: msg},
				{Type: rsapi.OutputTypePurgeRoom, PurgeRoom: &rsapi.OutputPurgeRoom{RoomID: purged.id}},
			}, 100); err != nil {
				t.Fatal(err)
			}
			if n := rows(purged.id); n != 0 {
				t.Fatalf("purged room keeps %d shared rows", n)
			}
		})
	}
}
