package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// OutboxEntry is an output waiting for the log to acknowledge it.
type OutboxEntry struct {
	ID     int64
	RoomID string
	JSON   []byte
}

// InsertOutbox stores outputs (in order) within the event's transaction.
func (d *DB) InsertOutbox(ctx context.Context, tx *storage.Tx, roomID string, outputs [][]byte) ([]int64, error) {
	ids := make([]int64, 0, len(outputs))
	for _, o := range outputs {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO roomserver_outbox (room_id, output_json) VALUES ($1, $2) RETURNING outbox_id`, roomID, string(o)).Scan(&id)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// DeleteOutbox removes acknowledged outputs.
func (d *DB) DeleteOutbox(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return d.WriteTx(ctx, func(tx *storage.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM roomserver_outbox WHERE outbox_id = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// PendingOutbox lists unacknowledged outputs, oldest first.
func (d *DB) PendingOutbox(ctx context.Context) ([]OutboxEntry, error) {
	rows, err := d.QueryContext(ctx, `SELECT outbox_id, room_id, output_json FROM roomserver_outbox ORDER BY outbox_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var js string
		if err := rows.Scan(&e.ID, &e.RoomID, &js); err != nil {
			return nil, err
		}
		e.JSON = []byte(js)
		out = append(out, e)
	}
	return out, rows.Err()
}
