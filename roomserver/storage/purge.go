package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// BlockRoom blocks (blocked) or unblocks a room; by is the admin.
func (d *DB) BlockRoom(ctx context.Context, roomID string, blocked bool, by string, ts int64) error {
	return d.WriteTx(ctx, func(tx *storage.Tx) error {
		if !blocked {
			_, err := tx.ExecContext(ctx, `DELETE FROM roomserver_blocked_rooms WHERE room_id = $1`, roomID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO roomserver_blocked_rooms (room_id, blocked_by, ts) VALUES ($1, $2, $3)
			ON CONFLICT (room_id) DO NOTHING`, roomID, by, ts)
		return err
	})
}

// RoomBlocked says whether a room is blocked, and by whom.
func (d *DB) RoomBlocked(ctx context.Context, q storage.Querier, roomID string) (bool, string, error) {
	var by string
	err := q.QueryRowContext(ctx, `SELECT blocked_by FROM roomserver_blocked_rooms WHERE room_id = $1`, roomID).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", nil
	}
	return err == nil, by, err
}

// purgeTables are the roomserver tables holding a room's data, with the
// condition naming the room ($1: the room NID, or the room ID when byID).
// Blocked rooms are not among them: a block outlives the room.
var purgeTables = []struct {
	table, where string
	byID         bool
}{
	{"roomserver_state_entries", `snapshot_nid IN (SELECT snapshot_nid FROM roomserver_state_snapshots WHERE room_nid = $1)`, false},
	{"roomserver_state_snapshots", `room_nid = $1`, false},
	{"roomserver_events", `room_nid = $1`, false},
	{"roomserver_memberships", `room_nid = $1`, false},
	{"roomserver_aliases", `room_id = $1`, true},
	{"roomserver_txns", `room_id = $1`, true},
	{"roomserver_network_rooms", `room_id = $1`, true},
	{"roomserver_rooms", `room_nid = $1`, false},
}

func purgeArg(byID bool, nid int64, roomID string) any {
	if byID {
		return roomID
	}
	return nid
}

// PurgeRoom deletes every row of the room (events, state, memberships,
// aliases, transaction IDs, directory entries, the room itself) in tx.
func (d *DB) PurgeRoom(ctx context.Context, tx *storage.Tx, roomNID int64, roomID string) error {
	for _, t := range purgeTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE `+t.where, purgeArg(t.byID, roomNID, roomID)); err != nil {
			return err
		}
	}
	return nil
}

// RoomRowCounts counts the rows each roomserver table holds for the
// room, for checking a purge (tests): by its NID while the room row
// exists, and events also by the room ID in their JSON, which a purge
// that lost the room row would leave behind.
func (d *DB) RoomRowCounts(ctx context.Context, roomID string) (map[string]int, error) {
	var nid int64
	err := d.QueryRowContext(ctx, `SELECT room_nid FROM roomserver_rooms WHERE room_id = $1`, roomID).Scan(&nid)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	out := map[string]int{}
	for _, t := range purgeTables {
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE `+t.where, purgeArg(t.byID, nid, roomID)).Scan(&n); err != nil {
			return nil, err
		}
		out[t.table] = n
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM roomserver_events WHERE event_json LIKE $1`, `%"room_id":"`+roomID+`"%`).Scan(&n); err != nil {
		return nil, err
	}
	out["roomserver_events (by room ID)"] = n
	return out, nil
}
