package storage_test

import (
	"fmt"
	"slices"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/storage"
)

// TestRoomHeadsMerged: several rooms' heads written in one transaction
// (as a SQLite group commit merges them: one UPDATE) each land on their
// own row, a room written twice keeps its last head, and a room not
// named is untouched.
func TestRoomHeadsMerged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ids := []string{"!a:x", "!b:x", "!c:x", "!untouched:x"}
		nids := make([]int64, len(ids))
		for i, id := range ids {
			nids[i] = newRoom(t, d, id)
		}
		write(t, d, func(tx *istorage.Tx) error {
			for i := range 3 {
				ext := []string{fmt.Sprintf("$e%d", i)}
				must(t, d.UpdateRoomHead(ctx, tx, nids[i], int64(10+i), ext, int64(20+i)))
			}
			return d.UpdateRoomHead(ctx, tx, nids[1], 99, []string{"$last"}, 98)
		})
		for i, id := range ids {
			r, err := d.RoomByID(ctx, d, id)
			must(t, err)
			snap, ext, depth := int64(10+i), []string{fmt.Sprintf("$e%d", i)}, int64(20+i)
			switch i {
			case 1:
				snap, ext, depth = 99, []string{"$last"}, 98
			case 3:
				snap, ext, depth = 0, []string{}, 0
			}
			if r.SnapshotNID != snap || !slices.Equal(r.Extremities, ext) || r.Depth != depth {
				t.Fatalf("room %s: %+v, want snapshot %d, extremities %v, depth %d", id, r, snap, ext, depth)
			}
		}
	})
}
