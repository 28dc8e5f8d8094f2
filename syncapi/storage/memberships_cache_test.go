package storage_test

import (
	"context"
	"fmt"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestMembershipsKeptMatchTable checks the writer's kept MembershipsAt
// answers against the table through joins, a message, a leave, another
// user's change and a restart of the log: an answer is reused only while
// none of the user's memberships changed, and always equals the table.
func TestMembershipsKeptMatchTable(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		user, other := "@m:x", "@n:x"
		n := 0
		// commit stores one event (a member event of who when membership
		// is set) and logs it as the consumer does after the commit.
		commit := func(room, who, membership string) types.StreamPosition {
			t.Helper()
			n++
			ev := &types.Event{EventID: fmt.Sprintf("$m%d", n), RoomID: room, Type: "m.room.message", Sender: who, JSON: []byte(`{}`)}
			if membership != "" {
				key := who
				ev.Type, ev.StateKey, ev.Membership = "m.room.member", &key, membership
			}
			must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				if _, err := d.InsertEvent(ctx, tx, ev, true); err != nil {
					return err
				}
				if membership != "" {
					_, err := d.ApplyStateDelta(ctx, tx, room, ev.Pos, nil, []*types.Event{ev})
					return err
				}
				return nil
			}))
			d.NotificationsCommitted(ev.Pos, storage.EventNotifications{})
			return ev.Pos
		}
		check := func(stage string, at types.StreamPosition, kept bool) {
			t.Helper()
			if got := d.MembershipsKept(user, at); got != kept {
				t.Fatalf("%s: kept answer used at %d: %v, want %v", stage, at, got, kept)
			}
			got, err := d.MembershipsAt(ctx, user, at)
			must(t, err)
			want, err := d.MembershipsFromTable(ctx, user, at)
			must(t, err)
			if a, b := fmt.Sprint(got), fmt.Sprint(want); a != b {
				t.Fatalf("%s: memberships %s, table %s", stage, a, b)
			}
		}
		pos := commit("!a:x", user, "join")
		check("first read", pos, false)
		check("same position", pos, true)
		pos = commit("!a:x", other, "join")
		check("another user joined", pos, true)
		pos = commit("!a:x", other, "")
		check("a message", pos, true)
		pos = commit("!b:x", user, "join")
		check("joined a second room", pos, false)
		check("after the join", pos, true)
		pos = commit("!a:x", user, "leave")
		check("left", pos, false)
		d.StartUnreadLog() // another writer may have written meanwhile
		check("log restarted", pos, false)
		pos = commit("!c:x", user, "invite")
		check("first event after the restart", pos, false)
		check("after the restart", pos, true)
	})
}
