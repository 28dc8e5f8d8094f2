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

// TxnClaim is the client transaction a local event is sent in.
type TxnClaim struct{ UserID, DeviceID, RoomID, TxnID string }

// InsertClaimedEvent stores e and claims c for it, unless c was claimed
// before: then nothing is stored and first is the event ID sent first.
// On PostgreSQL one statement (a send's first: it goes with the BEGIN),
// not two round trips; on SQLite ClaimTxn then InsertEvent.
func (d *DB) InsertClaimedEvent(ctx context.Context, tx *storage.Tx, c TxnClaim, e *Event) (nid int64, first string, err error) {
	if tx.Dialect() != storage.Postgres {
		if first, err = d.ClaimTxn(ctx, tx, c.UserID, c.DeviceID, c.RoomID, c.TxnID, e.EventID); err != nil || first != "" {
			return 0, first, err
		}
		nid, err = d.InsertEvent(ctx, tx, e)
		return nid, "", err
	}
	var ok bool
	err = tx.QueryRowScan(ctx, insertClaimedEvent, []any{e.RoomNID, e.EventID, e.Type, e.StateKey, e.Depth, e.OriginServerTS,
		e.SnapshotNID, e.Status, storage.Text(e.JSON), c.UserID, c.DeviceID, c.RoomID, c.TxnID}, &nid, &first, &ok)
	if err != nil || ok {
		return nid, "", err
	}
	if first == "" {
		// Claimed by a transaction that committed after this statement's
		// snapshot was taken (it waited for that one): read again.
		if first, err = d.TxnEvent(ctx, tx, c.UserID, c.DeviceID, c.RoomID, c.TxnID); err == nil && first == "" {
			err = errors.New("client transaction conflicts but is not stored")
		}
	}
	return 0, first, err
}

// insertClaimedEvent claims the transaction ($10–$13) and stores the
// event ($1–$9) only if the claim took a row. The main query's snapshot
// is the statement's: it sees a claim made before, never this one's. It
// answers the new event's NID, the event ID a claim made before names
// (or ”), and whether this claim took the row.
const insertClaimedEvent = `WITH claim AS (
		INSERT INTO roomserver_txns (user_id, device_id, room_id, txn_id, event_id) VALUES ($10, $11, $12, $13, $2)
		ON CONFLICT (txn_id, user_id, device_id, room_id) DO NOTHING RETURNING 1
	), ev AS (
		INSERT INTO roomserver_events (room_nid, event_id, event_type, state_key, depth, origin_server_ts, snapshot_nid, status, event_json)
		SELECT $1::bigint, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, $7::bigint, $8::integer, $9::text FROM claim
		RETURNING event_nid
	)
	SELECT COALESCE((SELECT event_nid FROM ev), 0),
		COALESCE((SELECT event_id FROM roomserver_txns
			WHERE txn_id = $13 AND user_id = $10 AND device_id = $11 AND room_id = $12 AND NOT EXISTS (SELECT 1 FROM claim)), ''),
		EXISTS (SELECT 1 FROM claim)`
