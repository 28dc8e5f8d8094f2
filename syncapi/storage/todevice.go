package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// ToDeviceMessage is one queued to-device event.
type ToDeviceMessage struct {
	Pos     types.StreamPosition
	Sender  string
	Type    string
	Content json.RawMessage
}

// ToDeviceTxnSeen records a (user, device, txn) and reports whether it had
// been seen before, so retried requests deliver once.
func (d *DB) ToDeviceTxnSeen(ctx context.Context, tx *storage.Tx, userID, deviceID, txnID string, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO syncapi_to_device_txns (user_id, device_id, txn_id, ts) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, userID, deviceID, txnID, now)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 0, nil
}

// InsertToDevice queues a message for one device.
func (d *DB) InsertToDevice(ctx context.Context, tx *storage.Tx, userID, deviceID, sender, evType string, content []byte) (types.StreamPosition, error) {
	pos, err := d.NextPos(ctx, tx, CounterToDevice)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO syncapi_send_to_device (pos, user_id, device_id, sender, type, content) VALUES ($1, $2, $3, $4, $5, $6)`,
		int64(pos), userID, deviceID, sender, evType, string(content))
	return pos, err
}

// ToDeviceBetween returns the device's messages in (from, to], oldest first, at most limit.
func (d *DB) ToDeviceBetween(ctx context.Context, userID, deviceID string, from, to types.StreamPosition, limit int) ([]ToDeviceMessage, error) {
	if from >= to { // nothing can be in the range: most syncs, no query
		return nil, nil
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT pos, sender, type, content FROM syncapi_send_to_device
		WHERE user_id = $1 AND device_id = $2 AND pos > $3 AND pos <= $4 ORDER BY pos LIMIT $5`, userID, deviceID, int64(from), int64(to), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ToDeviceMessage
	for rows.Next() {
		var m ToDeviceMessage
		var c string
		if err := rows.Scan(&m.Pos, &m.Sender, &m.Type, &c); err != nil {
			return nil, err
		}
		m.Content = json.RawMessage(c)
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteToDeviceUpTo deletes messages the device acknowledged by syncing
// with a since token at or after pos. Most syncs acknowledge nothing, so
// a write, which would queue every /sync behind the consumer's
// transactions on the one writer, is made only when a read finds
// something; and a device known to have nothing left up to pos (new
// messages take higher positions) is not looked up again.
func (d *DB) DeleteToDeviceUpTo(ctx context.Context, userID, deviceID string, pos types.StreamPosition) error {
	device := [2]string{userID, deviceID}
	if upTo, ok := d.toDeviceAcked.Get(device); ok && pos <= upTo {
		return nil
	}
	var one int
	err := d.DB.QueryRowContext(ctx, `SELECT 1 FROM syncapi_send_to_device WHERE user_id = $1 AND device_id = $2 AND pos <= $3 LIMIT 1`,
		userID, deviceID, int64(pos)).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err == nil {
		if _, err := d.DB.ExecContext(ctx, `DELETE FROM syncapi_send_to_device WHERE user_id = $1 AND device_id = $2 AND pos <= $3`, userID, deviceID, int64(pos)); err != nil {
			return err
		}
	}
	d.toDeviceAcked.Update(device, func(upTo types.StreamPosition, _ bool) types.StreamPosition { return max(upTo, pos) })
	return nil
}
