package storage_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestUnreadCountsIncremental: counts carried over from an earlier /sync
// plus the notifications after it equal a full count; a new read receipt
// or pruning starts them over.
func TestUnreadCountsIncremental(t *testing.T) {
	ctx := context.Background()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			d := storage.New(storagetest.OpenMigrated(t, b.NewDSN(t), "syncapi", storage.Migrations))
			notify := func(positions ...types.StreamPosition) {
				t.Helper()
				err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
					for _, pos := range positions {
						if err := d.InsertNotification(ctx, tx, storage.Notification{UserID: "@v:x", RoomID: "!r", EventID: "$", EventPos: pos,
							Actions: []byte(`[]`), Highlight: pos%2 == 0, TS: 1}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			want := func(upTo types.StreamPosition, n, hl int) {
				t.Helper()
				un, err := d.UnreadForRooms(ctx, "@v:x", nil, nil, upTo, storage.NoReceiptPos)
				if err != nil {
					t.Fatal(err)
				}
				got := un["!r"]
				if (n == 0 && got != nil) || (n > 0 && (got == nil || got.Notification != n || got.Highlight != hl || got.Main.Notification != n)) {
					t.Fatalf("unread up to %d: %+v, want %d (%d highlights)", upTo, got, n, hl)
				}
			}
			notify(1, 2, 3)
			want(3, 3, 1)
			notify(4, 5)
			want(5, 5, 2)
			want(5, 5, 2) // asked again: nothing added twice
			err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				_, err := d.UpsertReceipt(ctx, tx, storage.Receipt{RoomID: "!r", Type: "m.read", UserID: "@v:x", EventID: "$", EventPos: 4})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			want(5, 1, 0)
			notify(6)
			want(6, 2, 1)
			if _, err := d.PruneNotifications(ctx, 0, 1); err != nil {
				t.Fatal(err)
			}
			want(6, 1, 1) // per-user cap of 1 kept the newest only
		})
	}
}

// TestUnreadCountsUpToNow: counts asked "up to now" (push) are not kept
// at a position nothing reached, so later notifications still count.
func TestUnreadCountsUpToNow(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		for i, pos := range []types.StreamPosition{1, 2} {
			err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				return d.InsertNotification(ctx, tx, storage.Notification{UserID: "@v:x", RoomID: "!r", EventID: "$", EventPos: pos, Actions: []byte(`[]`), TS: 1})
			})
			if err != nil {
				t.Fatal(err)
			}
			un, err := d.UnreadForRooms(ctx, "@v:x", nil, nil, math.MaxInt64, storage.NoReceiptPos)
			if err != nil {
				t.Fatal(err)
			}
			if c := un["!r"]; c == nil || c.Notification != i+1 {
				t.Fatalf("after %d notifications: %+v", i+1, c)
			}
		}
	})
}

// TestUnreadCountsSharedIncremental: a room's shared notification rows
// count from the user's join, and counts carried over from an earlier
// /sync plus the rows after it equal a full count.
func TestUnreadCountsSharedIncremental(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		user, other := "@v:x", "@o:x"
		var joinedAt types.StreamPosition
		shared := func(positions ...types.StreamPosition) {
			t.Helper()
			must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				for _, pos := range positions {
					if err := d.InsertSharedNotification(ctx, tx, storage.SharedNotification{RoomID: "!r", EventID: fmt.Sprintf("$%d", pos),
						EventPos: pos, Sender: other, Highlight: pos%2 == 0, Actions: []byte(`[]`), TS: 1}); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		want := func(upTo types.StreamPosition, n int) {
			t.Helper()
			un, err := d.UnreadForRooms(ctx, user, nil, nil, upTo, storage.NoReceiptPos)
			must(t, err)
			if got := un["!r"]; (n == 0 && got != nil) || (n > 0 && (got == nil || got.Notification != n)) {
				t.Fatalf("unread up to %d: %+v, want %d", upTo, got, n)
			}
		}
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			before := &types.Event{EventID: "$before", RoomID: "!r", Type: "m.room.message", Sender: other, JSON: []byte(`{}`)}
			if _, err := d.InsertEvent(ctx, tx, before, true); err != nil {
				return err
			}
			key := user
			ev := &types.Event{EventID: "$join", RoomID: "!r", Type: "m.room.member", Sender: user, StateKey: &key, Membership: "join", JSON: []byte(`{}`)}
			if _, err := d.InsertEvent(ctx, tx, ev, true); err != nil {
				return err
			}
			joinedAt = ev.Pos
			_, err := d.ApplyStateDelta(ctx, tx, "!r", ev.Pos, nil, []*types.Event{ev})
			return err
		}))
		j := joinedAt
		shared(j-1, j+1, j+2) // the first is before the join: not counted
		want(j+2, 2)
		shared(j+3, j+4, j+5)
		want(j+4, 4)
		want(j+5, 5)
		want(j+5, 5) // asked again: nothing added twice
	})
}

// TestUnreadReceiptsKeptAtPosition: the user's receipts are read again
// only when the caller's receipt position moves; at the same position
// the kept ones are used (the caller has not seen a newer receipt).
func TestUnreadReceiptsKeptAtPosition(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			for _, pos := range []types.StreamPosition{1, 2, 3} {
				if err := d.InsertNotification(ctx, tx, storage.Notification{UserID: "@v:x", RoomID: "!r", EventID: "$", EventPos: pos, Actions: []byte(`[]`), TS: 1}); err != nil {
					return err
				}
			}
			return nil
		}))
		want := func(stage string, receiptsAt types.StreamPosition, n int) {
			t.Helper()
			un, err := d.UnreadForRooms(ctx, "@v:x", nil, nil, 3, receiptsAt)
			must(t, err)
			if got := un["!r"]; (n == 0 && got != nil) || (n > 0 && (got == nil || got.Notification != n)) {
				t.Fatalf("%s: unread %+v, want %d", stage, got, n)
			}
		}
		want("no receipts", 0, 3)
		var pos types.StreamPosition
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) (err error) {
			pos, err = d.UpsertReceipt(ctx, tx, storage.Receipt{RoomID: "!r", Type: "m.read", UserID: "@v:x", EventID: "$", EventPos: 2})
			return err
		}))
		want("receipt position unchanged", 0, 3)
		want("receipt position moved", pos, 1)
		want("no receipt position", storage.NoReceiptPos, 1)
	})
}
