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

// ClaimTxn records a client transaction in the transaction storing its
// event, unless it was recorded before: then it returns the event ID
// sent first (and the caller must not store its own). One statement in
// the common case: no read of the table before the write.
func (d *DB) ClaimTxn(ctx context.Context, tx *storage.Tx, userID, deviceID, roomID, txnID, eventID string) (string, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO roomserver_txns (user_id, device_id, room_id, txn_id, event_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (txn_id, user_id, device_id, room_id) DO NOTHING`,
		userID, deviceID, roomID, txnID, eventID)
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return "", err
	}
	first, err := d.TxnEvent(ctx, tx, userID, deviceID, roomID, txnID)
	if err == nil && first == "" {
		err = errors.New("client transaction conflicts but is not stored")
	}
	return first, err
}
