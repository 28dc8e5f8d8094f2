package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// CounterDeviceList numbers the device list stream (users whose device
// or cross-signing keys changed, from the device_list_updates stream).
const CounterDeviceList = "device_list"

// AddDeviceListChange records that userID's keys changed, at a new
// device list position.
func (d *DB) AddDeviceListChange(ctx context.Context, tx *storage.Tx, userID string) (types.StreamPosition, error) {
	pos, err := d.NextPos(ctx, tx, CounterDeviceList)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO syncapi_device_list_changes (pos, user_id) VALUES ($1, $2)`, int64(pos), userID)
	return pos, err
}

// DeviceListPosition is the newest device list position.
func (d *DB) DeviceListPosition(ctx context.Context) (types.StreamPosition, error) {
	var v int64
	err := d.DB.QueryRowContext(ctx, `SELECT value FROM syncapi_counters WHERE name = $1`, CounterDeviceList).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return types.StreamPosition(v), err
}

// DeviceListChangesBetween lists the users whose keys changed in (from, to].
func (d *DB) DeviceListChangesBetween(ctx context.Context, from, to types.StreamPosition) ([]string, error) {
	return storage.Strings(d.DB.QueryContext(ctx, `SELECT DISTINCT user_id FROM syncapi_device_list_changes WHERE pos > $1 AND pos <= $2`,
		int64(from), int64(to)))
}

// memberEventsBetween selects the membership events in (from, to],
// oldest first.
const memberEventsBetween = `SELECT room_id, state_key, membership, pos FROM syncapi_events
		WHERE pos > $1 AND pos <= $2 AND type = 'm.room.member' AND state_key IS NOT NULL`

// MemberEventsBetween returns the membership events in (from, to], oldest
// first (for device list joins and leaves).
func (d *DB) MemberEventsBetween(ctx context.Context, from, to types.StreamPosition) ([]MembershipChange, error) {
	_, evs, err := scanRoomsAndMembers(d.DB.QueryContext(ctx, memberEventsBetween+` ORDER BY pos`, int64(from), int64(to)))
	return evs, err
}

// RoomsAndMemberEventsBetween is RoomsWithEvents and MemberEventsBetween
// in one statement: an incremental /sync needs both.
func (d *DB) RoomsAndMemberEventsBetween(ctx context.Context, from, to types.StreamPosition) (map[string]bool, []MembershipChange, error) {
	return scanRoomsAndMembers(d.DB.QueryContext(ctx, `SELECT DISTINCT room_id, '', '', 0 FROM syncapi_events
		WHERE pos > $1 AND pos <= $2 AND in_timeline
		UNION ALL `+memberEventsBetween+` ORDER BY 4`, int64(from), int64(to)))
}

// scanRoomsAndMembers reads rows of (room, user, membership, position):
// member events, or with position 0 a room with timeline events.
func scanRoomsAndMembers(rows *sql.Rows, err error) (map[string]bool, []MembershipChange, error) {
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	rooms := map[string]bool{}
	var evs []MembershipChange
	for rows.Next() {
		var m MembershipChange
		var pos int64
		if err := rows.Scan(&m.RoomID, &m.UserID, &m.Membership, &pos); err != nil {
			return nil, nil, err
		}
		if pos == 0 {
			rooms[m.RoomID] = true
			continue
		}
		m.Pos = types.StreamPosition(pos)
		evs = append(evs, m)
	}
	return rooms, evs, rows.Err()
}
