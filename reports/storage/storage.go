// Package storage is the reports' SQL storage, one implementation for
// SQLite and PostgreSQL, tested on both.
package storage

import (
	"context"
	"database/sql"
	"fmt"

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
	return scanReports(rows)
}

// EventReportFilter selects reports of events (event_id set).
type EventReportFilter struct {
	RoomID, Reporter string
	Forward          bool
	From, Limit      int
}

// EventReports pages through reports of events and counts the matches.
func (d *DB) EventReports(ctx context.Context, f EventReportFilter) ([]Report, int, error) {
	where := `event_id <> ''`
	args := []any{}
	if f.RoomID != "" {
		args = append(args, f.RoomID)
		where += fmt.Sprintf(` AND room_id = $%d`, len(args))
	}
	if f.Reporter != "" {
		args = append(args, f.Reporter)
		where += fmt.Sprintf(` AND reporter = $%d`, len(args))
	}
	var total int
	if err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM reports_reports WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := `DESC`
	if f.Forward {
		order = `ASC`
	}
	args = append(args, f.Limit, f.From)
	rows, err := d.DB.QueryContext(ctx, `SELECT id, reporter, room_id, event_id, user_id, reason, score, ts FROM reports_reports
		WHERE `+where+fmt.Sprintf(` ORDER BY id %s LIMIT $%d OFFSET $%d`, order, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanReports(rows)
	return out, total, err
}

// EventReport returns one report of an event, or storage.ErrNotFound.
func (d *DB) EventReport(ctx context.Context, id int64) (*Report, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT id, reporter, room_id, event_id, user_id, reason, score, ts FROM reports_reports
		WHERE id = $1 AND event_id <> ''`, id)
	if err != nil {
		return nil, err
	}
	out, err := scanReports(rows)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, storage.ErrNotFound
	}
	return &out[0], nil
}

// DeleteEventReport deletes one report of an event, or storage.ErrNotFound.
func (d *DB) DeleteEventReport(ctx context.Context, id int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM reports_reports WHERE id = $1 AND event_id <> ''`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

func scanReports(rows *sql.Rows) ([]Report, error) {
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
