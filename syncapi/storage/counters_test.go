package storage_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestCounterConcurrentFirstUse: 20 transactions taking the first
// positions of a fresh counter at once all succeed with distinct values
// (the first use used to race into a duplicate key on PostgreSQL).
func TestCounterConcurrentFirstUse(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		// Several fresh counters: each first use is a chance to race.
		for c := range 10 {
			counter := fmt.Sprintf("race%d", c)
			var mu sync.Mutex
			var got []types.StreamPosition
			errs := testutil.Concurrently(20, func(int) error {
				return d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
					pos, err := d.NextPos(ctx, tx, counter)
					if err == nil {
						mu.Lock()
						got = append(got, pos)
						mu.Unlock()
					}
					return err
				})
			})
			if len(errs) > 0 {
				t.Fatalf("%s: %d of 20 failed, first: %v", counter, len(errs), errs[0])
			}
			slices.Sort(got)
			for i, p := range got {
				if p != types.StreamPosition(i+1) {
					t.Fatalf("%s positions %v", counter, got)
				}
			}
		}
	})
}

// TestConcurrentEventsTakeDistinctPositions: live events stored by
// concurrent transactions (on PostgreSQL the position is taken in the
// insert itself) get distinct positions 1…20, each stored at its own.
func TestConcurrentEventsTakeDistinctPositions(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		var mu sync.Mutex
		got := map[types.StreamPosition]string{}
		errs := testutil.Concurrently(20, func(i int) error {
			// A message (indexed for search) or another event type.
			ev := &types.Event{EventID: fmt.Sprintf("$e%d", i), RoomID: "!r", Type: "m.room.message", Sender: "@u:x",
				JSON: []byte(`{"content":{"body":"hello"}}`)}
			if i%2 == 1 {
				ev.Type, ev.JSON = "m.reaction", []byte(`{}`)
			}
			return d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				ok, err := d.InsertEvent(ctx, tx, ev, true)
				if err != nil || !ok {
					return fmt.Errorf("insert %s: %v %v", ev.EventID, ok, err)
				}
				mu.Lock()
				got[ev.Pos] = ev.EventID
				mu.Unlock()
				return nil
			})
		})
		if len(errs) > 0 {
			t.Fatalf("%d of 20 failed, first: %v", len(errs), errs[0])
		}
		for p := types.StreamPosition(1); p <= 20; p++ {
			id, ok := got[p]
			if !ok {
				t.Fatalf("no event at position %d: %v", p, got)
			}
			stored, err := d.EventByID(ctx, nil, id)
			if err != nil || stored == nil || stored.Pos != p {
				t.Fatalf("%s stored at %v (%v), was given %d", id, stored, err, p)
			}
		}
	})
}

// TestRoomsAndMemberEventsBetween: the rooms with timeline events and
// the member events of a range, read together, are what the two reads
// alone give.
func TestRoomsAndMemberEventsBetween(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		alice, bob := "@a:x", "@b:x"
		evs := []*types.Event{
			{EventID: "$j1", RoomID: "!one", Type: "m.room.member", Sender: alice, StateKey: &alice, Membership: "join", JSON: []byte(`{}`)},
			{EventID: "$m1", RoomID: "!two", Type: "m.room.message", Sender: alice, JSON: []byte(`{}`)},
			{EventID: "$j2", RoomID: "!three", Type: "m.room.member", Sender: bob, StateKey: &bob, Membership: "leave", JSON: []byte(`{}`)},
			{EventID: "$m2", RoomID: "!two", Type: "m.room.message", Sender: alice, JSON: []byte(`{}`)},
		}
		if err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			for i, ev := range evs {
				if _, err := d.InsertEvent(ctx, tx, ev, i != 2); err != nil { // $j2 outside the timeline
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		rooms, members, err := d.RoomsAndMemberEventsBetween(ctx, evs[0].Pos-1, evs[3].Pos)
		if err != nil {
			t.Fatal(err)
		}
		if len(rooms) != 2 || !rooms["!one"] || !rooms["!two"] {
			t.Fatalf("rooms %v", rooms)
		}
		want, err := d.MemberEventsBetween(ctx, evs[0].Pos-1, evs[3].Pos)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 2 || !slices.Equal(members, want) || members[0].UserID != alice || members[1].Membership != "leave" {
			t.Fatalf("member events %v, alone %v", members, want)
		}
		// A range after them has none of either.
		if rooms, members, err := d.RoomsAndMemberEventsBetween(ctx, evs[3].Pos, evs[3].Pos+5); err != nil || len(rooms)+len(members) != 0 {
			t.Fatalf("empty range: %v %v %v", rooms, members, err)
		}
	})
}
