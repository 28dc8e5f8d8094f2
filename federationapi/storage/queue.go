package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// QueuedItem is one PDU or EDU waiting for a destination to acknowledge it.
type QueuedItem struct {
	ID    int64
	IsEDU bool
	Body  json.RawMessage
	// TxnID is the transaction the item was put in ("" before AssignTxn).
	TxnID string
}

// Enqueue adds body for each destination inside tx (so it commits with the
// stream position that produced it).
func (s *DB) Enqueue(ctx context.Context, tx *istorage.Tx, destinations []string, isEDU bool, body []byte) error {
	for _, d := range destinations {
		if _, err := tx.ExecContext(ctx, `INSERT INTO federationapi_queue (destination, is_edu, body) VALUES ($1, $2, $3)`,
			d, isEDU, string(body)); err != nil {
			return err
		}
	}
	return nil
}

// NextBatch is what to send destination next: the transaction already
// assigned (AssignTxn) and not acknowledged, resent unchanged, if there
// is one; else, oldest first, at most maxPDUs PDUs and maxEDUs EDUs not
// yet in a transaction.
func (s *DB) NextBatch(ctx context.Context, destination string, maxPDUs, maxEDUs int) ([]QueuedItem, error) {
	var txnID string
	err := s.DB.QueryRowContext(ctx, `SELECT txn_id FROM federationapi_queue
		WHERE destination = $1 AND txn_id IS NOT NULL ORDER BY id LIMIT 1`, destination).Scan(&txnID)
	switch {
	case err == nil:
		return s.queued(ctx, `SELECT id, is_edu, body, txn_id FROM federationapi_queue
			WHERE destination = $1 AND txn_id = $2 ORDER BY id`, destination, txnID)
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	var out []QueuedItem
	for _, isEDU := range []bool{false, true} {
		limit := maxPDUs
		if isEDU {
			limit = maxEDUs
		}
		items, err := s.queued(ctx, `SELECT id, is_edu, body, '' FROM federationapi_queue
			WHERE destination = $1 AND txn_id IS NULL AND is_edu = $2 ORDER BY id LIMIT $3`, destination, isEDU, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

func (s *DB) queued(ctx context.Context, query string, args ...any) ([]QueuedItem, error) {
	rows, err := s.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueuedItem
	for rows.Next() {
		var it QueuedItem
		var body string
		if err := rows.Scan(&it.ID, &it.IsEDU, &body, &it.TxnID); err != nil {
			return nil, err
		}
		it.Body = json.RawMessage(body)
		out = append(out, it)
	}
	return out, rows.Err()
}

// errQueueChanged: items to be put in a transaction were dropped or
// assigned meanwhile.
var errQueueChanged = errors.New("federation queue changed while a transaction was built")

// AssignTxn puts the items ids of destination, not yet in a transaction,
// in transaction txnID inside tx (before it is first sent, so whoever
// sends to destination next resends the same transaction).
func (s *DB) AssignTxn(ctx context.Context, tx *istorage.Tx, destination, txnID string, ids []int64) error {
	args := []any{txnID, destination}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := tx.ExecContext(ctx, `UPDATE federationapi_queue SET txn_id = $1
		WHERE destination = $2 AND txn_id IS NULL AND id IN (`+istorage.InList(3, len(ids))+`)`, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(ids)) {
		return errors.Join(errQueueChanged, err)
	}
	return nil
}

// Ack deletes the items of a transaction destination acknowledged.
func (s *DB) Ack(ctx context.Context, destination, txnID string) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM federationapi_queue WHERE destination = $1 AND txn_id = $2`, destination, txnID)
	return err
}

// DropQueue forgets everything queued for destination (blacklisted).
func (s *DB) DropQueue(ctx context.Context, destination string) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM federationapi_queue WHERE destination = $1`, destination)
	return err
}

// PendingDestinations lists destinations with something queued, so a
// restart can resume sending.
func (s *DB) PendingDestinations(ctx context.Context) ([]string, error) {
	return istorage.Strings(s.DB.QueryContext(ctx, `SELECT DISTINCT destination FROM federationapi_queue`))
}
