package storage_test

import (
	"context"
	"fmt"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestUnreadLogMatchesTables: counts carried from the writer's log equal
// counts read from the tables after every kind of row (shared, the
// user's own message, a thread, an own row replacing the shared one, a
// suppressed one, a receipt, a leave), and the log is not used where it
// cannot know (a membership change in the range, before it started).
func TestUnreadLogMatchesTables(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		user, other := "@v:x", "@o:x"
		n := 0
		// commit writes one event into room with its rows (own: user's),
		// and logs them as the consumer does after the commit.
		commit := func(room, sender, thread string, shared, own, suppress, highlight bool, membership string) types.StreamPosition {
			t.Helper()
			n++
			ev := &types.Event{EventID: fmt.Sprintf("$%d", n), RoomID: room, Type: "m.room.message", Sender: sender, JSON: []byte(`{}`)}
			if membership != "" {
				key := user
				ev.Type, ev.StateKey, ev.Membership = "m.room.member", &key, membership
			}
			var w storage.EventNotifications
			must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				if _, err := d.InsertEvent(ctx, tx, ev, true); err != nil {
					return err
				}
				if membership != "" {
					if _, err := d.ApplyStateDelta(ctx, tx, room, ev.Pos, nil, []*types.Event{ev}); err != nil {
						return err
					}
				}
				if shared {
					w.Shared = &storage.SharedNotification{RoomID: room, EventID: ev.EventID, EventPos: ev.Pos, ThreadID: thread,
						Sender: sender, Highlight: highlight, Actions: []byte(`[]`), TS: 1}
					if err := d.InsertSharedNotification(ctx, tx, *w.Shared); err != nil {
						return err
					}
				}
				if own {
					w.Rows = []storage.Notification{{UserID: user, RoomID: room, EventID: ev.EventID, EventPos: ev.Pos, ThreadID: thread,
						Highlight: true, Suppress: suppress, Actions: []byte(`[]`), TS: 1}}
					if err := d.InsertNotifications(ctx, tx, w.Rows); err != nil {
						return err
					}
				}
				return nil
			}))
			d.NotificationsCommitted(ev.Pos, w)
			return ev.Pos
		}
		last := types.StreamPosition(0)
		// check counts up to upTo through the log (when covered is
		// true it must be used) against the tables.
		check := func(stage string, joined []string, upTo types.StreamPosition, covered bool) {
			t.Helper()
			if got := d.UnreadLogCovers(user, joined, last, upTo); got != covered {
				t.Fatalf("%s: log covers (%d, %d]: %v, want %v", stage, last, upTo, got, covered)
			}
			fromLog, err := d.UnreadForRooms(ctx, user, nil, joined, upTo, storage.NoReceiptPos)
			must(t, err)
			d.ForgetUnreadCountsOnly()
			fromTables, err := d.UnreadForRooms(ctx, user, nil, nil, upTo, storage.NoReceiptPos)
			must(t, err)
			if a, b := fmt.Sprint(counts(fromLog)), fmt.Sprint(counts(fromTables)); a != b {
				t.Fatalf("%s: counts from the log %s, from the tables %s", stage, a, b)
			}
			last = upTo
		}
		both := []string{"!a", "!b"}
		commit("!a", user, "", false, false, false, false, "join")
		p := commit("!b", user, "", false, false, false, false, "join")
		check("joined", both, p, false) // membership changed in the range
		check("shared", both, commit("!a", other, "", true, false, false, false, ""), true)
		check("own message", both, commit("!a", user, "", true, false, false, false, ""), true)
		check("thread", both, commit("!b", other, "t1", true, false, false, true, ""), true)
		check("own row replaces shared", both, commit("!a", other, "", true, true, false, true, ""), true)
		check("suppressed", both, commit("!b", other, "", true, true, true, false, ""), true)
		commit("!a", other, "", true, false, false, false, "")
		check("two at once", both, commit("!b", other, "t1", true, false, false, false, ""), true)
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			_, err := d.UpsertReceipt(ctx, tx, storage.Receipt{RoomID: "!b", Type: "m.read", ThreadID: "t1", UserID: user, EventID: "$", EventPos: last})
			return err
		}))
		check("threaded receipt", both, commit("!b", other, "t1", true, false, false, false, ""), true)
		p = commit("!b", user, "", false, false, false, false, "leave")
		check("left", []string{"!a"}, p, false)
		check("after leaving", []string{"!a"}, commit("!b", other, "", true, false, false, false, ""), true)
		d.StartUnreadLog()
		check("another writer may have written", []string{"!a"}, last, false)
	})
}

func counts(un map[string]*storage.UnreadCounts) map[string]storage.UnreadCounts {
	out := map[string]storage.UnreadCounts{}
	for room, c := range un {
		out[room] = *c
	}
	return out
}
