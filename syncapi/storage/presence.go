package storage

import (
	"context"
	"database/sql"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Presence is one user's presence.
type Presence struct {
	UserID          string
	Presence        string
	StatusMsg       *string
	LastActiveTS    int64
	CurrentlyActive bool
	Pos             types.StreamPosition
}

// UpsertPresence stores p at a new presence position.
func (d *DB) UpsertPresence(ctx context.Context, tx *storage.Tx, p Presence) (types.StreamPosition, error) {
	pos, err := d.NextPos(ctx, tx, CounterPresence)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO syncapi_presence (user_id, presence, status_msg, last_active_ts, currently_active, pos)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET presence = excluded.presence,
		status_msg = excluded.status_msg, last_active_ts = excluded.last_active_ts, currently_active = excluded.currently_active, pos = excluded.pos`,
		p.UserID, p.Presence, p.StatusMsg, p.LastActiveTS, p.CurrentlyActive, int64(pos))
	return pos, err
}

// GetPresence returns a user's presence, or nil.
func (d *DB) GetPresence(ctx context.Context, userID string) (*Presence, error) {
	p := Presence{UserID: userID}
	var msg sql.NullString
	err := d.DB.QueryRowContext(ctx, `SELECT presence, status_msg, last_active_ts, currently_active, pos FROM syncapi_presence WHERE user_id = $1`, userID).
		Scan(&p.Presence, &msg, &p.LastActiveTS, &p.CurrentlyActive, &p.Pos)
	if err != nil {
		return nil, ignoreNoRows(err)
	}
	if msg.Valid {
		p.StatusMsg = &msg.String
	}
	return &p, nil
}

// PresenceBetween returns presence of users changed in (from, to].
func (d *DB) PresenceBetween(ctx context.Context, from, to types.StreamPosition, limit int) ([]Presence, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT user_id, presence, status_msg, last_active_ts, currently_active, pos FROM syncapi_presence
		WHERE pos > $1 AND pos <= $2 ORDER BY pos LIMIT $3`, int64(from), int64(to), limit)
	return scanPresence(rows, err)
}

// PresenceOf returns the stored presence (at or before position to) of
// those of userIDs that have one.
func (d *DB) PresenceOf(ctx context.Context, userIDs []string, to types.StreamPosition) ([]Presence, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	args := []any{int64(to)}
	for _, u := range userIDs {
		args = append(args, u)
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT user_id, presence, status_msg, last_active_ts, currently_active, pos FROM syncapi_presence
		WHERE pos <= $1 AND user_id IN (`+storage.InList(2, len(userIDs))+`) ORDER BY pos`, args...)
	return scanPresence(rows, err)
}

func scanPresence(rows *sql.Rows, err error) ([]Presence, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Presence
	for rows.Next() {
		var p Presence
		var msg sql.NullString
		if err := rows.Scan(&p.UserID, &p.Presence, &msg, &p.LastActiveTS, &p.CurrentlyActive, &p.Pos); err != nil {
			return nil, err
		}
		if msg.Valid {
			p.StatusMsg = &msg.String
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PresenceNotOffline returns every user whose stored presence is not offline.
func (d *DB) PresenceNotOffline(ctx context.Context) ([]Presence, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT user_id, presence, last_active_ts FROM syncapi_presence WHERE presence <> 'offline'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Presence
	for rows.Next() {
		var p Presence
		if err := rows.Scan(&p.UserID, &p.Presence, &p.LastActiveTS); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
