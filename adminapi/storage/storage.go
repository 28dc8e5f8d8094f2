// Package storage is the adminapi's SQL storage, one implementation for
// SQLite and PostgreSQL, tested on both.
package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// DB holds the adminapi tables.
type DB struct{ *storage.DB }

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB { return &DB{DB: db} }

// NoticeRoom returns the user's server notices room or storage.ErrNotFound.
func (d *DB) NoticeRoom(ctx context.Context, userID string) (string, error) {
	var roomID string
	err := d.DB.QueryRowContext(ctx, `SELECT room_id FROM adminapi_server_notice_rooms WHERE user_id = $1`, userID).Scan(&roomID)
	return roomID, storage.NotFound(err)
}

// SetNoticeRoom records (or replaces) the user's server notices room.
func (d *DB) SetNoticeRoom(ctx context.Context, userID, roomID string) error {
	_, err := d.DB.ExecContext(ctx, `INSERT INTO adminapi_server_notice_rooms (user_id, room_id) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET room_id = excluded.room_id`, userID, roomID)
	return err
}
