package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// SetShadowBanned sets or clears the account's shadow ban.
func (d *DB) SetShadowBanned(ctx context.Context, localpart string, banned bool) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE userapi_accounts SET shadow_banned = $2 WHERE localpart = $1`, localpart, banned)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

// RateLimitOverride is a user's own message rate (0, 0: unlimited).
type RateLimitOverride struct {
	MessagesPerSecond int64
	BurstCount        int64
}

// RateLimitOverride returns the user's override, or nil.
func (d *DB) RateLimitOverride(ctx context.Context, localpart string) (*RateLimitOverride, error) {
	var o RateLimitOverride
	err := d.DB.QueryRowContext(ctx, `SELECT messages_per_second, burst_count FROM userapi_ratelimit_overrides WHERE localpart = $1`, localpart).
		Scan(&o.MessagesPerSecond, &o.BurstCount)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// SetRateLimitOverride stores (o non-nil) or deletes the user's override.
func (d *DB) SetRateLimitOverride(ctx context.Context, localpart string, o *RateLimitOverride) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if o == nil {
			_, err := tx.ExecContext(ctx, `DELETE FROM userapi_ratelimit_overrides WHERE localpart = $1`, localpart)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO userapi_ratelimit_overrides (localpart, messages_per_second, burst_count) VALUES ($1, $2, $3)
			ON CONFLICT (localpart) DO UPDATE SET messages_per_second = excluded.messages_per_second, burst_count = excluded.burst_count`,
			localpart, o.MessagesPerSecond, o.BurstCount)
		return err
	})
}

// DeleteRoomAccountData deletes every user's account data of a room (a
// purged room).
func (d *DB) DeleteRoomAccountData(ctx context.Context, roomID string) error {
	if roomID == "" {
		return errors.New("no room ID")
	}
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM userapi_account_data WHERE room_id = $1`, roomID)
		return err
	})
}

// RoomRowCounts counts the userapi rows of a room, for checking a purge
// (tests).
func (d *DB) RoomRowCounts(ctx context.Context, roomID string) (map[string]int, error) {
	var n int
	err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM userapi_account_data WHERE room_id = $1`, roomID).Scan(&n)
	return map[string]int{"userapi_account_data": n}, err
}
