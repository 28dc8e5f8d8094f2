package roomserver

import (
	"context"
	"fmt"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// TestStateSnapshotsShared: messages add no state rows, a state event
// adds one delta row (not a copy of the room's state), and a snapshot
// read back from the database equals the state the room had.
func TestStateSnapshotsShared(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, b.NewDSN(t))
			owner := "@owner:" + testServer
			roomID := createTestRoom(t, rs, owner, "10", "public")
			const members = 300
			for i := 0; i < members; i++ {
				u := fmt.Sprintf("@m%d:%s", i, testServer)
				if res := send(t, rs, local(roomID, u, "m.room.member", strp(u), map[string]any{"membership": "join"})); res.Err != nil {
					t.Fatal(res.Err)
				}
			}
			rm, err := rs.room(ctx, roomID)
			must(t, err)
			snaps, entries, err := snapshotRowCount(ctx, rs, rm.nid)
			if err != nil {
				t.Fatal(err)
			}
			// A copy per state event would be ~members²/2 = 45000 rows.
			if entries > 3000 {
				t.Fatalf("%d state entry rows for %d snapshots: snapshots are not shared", entries, snaps)
			}
			for i := 0; i < 50; i++ {
				send(t, rs, local(roomID, owner, "m.room.message", nil, map[string]any{"body": "hi"}))
			}
			snaps2, entries2, err := snapshotRowCount(ctx, rs, rm.nid)
			must(t, err)
			if snaps2 != snaps || entries2 != entries {
				t.Fatalf("messages wrote state rows: %d/%d -> %d/%d", snaps, entries, snaps2, entries2)
			}
			// Reading the current snapshot back (cold) gives current state.
			loaded, _, err := rs.db.LoadSnapshot(ctx, rs.db, rm.snapNID)
			if err != nil {
				t.Fatal(err)
			}
			if len(loaded) != len(rm.snapshot(nil)) {
				t.Fatalf("snapshot has %d entries, room %d", len(loaded), len(rm.snapshot(nil)))
			}
			for k, v := range rm.snapshot(nil) {
				if loaded[k] != v {
					t.Fatalf("snapshot differs at %v", k)
				}
			}
			// State after an old event is that old state.
			evs, err := rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []api.StateKey{{Type: "m.room.member", StateKey: "@m0:" + testServer}})
			if err != nil || len(evs) != 1 {
				t.Fatal(err)
			}
			old, err := rs.QueryStateAfterEvent(ctx, matrixid.RoomID(roomID), matrixid.EventID(evs[0].EventID()), []api.StateKey{{Type: "m.room.member", StateKey: "*"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(old) != 2 { // owner + m0
				t.Fatalf("state after m0 join has %d members", len(old))
			}
		})
	}
}

// snapshotRowCount counts a room's snapshot and state entry rows, read
// straight from the tables: how the rows are shared is what is tested.
func snapshotRowCount(ctx context.Context, rs *RoomServer, roomNID int64) (snapshots, entries int, err error) {
	if err = rs.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM roomserver_state_snapshots WHERE room_nid = $1`, roomNID).Scan(&snapshots); err != nil {
		return
	}
	err = rs.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM roomserver_state_entries e JOIN roomserver_state_snapshots s
		ON s.snapshot_nid = e.snapshot_nid WHERE s.room_nid = $1`, roomNID).Scan(&entries)
	return
}
