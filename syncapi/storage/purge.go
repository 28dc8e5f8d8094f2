package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// purgeTables are syncapi's tables holding a room's data: events (live
// and backfilled), current state, membership history, the room's account
// data copies, receipts, notifications, the search index and the public
// room list.
var purgeTables = []string{
	"syncapi_search",
	"syncapi_notifications",
	"syncapi_notify_events",
	"syncapi_receipts",
	"syncapi_account_data",
	"syncapi_memberships",
	"syncapi_current_state",
	"syncapi_public_rooms",
	"syncapi_events",
}

// PurgeRoom deletes everything syncapi holds of the room, in tx (the
// consumer's, with its stream position). The caller calls
// ForgetUnreadCounts after the commit.
func (d *DB) PurgeRoom(ctx context.Context, tx *storage.Tx, roomID string) error {
	sqlite := tx.Dialect() != storage.Postgres
	if sqlite {
		// SQLite's full-text rows are keyed by the indexed event's pos
		// (their room_id is not indexed).
		if _, err := tx.ExecContext(ctx, `DELETE FROM syncapi_search WHERE docid IN (SELECT pos FROM syncapi_events WHERE room_id = $1)`, roomID); err != nil {
			return err
		}
	}
	for _, t := range purgeTables {
		if sqlite && t == "syncapi_search" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE room_id = $1`, roomID); err != nil {
			return err
		}
	}
	return nil
}

// RoomRowCounts counts the rows each syncapi table holds for the room,
// for checking a purge (tests). On SQLite, full-text rows left without
// their event are counted too.
func (d *DB) RoomRowCounts(ctx context.Context, roomID string) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range purgeTables {
		var n int
		if err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t+` WHERE room_id = $1`, roomID).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	if d.DB.Dialect != storage.Postgres {
		var n int
		if err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM syncapi_search WHERE docid NOT IN (SELECT pos FROM syncapi_events)`).Scan(&n); err != nil {
			return nil, err
		}
		out["syncapi_search (orphaned)"] = n
	}
	return out, nil
}

// ForgetUnreadCounts drops kept unread counts, which may count rows a
// purge deleted.
func (d *DB) ForgetUnreadCounts() { d.forgetUnread() }

func (d *DB) forgetUnread() {
	d.unread.reset()
	d.unreadLog.reset()
}
