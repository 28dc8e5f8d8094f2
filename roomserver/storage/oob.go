package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// MembershipRow is a user's recorded membership of a room and its event
// ("" and 0 when none). Unlike current state it also covers memberships
// of rooms the server is not in (invites from other servers).
func (d *DB) MembershipRow(ctx context.Context, q storage.Querier, roomNID int64, userID string) (string, int64, error) {
	var m string
	var nid int64
	err := q.QueryRowContext(ctx, `SELECT membership, event_nid FROM roomserver_memberships WHERE room_nid = $1 AND user_id = $2`,
		roomNID, userID).Scan(&m, &nid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return m, nid, err
}
