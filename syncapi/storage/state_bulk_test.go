package storage_test

import (
	"context"
	"fmt"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// A joined room's state stored in bulk (more rows than one statement
// takes): every event stored once at its own position (those stored
// already keep theirs), every slot current, memberships and the
// directory written, a later add for a slot winning, removes applied.
func TestBulkState(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		const n = 260
		sk := ""
		var evs []*types.Event
		for i := range n {
			user := fmt.Sprintf("@u%d:x", i)
			evs = append(evs, &types.Event{EventID: fmt.Sprintf("$m%d", i), RoomID: "!r", Type: "m.room.member", Sender: user, StateKey: &user,
				Membership: "join", JSON: []byte(fmt.Sprintf(`{"content":{"membership":"join","displayname":"Name %d"}}`, i))})
		}
		evs = append(evs, &types.Event{EventID: "$jr", RoomID: "!r", Type: "m.room.join_rules", Sender: "@u0:x", StateKey: &sk,
			JSON: []byte(`{"content":{"join_rule":"public"}}`)})
		u0 := "@u0:x"
		leave := &types.Event{EventID: "$leave0", RoomID: "!r", Type: "m.room.member", Sender: u0, StateKey: &u0, Membership: "leave", JSON: []byte(`{"content":{"membership":"leave"}}`)}
		old := &types.Event{EventID: "$old", RoomID: "!r", Type: "m.room.topic", Sender: "@u0:x", StateKey: &sk, JSON: []byte(`{}`)}
		var oldPos types.StreamPosition
		var changes []storage.MembershipChange
		err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			if ok, err := d.InsertEvent(ctx, tx, old, false); err != nil || !ok {
				return fmt.Errorf("insert: %v %v", ok, err)
			}
			if _, err := d.ApplyStateDelta(ctx, tx, "!r", old.Pos, nil, []*types.Event{old, evs[5]}); err != nil {
				return err
			}
			oldPos = old.Pos
			again := *old
			p, err := d.ReservePositions(ctx, tx, storage.CounterPDU, 10)
			if err != nil {
				return err
			}
			all := append(append([]*types.Event{}, evs...), &again, leave)
			if err := d.InsertStateEventsFrom(ctx, tx, p, all); err != nil {
				return err
			}
			if again.Pos != oldPos {
				return fmt.Errorf("stored event moved from %d to %d", oldPos, again.Pos)
			}
			changes, err = d.ApplyStateDelta(ctx, tx, "!r", all[len(all)-1].Pos+1, []string{"$old"}, all[:len(all)-2:len(all)-2])
			if err != nil {
				return err
			}
			// u0 leaves within the same delta: the later add wins.
			more, err := d.ApplyStateDelta(ctx, tx, "!r", all[len(all)-1].Pos+1, nil, []*types.Event{evs[0], leave})
			changes = append(changes, more...)
			return err
		})
		must(t, err)
		if len(changes) != n+2 {
			t.Fatalf("%d membership changes, want %d", len(changes), n+2)
		}
		got, err := d.EventsByIDs(ctx, append(idsOf(evs), "$old"))
		must(t, err)
		seen := map[types.StreamPosition]bool{}
		for _, e := range got {
			if seen[e.Pos] {
				t.Fatalf("position %d twice", e.Pos)
			}
			seen[e.Pos] = true
		}
		if len(got) != n+2 {
			t.Fatalf("stored %d events, want %d", len(got), n+2)
		}
		state, err := d.CurrentState(ctx, nil, "!r")
		must(t, err)
		if len(state) != n+1 {
			t.Fatalf("current state has %d events, want %d", len(state), n+1)
		}
		for _, e := range state {
			if e.EventID == "$old" || e.EventID == "$m0" {
				t.Fatalf("%s still current", e.EventID)
			}
		}
		if joined, err := d.RoomMembers(ctx, nil, "!r", "join"); err != nil || len(joined) != n-1 {
			t.Fatalf("%d joined (%v), want %d", len(joined), err, n-1)
		}
		if users, err := d.SearchDirectory(ctx, "@u1:x", "name", 500); err != nil || len(users) != n-1 { // u0 left
			t.Fatalf("directory finds %d (%v), want %d", len(users), err, n-1)
		}
	})
}

func idsOf(evs []*types.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.EventID
	}
	return ids
}
