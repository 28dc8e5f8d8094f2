package storage

import (
	"context"
	"database/sql"
	"errors"
)

// SlidingPosition is one handed-out sliding sync pos of a connection,
// stored for the other syncapi replicas: the stream token it stood for
// and what the client had been sent by then (rooms, JSON).
type SlidingPosition struct {
	Seq   int64
	Token string
	Rooms string
}

// SaveSlidingPosition stores pos for the connection and drops the
// connection's positions numbered keepAfter or lower.
func (d *DB) SaveSlidingPosition(ctx context.Context, connKey, pos string, p SlidingPosition, keepAfter, nowMS int64) error {
	_, err := d.DB.ExecContext(ctx, `INSERT INTO syncapi_sliding_positions (conn_key, pos, seq, token, rooms, created_ts)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conn_key, pos) DO NOTHING`, connKey, pos, p.Seq, p.Token, p.Rooms, nowMS)
	if err != nil {
		return err
	}
	_, err = d.DB.ExecContext(ctx, `DELETE FROM syncapi_sliding_positions WHERE conn_key = $1 AND seq <= $2`, connKey, keepAfter)
	return err
}

// SlidingPositionAt is the stored pos of the connection (ok false if
// unknown).
func (d *DB) SlidingPositionAt(ctx context.Context, connKey, pos string) (SlidingPosition, bool, error) {
	var p SlidingPosition
	err := d.DB.QueryRowContext(ctx, `SELECT seq, token, rooms FROM syncapi_sliding_positions WHERE conn_key = $1 AND pos = $2`,
		connKey, pos).Scan(&p.Seq, &p.Token, &p.Rooms)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, err
}

// ForgetSlidingConn drops every stored pos of the connection (the client
// started it again).
func (d *DB) ForgetSlidingConn(ctx context.Context, connKey string) error {
	_, err := d.DB.ExecContext(ctx, `DELETE FROM syncapi_sliding_positions WHERE conn_key = $1`, connKey)
	return err
}

// PruneSlidingPositions drops positions handed out before beforeMS
// (connections long unused), returning how many.
func (d *DB) PruneSlidingPositions(ctx context.Context, beforeMS int64) (int64, error) {
	res, err := d.DB.ExecContext(ctx, `DELETE FROM syncapi_sliding_positions WHERE created_ts < $1`, beforeMS)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
