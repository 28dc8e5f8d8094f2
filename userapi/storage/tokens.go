package storage

import (
	"context"
	"database/sql"

	"github.com/axon-hs/axon/internal/storage"
)

// NewSession is a login: the device to create or reuse and the hashed
// tokens to issue for it.
type NewSession struct {
	Localpart   string
	DeviceID    string
	DisplayName string // for a new device only
	IP          string
	UserAgent   string
	AccessHash  string
	ExpiresTS   int64  // 0: the access token never expires
	RefreshHash string // "": no refresh token
	Now         int64
}

// CreateSession creates the device (or, if it exists, revokes its earlier
// tokens) and stores the new tokens, in one transaction.
func (d *DB) CreateSession(ctx context.Context, s NewSession) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO userapi_devices
			(localpart, device_id, display_name, created_ts, last_seen_ts, last_seen_ip, last_seen_user_agent)
			VALUES ($1, $2, $3, $4, $4, $5, $6)
			ON CONFLICT (localpart, device_id) DO UPDATE SET
				last_seen_ts = excluded.last_seen_ts, last_seen_ip = excluded.last_seen_ip,
				last_seen_user_agent = excluded.last_seen_user_agent`,
			s.Localpart, s.DeviceID, s.DisplayName, s.Now, s.IP, s.UserAgent); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM userapi_access_tokens WHERE localpart = $1 AND device_id = $2`,
			`DELETE FROM userapi_refresh_tokens WHERE localpart = $1 AND device_id = $2`,
		} {
			if _, err := tx.ExecContext(ctx, q, s.Localpart, s.DeviceID); err != nil {
				return err
			}
		}
		return d.insertTokens(ctx, tx, s.Localpart, s.DeviceID, s.AccessHash, s.ExpiresTS, s.RefreshHash, 0, s.Now)
	})
}

// insertTokens stores an access token and, if refreshHash is set, the
// refresh token issued with it.
func (d *DB) insertTokens(ctx context.Context, tx *storage.Tx, localpart, deviceID, accessHash string, expiresTS int64, refreshHash string, prevRefreshID, now int64) error {
	var refreshID int64
	if refreshHash != "" {
		if err := tx.QueryRowContext(ctx, `INSERT INTO userapi_refresh_tokens
			(token_hash, localpart, device_id, created_ts, prev_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			refreshHash, localpart, deviceID, now, prevRefreshID).Scan(&refreshID); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO userapi_access_tokens
		(token_hash, localpart, device_id, created_ts, expires_ts, refresh_token_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		accessHash, localpart, deviceID, now, expiresTS, refreshID)
	return err
}

// TokenInfo is what an access token resolves to.
type TokenInfo struct {
	Localpart   string
	DeviceID    string
	DisplayName string
	ExpiresTS   int64
	IsAdmin     bool
	IsGuest     bool
	// ShadowBanned, and the user's message rate override (HasRateLimit).
	ShadowBanned      bool
	HasRateLimit      bool
	MessagesPerSecond int64
	BurstCount        int64
	// RefreshID is the refresh token issued with this access token, and
	// PrevRefreshID the one that refresh token replaced (0: none/spent).
	RefreshID     int64
	PrevRefreshID int64
}

// LookupAccessToken resolves a hashed access token, or storage.ErrNotFound.
func (d *DB) LookupAccessToken(ctx context.Context, hash string) (*TokenInfo, error) {
	var t TokenInfo
	var mps, burst sql.NullInt64
	err := d.DB.QueryRowContext(ctx, `SELECT t.localpart, t.device_id, COALESCE(dev.display_name, ''), t.expires_ts,
			a.is_admin, a.is_guest, t.refresh_token_id, COALESCE(r.prev_id, 0), a.shadow_banned, o.messages_per_second, o.burst_count
		FROM userapi_access_tokens t
		JOIN userapi_accounts a ON a.localpart = t.localpart
		LEFT JOIN userapi_devices dev ON dev.localpart = t.localpart AND dev.device_id = t.device_id
		LEFT JOIN userapi_refresh_tokens r ON r.id = t.refresh_token_id
		LEFT JOIN userapi_ratelimit_overrides o ON o.localpart = t.localpart
		WHERE t.token_hash = $1 AND NOT a.deactivated`, hash).
		Scan(&t.Localpart, &t.DeviceID, &t.DisplayName, &t.ExpiresTS, &t.IsAdmin, &t.IsGuest, &t.RefreshID, &t.PrevRefreshID,
			&t.ShadowBanned, &mps, &burst)
	if err != nil {
		return nil, storage.NotFound(err)
	}
	t.HasRateLimit, t.MessagesPerSecond, t.BurstCount = mps.Valid, mps.Int64, burst.Int64
	return &t, nil
}

// RevokePrevRefresh revokes the refresh token that refreshID replaced:
// the spec keeps it valid only until the new tokens are first used.
func (d *DB) RevokePrevRefresh(ctx context.Context, refreshID int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		var prev int64
		err := tx.QueryRowContext(ctx, `SELECT prev_id FROM userapi_refresh_tokens WHERE id = $1`, refreshID).Scan(&prev)
		if err != nil || prev == 0 {
			return notFoundOK(err)
		}
		if err := d.revokeRefresh(ctx, tx, prev); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE userapi_refresh_tokens SET prev_id = 0 WHERE id = $1`, refreshID)
		return err
	})
}

// revokeRefresh deletes a refresh token and the access token issued with it.
func (d *DB) revokeRefresh(ctx context.Context, tx *storage.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM userapi_access_tokens WHERE refresh_token_id = $1`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM userapi_refresh_tokens WHERE id = $1`, id)
	return err
}

// Refresh spends the refresh token oldHash: it issues new tokens for its
// device and revokes the access token issued with it. The old refresh
// token itself stays valid until the new tokens are used (if the client
// never received them, it may refresh again: the unused ones are then
// revoked). Returns the device's owner, or storage.ErrNotFound.
func (d *DB) Refresh(ctx context.Context, oldHash, accessHash string, expiresTS int64, refreshHash string, now int64) (localpart, deviceID string, err error) {
	err = d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		var id, prev int64
		err := tx.QueryRowContext(ctx, `SELECT id, localpart, device_id, prev_id FROM userapi_refresh_tokens WHERE token_hash = $1`, oldHash).
			Scan(&id, &localpart, &deviceID, &prev)
		if err != nil {
			return storage.NotFound(err)
		}
		if prev != 0 { // this token is now in use: its predecessor goes
			if err := d.revokeRefresh(ctx, tx, prev); err != nil {
				return err
			}
		}
		// Successors issued earlier from this token were never used.
		rows, err := tx.QueryContext(ctx, `SELECT id FROM userapi_refresh_tokens WHERE prev_id = $1`, id)
		if err != nil {
			return err
		}
		var unused []int64
		for rows.Next() {
			var u int64
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			unused = append(unused, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, u := range unused {
			if err := d.revokeRefresh(ctx, tx, u); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM userapi_access_tokens WHERE refresh_token_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE userapi_refresh_tokens SET prev_id = 0 WHERE id = $1`, id); err != nil {
			return err
		}
		return d.insertTokens(ctx, tx, localpart, deviceID, accessHash, expiresTS, refreshHash, id, now)
	})
	return localpart, deviceID, err
}

func notFoundOK(err error) error {
	if storage.NotFound(err) == storage.ErrNotFound {
		return nil
	}
	return err
}
