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

// MemberEventsBetween returns the membership events in (from, to], oldest
// first (for device list joins and leaves).
func (d *DB) MemberEventsBetween(ctx context.Context, from, to types.StreamPosition) ([]MembershipChange, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, state_key, membership, pos FROM syncapi_events
		WHERE pos > $1 AND pos <= $2 AND type = 'm.room.member' AND state_key IS NOT NULL ORDER BY pos`, int64(from), int64(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MembershipChange
	for rows.Next() {
		var m MembershipChange
		var pos int64
		if err := rows.Scan(&m.RoomID, &m.UserID, &m.Membership, &pos); err != nil {
			return nil, err
		}
		m.Pos = types.StreamPosition(pos)
		out = append(out, m)
	}
	return out, rows.Err()
}
