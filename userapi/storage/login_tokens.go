package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// InsertLoginToken stores a hashed login token for localpart, valid until
// expiresTS (ms), and drops tokens that expired before now.
func (d *DB) InsertLoginToken(ctx context.Context, hash, localpart string, expiresTS, now int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM userapi_login_tokens WHERE expires_ts <= $1`, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO userapi_login_tokens (token_hash, localpart, expires_ts) VALUES ($1, $2, $3)`,
			hash, localpart, expiresTS)
		return err
	})
}

// TakeLoginToken spends a hashed login token: it is deleted whether or not
// it is still valid, and its localpart returned only if it had not
// expired at now. storage.ErrNotFound if unknown, spent or expired. One
// DELETE ... RETURNING, so two concurrent logins cannot both spend it.
func (d *DB) TakeLoginToken(ctx context.Context, hash string, now int64) (string, error) {
	var localpart string
	var expiresTS int64
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM userapi_login_tokens WHERE token_hash = $1 RETURNING localpart, expires_ts`, hash).
			Scan(&localpart, &expiresTS)
	})
	if err != nil {
		return "", storage.NotFound(err)
	}
	if expiresTS <= now {
		return "", storage.ErrNotFound
	}
	return localpart, nil
}
