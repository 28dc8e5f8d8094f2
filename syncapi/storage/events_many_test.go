package storage_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// The many-room reads of an initial /sync must answer exactly what the
// per-room reads they replace answer, room by room.
func TestManyRoomReadsMatchPerRoomReads(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		user := "@u:x"
		// Room i has i messages; rooms join, leave and rejoin in turns.
		var rooms []string
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			for i := range 7 {
				room := fmt.Sprintf("!r%d:x", i)
				rooms = append(rooms, room)
				sk := ""
				state := []*types.Event{{EventID: "$c" + room, RoomID: room, Type: "m.room.create", Sender: user, StateKey: &sk, JSON: []byte(`{}`)}}
				for _, ms := range []string{"join", "leave", "join"}[:1+i%3] {
					key := user
					state = append(state, &types.Event{EventID: fmt.Sprintf("$%s%d%s", ms, len(state), room), RoomID: room, Type: "m.room.member", Sender: user, StateKey: &key, Membership: ms, JSON: []byte(`{}`)})
				}
				for _, ev := range state {
					if _, err := d.InsertEvent(ctx, tx, ev, true); err != nil {
						return err
					}
					if _, err := d.ApplyStateDelta(ctx, tx, room, ev.Pos, nil, []*types.Event{ev}); err != nil {
						return err
					}
				}
				for j := range i {
					ev := &types.Event{EventID: fmt.Sprintf("$m%d%s", j, room), RoomID: room, Type: "m.room.message", Sender: user, JSON: []byte(`{}`)}
					if _, err := d.InsertEvent(ctx, tx, ev, j != 1); err != nil { // one outside the timeline
						return err
					}
				}
			}
			return nil
		}))
		max, err := d.MaxPositions(ctx)
		must(t, err)
		asked := append([]string{"!unknown:x"}, rooms...)
		for _, chunk := range []int{500, 3} { // one statement, and several
			restore := storage.SetManyRoomsChunk(chunk)
			checkManyRoomReads(t, d, user, asked, max.PDU)
			restore()
		}
		histories, err := d.MembershipHistories(ctx, user)
		must(t, err)
		if len(histories["!r2:x"]) != 3 {
			t.Fatalf("join, leave, join in !r2:x: got %+v", histories["!r2:x"])
		}
	})
}

func checkManyRoomReads(t *testing.T, d *storage.DB, user string, asked []string, max types.StreamPosition) {
	t.Helper()
	ctx := context.Background()
	for _, to := range []types.StreamPosition{max, max / 2, 1} {
		for _, limit := range []int{1, 3, 11} {
			got, err := d.RecentRoomEvents(ctx, asked, to, limit)
			must(t, err)
			for _, room := range asked {
				want, err := d.RoomEvents(ctx, room, 0, to, limit, true)
				must(t, err)
				if !sameEvents(got[room], want) {
					t.Fatalf("to %d limit %d room %s: RecentRoomEvents %s, RoomEvents %s", to, limit, room, ids(got[room]), ids(want))
				}
			}
		}
	}
	states, err := d.CurrentStateOfRooms(ctx, asked)
	must(t, err)
	histories, err := d.MembershipHistories(ctx, user)
	must(t, err)
	for _, room := range asked {
		want, err := d.CurrentState(ctx, nil, room)
		must(t, err)
		if !sameEventSet(states[room], want) {
			t.Fatalf("room %s: CurrentStateOfRooms %s, CurrentState %s", room, ids(states[room]), ids(want))
		}
		h, err := d.MembershipHistory(ctx, user, room)
		must(t, err)
		if len(h) != len(histories[room]) || (len(h) > 0 && !reflect.DeepEqual(h, histories[room])) {
			t.Fatalf("room %s: MembershipHistories %+v, MembershipHistory %+v", room, histories[room], h)
		}
	}
}

func ids(evs []*types.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%s@%d", ev.EventID, ev.Pos)
	}
	return out
}

func sameEvents(a, b []*types.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameEventSet(a, b []*types.Event) bool {
	byID := map[string]*types.Event{}
	for _, ev := range b {
		byID[ev.EventID] = ev
	}
	if len(a) != len(b) {
		return false
	}
	for _, ev := range a {
		if !reflect.DeepEqual(ev, byID[ev.EventID]) {
			return false
		}
	}
	return true
}
