package storage_test

import (
	"context"
	"fmt"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Events inserted from reserved positions get increasing positions, also
// once the reservation is used up, and later events come after them.
func TestReservedPositionsKeepOrder(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		msg := func(i int) *types.Event {
			return &types.Event{EventID: fmt.Sprintf("$e%d", i), RoomID: "!r:x", Type: "m.room.message", Sender: "@u:x", JSON: []byte(`{}`)}
		}
		var got []types.StreamPosition
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			if _, err := d.InsertEvent(ctx, tx, msg(0), true); err != nil {
				return err
			}
			p, err := d.ReservePositions(ctx, tx, storage.CounterPDU, 2)
			if err != nil {
				return err
			}
			for i := 1; i <= 3; i++ { // one more than reserved
				ev := msg(i)
				if ok, err := d.InsertEventFrom(ctx, tx, p, ev, true); err != nil || !ok {
					return fmt.Errorf("insert %d: %v %v", i, ok, err)
				}
				got = append(got, ev.Pos)
			}
			return nil
		}))
		must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			ev := msg(4)
			_, err := d.InsertEvent(ctx, tx, ev, true)
			got = append(got, ev.Pos)
			return err
		}))
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("positions %v are not increasing", got)
			}
		}
		evs, err := d.RoomEvents(ctx, "!r:x", 0, got[len(got)-1], 10, false)
		must(t, err)
		if len(evs) != 5 || evs[4].EventID != "$e4" || evs[1].EventID != "$e1" {
			t.Fatalf("room order %s", ids(evs))
		}
		max, err := d.MaxPositions(ctx)
		must(t, err)
		if max.PDU < got[len(got)-1] {
			t.Fatalf("counter %d behind the last event at %d", max.PDU, got[len(got)-1])
		}
	})
}
