package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// TxnEvent returns the event ID already sent for a client transaction.
func (d *DB) TxnEvent(ctx context.Context, q storage.Querier, userID, deviceID, roomID, txnID string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT event_id FROM roomserver_txns WHERE user_id = $1 AND device_id = $2 AND room_id = $3 AND txn_id = $4`,
		userID, deviceID, roomID, txnID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// InsertTxn remembers a client transaction in the event's transaction.
func (d *DB) InsertTxn(ctx context.Context, tx *storage.Tx, userID, deviceID, roomID, txnID, eventID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO roomserver_txns (user_id, device_id, room_id, txn_id, event_id) VALUES ($1, $2, $3, $4, $5)`,
		userID, deviceID, roomID, txnID, eventID)
	return err
}
