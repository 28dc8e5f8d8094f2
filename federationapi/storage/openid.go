package storage

import (
	"context"
	"database/sql"
	"errors"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// StoreOpenIDToken records an OpenID token (by its hash) issued to
// userID until expiresTS (ms), and forgets tokens expired by now.
func (s *DB) StoreOpenIDToken(ctx context.Context, tokenHash, userID string, expiresTS, now int64) error {
	return s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM federationapi_openid_tokens WHERE expires_ts < $1`, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO federationapi_openid_tokens (token_hash, user_id, expires_ts) VALUES ($1, $2, $3)`,
			tokenHash, userID, expiresTS)
		return err
	})
}

// OpenIDTokenUser is the user an unexpired token (by its hash) was
// issued to; "" when unknown or expired.
func (s *DB) OpenIDTokenUser(ctx context.Context, tokenHash string, now int64) (string, error) {
	var userID string
	err := s.DB.QueryRowContext(ctx, `SELECT user_id FROM federationapi_openid_tokens WHERE token_hash = $1 AND expires_ts >= $2`,
		tokenHash, now).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return userID, err
}
