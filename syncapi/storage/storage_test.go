package storage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/axon-hs/axon/internal/testutil"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// forEachBackend runs fn on a fresh syncapi database of each engine.
func forEachBackend(t *testing.T, fn func(t *testing.T, d *storage.DB)) {
	storagetest.ForEachBackendWith(t, "syncapi", storage.Migrations, storage.New, fn)
}

// must fails the test on a set-up error.
var must = testutil.Must

func TestStorage(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		sk := ""
		member := "@u:x"
		evs := []*types.Event{
			{EventID: "$c", RoomID: "!r", Type: "m.room.create", Sender: "@u:x", StateKey: &sk, JSON: []byte(`{}`)},
			{EventID: "$m", RoomID: "!r", Type: "m.room.member", Sender: "@u:x", StateKey: &member, Membership: "join", JSON: []byte(`{}`)},
			{EventID: "$1", RoomID: "!r", Type: "m.room.message", Sender: "@u:x", JSON: []byte(`{}`)},
			{EventID: "$2", RoomID: "!r", Type: "m.room.message", Sender: "@u:x", JSON: []byte(`{}`), RelatesTo: "$1", RelType: "m.thread", ThreadID: "$1"},
		}
		// The write functions run on the committer goroutine: they report
		// failures as errors, never t.Fatal.
		err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			for _, ev := range evs {
				if ok, err := d.InsertEvent(ctx, tx, ev, true); err != nil || !ok {
					return fmt.Errorf("insert %s: %v %v", ev.EventID, ok, err)
				}
				if ev.StateKey != nil {
					if _, err := d.ApplyStateDelta(ctx, tx, "!r", ev.Pos, nil, []*types.Event{ev}); err != nil {
						return err
					}
				}
			}
			// Inserting again is a no-op that reports the stored position.
			dup := &types.Event{EventID: "$1", RoomID: "!r", Type: "m.room.message", JSON: []byte(`{}`)}
			if ok, err := d.InsertEvent(ctx, tx, dup, true); err != nil || ok || dup.Pos != evs[2].Pos {
				return fmt.Errorf("duplicate insert: %v %v %d", ok, err, dup.Pos)
			}
			return d.SetConsumerSeq(ctx, tx, "room_events", 42)
		})
		if err != nil {
			t.Fatal(err)
		}
		if seq, err := d.ConsumerSeq(ctx, "room_events"); err != nil || seq != 42 {
			t.Fatalf("seq %d %v", seq, err)
		}
		max, err := d.MaxPositions(ctx)
		if err != nil || max.PDU < 4 { // a duplicate may leave a position unused
			t.Fatalf("max positions %+v %v", max, err)
		}
		back, err := d.RoomEvents(ctx, "!r", 0, 4, 2, true)
		must(t, err)
		if len(back) != 2 || back[0].EventID != "$2" || back[1].EventID != "$1" {
			t.Fatalf("backwards page %v", back)
		}
		state, err := d.CurrentState(ctx, nil, "!r")
		if err != nil || len(state) != 2 {
			t.Fatalf("state %d %v", len(state), err)
		}
		ms, err := d.MembershipsAt(ctx, member, 4)
		must(t, err)
		if len(ms) != 1 || ms[0].Membership != "join" {
			t.Fatalf("memberships %+v", ms)
		}
		if ms, err := d.MembershipsAt(ctx, member, 1); err != nil || len(ms) != 0 {
			t.Fatalf("membership before join %+v %v", ms, err)
		}
		rels, err := d.RelationsOf(ctx, []string{"$1"}, 4)
		must(t, err)
		if len(rels) != 1 || rels[0].EventID != "$2" {
			t.Fatalf("relations %+v", rels)
		}
		if rels, err := d.RelationsOf(ctx, []string{"$1", "$c"}, evs[3].Pos-1); err != nil || len(rels) != 0 {
			t.Fatalf("relations up to before the child: %+v %v", rels, err)
		}
		threads, err := d.Threads(ctx, "!r", 0, "", 10)
		must(t, err)
		if len(threads) != 1 || threads[0].RootID != "$1" {
			t.Fatalf("threads %+v", threads)
		}
		// Receipts, notifications, unread counts.
		err = d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			for _, pos := range []types.StreamPosition{3, 4} {
				if err := d.InsertNotification(ctx, tx, storage.Notification{UserID: "@v:x", RoomID: "!r", EventID: "$", EventPos: pos, Actions: []byte(`[]`), Highlight: pos == 4}); err != nil {
					return err
				}
			}
			_, err := d.UpsertReceipt(ctx, tx, storage.Receipt{RoomID: "!r", Type: "m.read", UserID: "@v:x", EventID: "$1", EventPos: 3})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		un, err := d.UnreadForRooms(ctx, "@v:x", nil, nil, 10, storage.NoReceiptPos)
		must(t, err)
		if c := un["!r"]; c == nil || c.Notification != 1 || c.Highlight != 1 {
			t.Fatalf("unread %+v", un["!r"])
		}
		// A receipt never moves backwards.
		err = d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			pos, err := d.UpsertReceipt(ctx, tx, storage.Receipt{RoomID: "!r", Type: "m.read", UserID: "@v:x", EventID: "$c", EventPos: 1})
			if err == nil && pos != 0 {
				return fmt.Errorf("backwards receipt stored at %d", pos)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// To-device: txn dedupe, delivery range, deletion on ack.
		err = d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			if seen, err := d.ToDeviceTxnSeen(ctx, tx, "@a:x", "D", "t1", 1); err != nil || seen {
				return fmt.Errorf("first txn: %v %v", seen, err)
			}
			if seen, err := d.ToDeviceTxnSeen(ctx, tx, "@a:x", "D", "t1", 1); err != nil || !seen {
				return fmt.Errorf("txn not remembered: %v", err)
			}
			_, err := d.InsertToDevice(ctx, tx, "@b:x", "E", "@a:x", "m.test", []byte(`{}`))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := d.ToDeviceBetween(ctx, "@b:x", "E", 0, 10, 100)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("to-device %d %v", len(msgs), err)
		}
		must(t, d.DeleteToDeviceUpTo(ctx, "@b:x", "E", msgs[0].Pos))
		if msgs, err := d.ToDeviceBetween(ctx, "@b:x", "E", 0, 10, 100); err != nil || len(msgs) != 0 {
			t.Fatalf("acknowledged message not deleted (%v)", err)
		}
		// A later message survives the same acknowledgement again (it is
		// remembered as done) and goes with the next one.
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			_, err := d.InsertToDevice(ctx, tx, "@b:x", "E", "@a:x", "m.test", []byte(`{}`))
			return err
		}))
		must(t, d.DeleteToDeviceUpTo(ctx, "@b:x", "E", msgs[0].Pos))
		later, err := d.ToDeviceBetween(ctx, "@b:x", "E", 0, 10, 100)
		if err != nil || len(later) != 1 || later[0].Pos <= msgs[0].Pos {
			t.Fatalf("later message %+v (%v)", later, err)
		}
		must(t, d.DeleteToDeviceUpTo(ctx, "@b:x", "E", later[0].Pos))
		if left, err := d.ToDeviceBetween(ctx, "@b:x", "E", 0, 10, 100); err != nil || len(left) != 0 {
			t.Fatalf("second acknowledged message not deleted: %+v (%v)", left, err)
		}
		// Filters and account data.
		id1, err := d.InsertFilter(ctx, "@a:x", []byte(`{"x":1}`))
		must(t, err)
		id2, err := d.InsertFilter(ctx, "@a:x", []byte(`{"x":1}`))
		must(t, err)
		if id1 != id2 {
			t.Fatal("identical filter got a new ID")
		}
		for range 2 { // read, then served from the cache
			if f, err := d.GetFilter(ctx, "@a:x", id1); err != nil || string(f) != `{"x":1}` {
				t.Fatalf("filter %s (%v)", f, err)
			}
		}
		if f, err := d.GetFilter(ctx, "@b:x", id1); err != nil || f != nil {
			t.Fatalf("filter visible to another user (%v)", err)
		}
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			_, err := d.UpsertAccountData(ctx, tx, "@a:x", "", "m.x", []byte(`{"a":1}`))
			return err
		}))
		ad, err := d.AccountDataBetween(ctx, "@a:x", 0, 100)
		must(t, err)
		if len(ad) != 1 || string(ad[0].Content) != `{"a":1}` {
			t.Fatalf("account data %+v", ad)
		}
	})
}

func TestPruneNotifications(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		// alice: 3 old + 5 young; bob: 2 young.
		var ns []storage.Notification
		add := func(user string, ts int64) {
			ns = append(ns, storage.Notification{UserID: user, RoomID: "!r", EventID: "$e", EventPos: types.StreamPosition(len(ns) + 1), Actions: []byte(`["notify"]`), TS: ts})
		}
		for i := 0; i < 3; i++ {
			add("@alice:x", 100)
		}
		for i := 0; i < 5; i++ {
			add("@alice:x", 2000)
			if i < 2 {
				add("@bob:x", 2000)
			}
		}
		if err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return d.InsertNotifications(ctx, tx, ns) }); err != nil {
			t.Fatal(err)
		}
		n, err := d.PruneNotifications(ctx, 1000, 4)
		if err != nil || n != 4 {
			t.Fatalf("pruned %d, %v; want 3 old + 1 over the cap", n, err)
		}
		alice, err := d.Notifications(ctx, "@alice:x", 0, 100, false)
		must(t, err)
		bob, err := d.Notifications(ctx, "@bob:x", 0, 100, false)
		must(t, err)
		if len(alice) != 4 || len(bob) != 2 {
			t.Fatalf("left alice %d bob %d", len(alice), len(bob))
		}
		if alice[0].EventPos != 10 { // the newest survive
			t.Fatalf("alice's newest is gone: %+v", alice[0])
		}
		if n, err := d.PruneNotifications(ctx, 1000, 4); err != nil || n != 0 {
			t.Fatalf("second prune %d %v", n, err)
		}
		if n, err := d.PruneNotifications(ctx, 1<<50, 4); err != nil || n != 6 {
			t.Fatalf("prune all %d %v", n, err)
		}
	})
}
