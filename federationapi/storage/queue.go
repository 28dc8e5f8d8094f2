package storage

import (
	"context"
	"encoding/json"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// QueuedItem is one PDU or EDU waiting for a destination to acknowledge it.
type QueuedItem struct {
	ID    int64
	IsEDU bool
	Body  json.RawMessage
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

// NextBatch returns, oldest first, at most maxPDUs PDUs and maxEDUs EDUs
// queued for destination.
func (s *DB) NextBatch(ctx context.Context, destination string, maxPDUs, maxEDUs int) ([]QueuedItem, error) {
	var out []QueuedItem
	for _, isEDU := range []bool{false, true} {
		limit := maxPDUs
		if isEDU {
			limit = maxEDUs
		}
		rows, err := s.DB.QueryContext(ctx, `SELECT id, body FROM federationapi_queue
			WHERE destination = $1 AND is_edu = $2 ORDER BY id LIMIT $3`, destination, isEDU, limit)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			it := QueuedItem{IsEDU: isEDU}
			var body string
			if err := rows.Scan(&it.ID, &body); err != nil {
				rows.Close()
				return nil, err
			}
			it.Body = json.RawMessage(body)
			out = append(out, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Ack deletes items a destination acknowledged.
func (s *DB) Ack(ctx context.Context, ids []int64) error {
	return s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM federationapi_queue WHERE id = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
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
