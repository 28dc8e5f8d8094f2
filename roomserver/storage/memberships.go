package storage

import (
	"context"
	"slices"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
)

// UpsertMembership records a user's current membership of a room; a new
// membership un-forgets the room.
func (d *DB) UpsertMembership(ctx context.Context, tx *storage.Tx, roomNID int64, userID, membership string, eventNID int64) error {
	return d.UpsertMemberships(ctx, tx, roomNID, []Membership{{UserID: userID, Membership: membership, EventNID: eventNID}})
}

// Membership is one user's membership row of a room.
type Membership struct {
	UserID, Membership string
	EventNID           int64
}

// UpsertMemberships is UpsertMembership for many users of one room (a
// joined room's members), in multi-row statements. Each user at most once.
func (d *DB) UpsertMemberships(ctx context.Context, tx *storage.Tx, roomNID int64, ms []Membership) error {
	const perStmt = 200
	// In key order, as InsertSnapshot writes its rows.
	ms = slices.SortedStableFunc(slices.Values(ms), func(a, b Membership) int { return strings.Compare(a.UserID, b.UserID) })
	for len(ms) > 0 {
		chunk := ms[:min(len(ms), perStmt)]
		ms = ms[len(chunk):]
		args := make([]any, 0, len(chunk)*4)
		for _, m := range chunk {
			args = append(args, roomNID, m.UserID, m.Membership, m.EventNID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO roomserver_memberships (room_nid, user_id, membership, event_nid)
			VALUES `+storage.Rows(4, len(chunk))+`
			ON CONFLICT (room_nid, user_id) DO UPDATE SET membership = excluded.membership, event_nid = excluded.event_nid, forgotten = FALSE`, args...)
		if err != nil {
			return err
		}
	}
	return nil
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
