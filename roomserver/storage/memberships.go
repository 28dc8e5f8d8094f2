package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// UpsertMembership records a user's current membership of a room; a new
// membership un-forgets the room.
func (d *DB) UpsertMembership(ctx context.Context, tx *storage.Tx, roomNID int64, userID, membership string, eventNID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO roomserver_memberships (room_nid, user_id, membership, event_nid, forgotten)
		VALUES ($1, $2, $3, $4, FALSE)
		ON CONFLICT (room_nid, user_id) DO UPDATE SET membership = $3, event_nid = $4, forgotten = FALSE`,
		roomNID, userID, membership, eventNID)
	return err
}

// RoomsForUser lists the rooms where userID's membership is membership.
func (d *DB) RoomsForUser(ctx context.Context, userID, membership string) ([]string, error) {
	return storage.Strings(d.QueryContext(ctx, `SELECT r.room_id FROM roomserver_memberships m JOIN roomserver_rooms r ON r.room_nid = m.room_nid
		WHERE m.user_id = $1 AND m.membership = $2 AND m.forgotten = FALSE ORDER BY r.room_nid`, userID, membership))
}

// Forget hides a room the user is no longer in.
func (d *DB) Forget(ctx context.Context, tx *storage.Tx, roomNID int64, userID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE roomserver_memberships SET forgotten = TRUE WHERE room_nid = $1 AND user_id = $2`, roomNID, userID)
	return err
}
