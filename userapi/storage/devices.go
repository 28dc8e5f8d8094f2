package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// Device is a row of userapi_devices.
type Device struct {
	Localpart         string
	DeviceID          string
	DisplayName       string
	CreatedTS         int64
	LastSeenTS        int64
	LastSeenIP        string
	LastSeenUserAgent string
}

const deviceColumns = `device_id, display_name, created_ts, last_seen_ts, last_seen_ip, last_seen_user_agent`

func scanDevice(localpart string, row interface{ Scan(...any) error }) (Device, error) {
	d := Device{Localpart: localpart}
	err := row.Scan(&d.DeviceID, &d.DisplayName, &d.CreatedTS, &d.LastSeenTS, &d.LastSeenIP, &d.LastSeenUserAgent)
	return d, err
}

// Devices lists a user's devices, oldest first.
func (d *DB) Devices(ctx context.Context, localpart string) ([]Device, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT `+deviceColumns+` FROM userapi_devices
		WHERE localpart = $1 ORDER BY created_ts, device_id`, localpart)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		dev, err := scanDevice(localpart, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, dev)
	}
	return out, rows.Err()
}

// Device returns one device or storage.ErrNotFound.
func (d *DB) Device(ctx context.Context, localpart, deviceID string) (*Device, error) {
	dev, err := scanDevice(localpart, d.DB.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM userapi_devices
		WHERE localpart = $1 AND device_id = $2`, localpart, deviceID))
	if err != nil {
		return nil, storage.NotFound(err)
	}
	return &dev, nil
}

// SetDeviceDisplayName renames a device, or returns storage.ErrNotFound.
// onRenamed (if not nil) runs in the same transaction, so the rename's
// announcement commits with it.
func (d *DB) SetDeviceDisplayName(ctx context.Context, localpart, deviceID, name string, onRenamed func(tx *storage.Tx) error) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE userapi_devices SET display_name = $3
			WHERE localpart = $1 AND device_id = $2`, localpart, deviceID, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		if onRenamed != nil {
			return onRenamed(tx)
		}
		return nil
	})
}

// OnDeleted is called inside a deletion's transaction with the IDs of
// the devices it deleted (possibly none), so that the deletion's
// announcement commits with it. nil: nothing to do.
type OnDeleted func(tx *storage.Tx, deleted []string) error

func (f OnDeleted) call(tx *storage.Tx, deleted []string) error {
	if f == nil {
		return nil
	}
	return f(tx, deleted)
}

// DeleteDevices deletes the devices and every token they hold.
func (d *DB) DeleteDevices(ctx context.Context, localpart string, deviceIDs []string, onDeleted OnDeleted) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		var deleted []string
		for _, id := range deviceIDs {
			for _, q := range []string{
				`DELETE FROM userapi_access_tokens WHERE localpart = $1 AND device_id = $2`,
				`DELETE FROM userapi_refresh_tokens WHERE localpart = $1 AND device_id = $2`,
			} {
				if _, err := tx.ExecContext(ctx, q, localpart, id); err != nil {
					return err
				}
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM userapi_devices WHERE localpart = $1 AND device_id = $2`, localpart, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				deleted = append(deleted, id)
			}
		}
		return onDeleted.call(tx, deleted)
	})
}

// DeleteDevicesExcept deletes every device of the user but except (which
// may be "") and their tokens.
func (d *DB) DeleteDevicesExcept(ctx context.Context, localpart, except string, onDeleted OnDeleted) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error { return d.deleteDevicesExcept(ctx, tx, localpart, except, onDeleted) })
}

func (d *DB) deleteDevicesExcept(ctx context.Context, tx *storage.Tx, localpart, except string, onDeleted OnDeleted) error {
	for _, q := range []string{
		`DELETE FROM userapi_access_tokens WHERE localpart = $1 AND device_id <> $2`,
		`DELETE FROM userapi_refresh_tokens WHERE localpart = $1 AND device_id <> $2`,
	} {
		if _, err := tx.ExecContext(ctx, q, localpart, except); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM userapi_devices WHERE localpart = $1 AND device_id <> $2 RETURNING device_id`, localpart, except)
	if err != nil {
		return err
	}
	defer rows.Close()
	var deleted []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		deleted = append(deleted, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	return onDeleted.call(tx, deleted)
}

// LastSeen is a device's latest activity.
type LastSeen struct {
	Localpart, DeviceID string
	TS                  int64
	IP, UserAgent       string
}

// UpdateLastSeen records a batch of activity in one transaction.
func (d *DB) UpdateLastSeen(ctx context.Context, batch []LastSeen) error {
	if len(batch) == 0 {
		return nil
	}
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		for _, s := range batch {
			if _, err := tx.ExecContext(ctx, `UPDATE userapi_devices
				SET last_seen_ts = $3, last_seen_ip = $4, last_seen_user_agent = $5
				WHERE localpart = $1 AND device_id = $2`, s.Localpart, s.DeviceID, s.TS, s.IP, s.UserAgent); err != nil {
				return err
			}
		}
		return nil
	})
}
