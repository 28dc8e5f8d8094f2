package storage

import (
	"context"
	"database/sql"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// InboundTxn is an inbound /send transaction as remembered.
type InboundTxn struct {
	TxnID string
	// Response is the answer given (nil while being processed).
	Response   []byte
	ReceivedTS int64
}

// ClaimInboundTxn claims origin's transaction txnID for processing at
// now (ms). If it is already remembered it returns the stored answer
// instead, or nil while another process is still on it; a claim older
// than staleBefore without an answer (its process died) is taken over.
func (s *DB) ClaimInboundTxn(ctx context.Context, origin, txnID string, now, staleBefore int64) (response []byte, claimed bool, err error) {
	err = s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		response, claimed = nil, false // run again after a lost connection: nothing of the first run holds
		res, err := tx.ExecContext(ctx, `INSERT INTO federationapi_inbound_txns (origin, txn_id, response, received_ts)
			VALUES ($1, $2, NULL, $3)
			ON CONFLICT (origin, txn_id) DO UPDATE SET received_ts = excluded.received_ts
			WHERE federationapi_inbound_txns.response IS NULL AND federationapi_inbound_txns.received_ts < $4`,
			origin, txnID, now, staleBefore)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			claimed = true
			return err
		}
		var r sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT response FROM federationapi_inbound_txns WHERE origin = $1 AND txn_id = $2`,
			origin, txnID).Scan(&r); err != nil {
			return err
		}
		if r.Valid {
			response = []byte(r.String)
		}
		return nil
	})
	return response, claimed, err
}

// AnswerInboundTxn records the answer to a claimed transaction.
func (s *DB) AnswerInboundTxn(ctx context.Context, origin, txnID string, response []byte) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE federationapi_inbound_txns SET response = $1 WHERE origin = $2 AND txn_id = $3`,
		string(response), origin, txnID)
	return err
}

// ForgetInboundTxns drops transactions received before before (ms).
func (s *DB) ForgetInboundTxns(ctx context.Context, before int64) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM federationapi_inbound_txns WHERE received_ts < $1`, before)
	return err
}

// InboundTxns lists origin's remembered transactions, oldest first.
func (s *DB) InboundTxns(ctx context.Context, origin string) ([]InboundTxn, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT txn_id, response, received_ts FROM federationapi_inbound_txns
		WHERE origin = $1 ORDER BY received_ts, txn_id`, origin)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []InboundTxn
	for rows.Next() {
		var t InboundTxn
		var r sql.NullString
		if err := rows.Scan(&t.TxnID, &r, &t.ReceivedTS); err != nil {
			return nil, err
		}
		if r.Valid {
			t.Response = []byte(r.String)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
