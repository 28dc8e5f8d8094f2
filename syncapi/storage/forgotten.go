package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// SetForgotten records that userID forgot roomID when its membership
// there was the event eventID. The room stays forgotten while that is the
// user's latest membership; a new membership brings it back.
func (d *DB) SetForgotten(ctx context.Context, tx *storage.Tx, userID, roomID, eventID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_forgotten (user_id, room_id, event_id) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, room_id) DO UPDATE SET event_id = excluded.event_id`, userID, roomID, eventID)
	return err
}

// ForgottenRooms maps each room userID forgot to the membership event it
// forgot (compare with the latest membership's event ID).
func (d *DB) ForgottenRooms(ctx context.Context, userID string) (map[string]string, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, event_id FROM syncapi_forgotten WHERE user_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var room, ev string
		if err := rows.Scan(&room, &ev); err != nil {
			return nil, err
		}
		out[room] = ev
	}
	return out, rows.Err()
}

// ForgottenEvent is the membership event userID forgot in roomID, or "".
func (d *DB) ForgottenEvent(ctx context.Context, userID, roomID string) (string, error) {
	var ev string
	err := d.DB.QueryRowContext(ctx, `SELECT event_id FROM syncapi_forgotten WHERE user_id = $1 AND room_id = $2`, userID, roomID).Scan(&ev)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return ev, err
}
