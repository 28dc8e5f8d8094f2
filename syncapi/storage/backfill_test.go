package storage_test

import (
	"context"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Backfilled events sit below live ones, ordered by depth whatever order
// they arrive in; same-depth events both fit; a repeat is a no-op.
func TestBackfilledEvents(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ev := func(id string) *types.Event {
			return &types.Event{EventID: id, RoomID: "!r", Type: "m.room.message", Sender: "@u:x", JSON: []byte(`{}`)}
		}
		err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			if _, err := d.InsertEvent(ctx, tx, ev("$live"), true); err != nil {
				return err
			}
			for _, e := range []struct {
				id    string
				depth int64
			}{{"$d5", 5}, {"$d3", 3}, {"$d4a", 4}, {"$d4b", 4}, {"$d5", 5}} {
				if _, err := d.InsertBackfilledEvent(ctx, tx, ev(e.id), e.depth); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		all, err := d.RoomEvents(ctx, "!r", types.MinBackfillPos-1, 100, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range all {
			ids = append(ids, e.EventID)
		}
		if len(ids) != 5 || ids[0] != "$d3" || ids[3] != "$d5" || ids[4] != "$live" || all[3].Pos >= 0 {
			t.Fatalf("order %v", ids)
		}
		// Live ranges (/sync) never include backfilled history.
		if live, err := d.RoomEvents(ctx, "!r", 0, 100, 10, false); err != nil || len(live) != 1 {
			t.Fatalf("live range has %d events (%v)", len(live), err)
		}
	})
}
