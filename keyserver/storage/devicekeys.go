package storage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/axon-hs/axon/internal/storage"
)

// Key is a one-time or fallback key: "algorithm:key_id" split in two,
// and the signed key object.
type Key struct {
	Algorithm string
	KeyID     string
	JSON      json.RawMessage
}

// Upload is what one /keys/upload stores for a device.
type Upload struct {
	UserID, DeviceID string
	// DeviceKeys nil leaves the stored identity keys alone.
	DeviceKeys   json.RawMessage
	OneTimeKeys  []Key
	FallbackKeys []Key
}

// Upload stores u inside tx. streamID is the user's new device list
// stream ID when the identity keys changed, else 0. One-time keys
// already stored under the same ID are kept as they are.
func (d *DB) Upload(ctx context.Context, tx *storage.Tx, u Upload) (streamID int64, err error) {
	if u.DeviceKeys != nil {
		if streamID, err = d.storeDeviceKeys(ctx, tx, u); err != nil {
			return 0, err
		}
	}
	for _, k := range u.OneTimeKeys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO keyserver_one_time_keys (user_id, device_id, algorithm, key_id, key_json)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, device_id, algorithm, key_id) DO NOTHING`,
			u.UserID, u.DeviceID, k.Algorithm, k.KeyID, string(k.JSON)); err != nil {
			return 0, err
		}
	}
	for _, k := range u.FallbackKeys {
		// Re-uploading the same key keeps its used flag; a new key
		// starts unused.
		if _, err := tx.ExecContext(ctx, `INSERT INTO keyserver_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used)
			VALUES ($1, $2, $3, $4, $5, FALSE) ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET
			used = CASE WHEN keyserver_fallback_keys.key_id = excluded.key_id AND keyserver_fallback_keys.key_json = excluded.key_json
				THEN keyserver_fallback_keys.used ELSE FALSE END,
			key_id = excluded.key_id, key_json = excluded.key_json`,
			u.UserID, u.DeviceID, k.Algorithm, k.KeyID, string(k.JSON)); err != nil {
			return 0, err
		}
	}
	return streamID, nil
}

// storeDeviceKeys replaces the device's identity keys, bumping the
// user's stream only when they changed.
func (d *DB) storeDeviceKeys(ctx context.Context, tx *storage.Tx, u Upload) (int64, error) {
	var old string
	err := tx.QueryRowContext(ctx, `SELECT key_json FROM keyserver_device_keys WHERE user_id = $1 AND device_id = $2`,
		u.UserID, u.DeviceID).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if err == nil && bytes.Equal([]byte(old), u.DeviceKeys) {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO keyserver_device_keys (user_id, device_id, key_json, ts) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json, ts = excluded.ts`,
		u.UserID, u.DeviceID, string(u.DeviceKeys), time.Now().UnixMilli()); err != nil {
		return 0, err
	}
	return d.bumpStream(ctx, tx, u.UserID)
}

// TouchDevice marks a change of a device that has identity keys (its
// name) inside tx: it returns the keys and the user's new stream ID, or
// nil and 0 when the device has no keys (no one has seen it).
func (d *DB) TouchDevice(ctx context.Context, tx *storage.Tx, userID, deviceID string) (json.RawMessage, int64, error) {
	var js string
	err := tx.QueryRowContext(ctx, `SELECT key_json FROM keyserver_device_keys WHERE user_id = $1 AND device_id = $2`,
		userID, deviceID).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	streamID, err := d.bumpStream(ctx, tx, userID)
	if err != nil {
		return nil, 0, err
	}
	return json.RawMessage(js), streamID, nil
}

// DeviceKeys returns userID's stored identity keys by device ID.
func (d *DB) DeviceKeys(ctx context.Context, userID string) (map[string]json.RawMessage, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT device_id, key_json FROM keyserver_device_keys WHERE user_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var id, js string
		if err := rows.Scan(&id, &js); err != nil {
			return nil, err
		}
		out[id] = json.RawMessage(js)
	}
	return out, rows.Err()
}

// DeleteDevices forgets every key of the given devices inside tx.
// streamID is the user's new device list stream ID, or 0 if none of them
// had identity keys (nobody can have seen them, so nothing changed).
func (d *DB) DeleteDevices(ctx context.Context, tx *storage.Tx, userID string, deviceIDs []string) (deleted []string, streamID int64, err error) {
	for _, dev := range deviceIDs {
		res, err := tx.ExecContext(ctx, `DELETE FROM keyserver_device_keys WHERE user_id = $1 AND device_id = $2`, userID, dev)
		if err != nil {
			return nil, 0, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			deleted = append(deleted, dev)
		}
		for _, q := range []string{
			`DELETE FROM keyserver_one_time_keys WHERE user_id = $1 AND device_id = $2`,
			`DELETE FROM keyserver_fallback_keys WHERE user_id = $1 AND device_id = $2`,
			`DELETE FROM keyserver_cross_signing_sigs WHERE target_user_id = $1 AND target_key_id = $2`,
		} {
			if _, err := tx.ExecContext(ctx, q, userID, dev); err != nil {
				return nil, 0, err
			}
		}
	}
	if len(deleted) > 0 {
		if streamID, err = d.bumpStream(ctx, tx, userID); err != nil {
			return nil, 0, err
		}
	}
	return deleted, streamID, nil
}
