// Package storage is the reports' SQL storage, one implementation for
// SQLite and PostgreSQL, tested on both.
package storage

import (
	"context"
	"database/sql"

	"github.com/axon-hs/axon/internal/storage"
)

// DB holds the reports tables.
type DB struct{ *storage.DB }

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB { return &DB{DB: db} }

// Report is one user's report.
type Report struct {
	ID       int64
	Reporter string
	RoomID   string
	EventID  string
	UserID   string
	Reason   string
	Score    *int
	TS       int64
}

// AddReport stores r.
func (d *DB) AddReport(ctx context.Context, r Report) error {
	var score sql.NullInt64
	if r.Score != nil {
		score = sql.NullInt64{Int64: int64(*r.Score), Valid: true}
	}
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO reports_reports (reporter, room_id, event_id, user_id, reason, score, ts)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.Reporter, r.RoomID, r.EventID, r.UserID, r.Reason, score, r.TS)
		return err
	})
}

// Reports lists reports newest first, with id < before (0: newest), at
// most limit: the admin API's read.
func (d *DB) Reports(ctx context.Context, before int64, limit int) ([]Report, error) {
	q := `SELECT id, reporter, room_id, event_id, user_id, reason, score, ts FROM reports_reports`
	args := []any{limit}
	if before > 0 {
		q += ` WHERE id < $2`
		args = append(args, before)
	}
	rows, err := d.DB.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var score sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Reporter, &r.RoomID, &r.EventID, &r.UserID, &r.Reason, &score, &r.TS); err != nil {
			return nil, err
		}
		if score.Valid {
			s := int(score.Int64)
			r.Score = &s
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
