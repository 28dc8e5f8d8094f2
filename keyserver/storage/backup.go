package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// ErrWrongVersion: a write named a backup version that is not the
// current one.
var ErrWrongVersion = errors.New("not the current backup version")

// BackupVersion is one key backup version with its key count.
type BackupVersion struct {
	Version   int64
	Algorithm string
	AuthData  json.RawMessage
	ETag      int64
	Count     int64
}

// BackupKey is one backed-up session.
type BackupKey struct {
	RoomID, SessionID string
	FirstMessageIndex int64
	ForwardedCount    int64
	IsVerified        bool
	SessionData       json.RawMessage
}

// better reports whether k should replace old (spec "Server-side key
// backups": verified wins, then the lower first message index, then
// the lower forwarded count).
func (k *BackupKey) better(old *BackupKey) bool {
	if k.IsVerified != old.IsVerified {
		return k.IsVerified
	}
	if k.FirstMessageIndex != old.FirstMessageIndex {
		return k.FirstMessageIndex < old.FirstMessageIndex
	}
	return k.ForwardedCount < old.ForwardedCount
}

// CreateBackupVersion adds a version numbered after every earlier one,
// deleted ones included, and makes it current.
func (d *DB) CreateBackupVersion(ctx context.Context, userID, algorithm string, authData json.RawMessage) (int64, error) {
	var v int64
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO keyserver_backup_version_counters (user_id, last) VALUES ($1, 1)
			ON CONFLICT (user_id) DO UPDATE SET last = keyserver_backup_version_counters.last + 1 RETURNING last`,
			userID).Scan(&v); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO keyserver_backup_versions (user_id, version, algorithm, auth_data) VALUES ($1, $2, $3, $4)`,
			userID, v, algorithm, string(authData))
		return err
	})
	return v, err
}

// currentVersion is the newest undeleted version, or 0.
func (d *DB) currentVersion(ctx context.Context, q storage.Querier, userID string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM keyserver_backup_versions WHERE user_id = $1 AND deleted = FALSE`,
		userID).Scan(&v)
	return v, err
}

// BackupVersion returns version (the current one when 0), or storage.ErrNotFound.
func (d *DB) BackupVersion(ctx context.Context, userID string, version int64) (*BackupVersion, error) {
	if version == 0 {
		var err error
		if version, err = d.currentVersion(ctx, d.DB, userID); err != nil {
			return nil, err
		}
	}
	b := &BackupVersion{Version: version}
	var auth string
	err := d.DB.QueryRowContext(ctx, `SELECT algorithm, auth_data, etag FROM keyserver_backup_versions
		WHERE user_id = $1 AND version = $2 AND deleted = FALSE`, userID, version).Scan(&b.Algorithm, &auth, &b.ETag)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	b.AuthData = json.RawMessage(auth)
	if err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM keyserver_backup_keys WHERE user_id = $1 AND version = $2`,
		userID, version).Scan(&b.Count); err != nil {
		return nil, err
	}
	return b, nil
}

// UpdateBackupAuthData replaces a version's auth_data; storage.ErrNotFound.
func (d *DB) UpdateBackupAuthData(ctx context.Context, userID string, version int64, authData json.RawMessage) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE keyserver_backup_versions SET auth_data = $3
			WHERE user_id = $1 AND version = $2 AND deleted = FALSE`, userID, version, string(authData))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

// DeleteBackupVersion deletes a version and its keys; storage.ErrNotFound.
func (d *DB) DeleteBackupVersion(ctx context.Context, userID string, version int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE keyserver_backup_versions SET deleted = TRUE
			WHERE user_id = $1 AND version = $2 AND deleted = FALSE`, userID, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM keyserver_backup_keys WHERE user_id = $1 AND version = $2`, userID, version)
		return err
	})
}

// PutBackupKeys stores keys into version, which must be the current one
// (storage.ErrNotFound if it does not exist, ErrWrongVersion if it is not
// current), and returns the version's count and etag afterwards.
func (d *DB) PutBackupKeys(ctx context.Context, userID string, version int64, keys []BackupKey) (count, etag int64, err error) {
	err = d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		cur, err := d.currentVersion(ctx, tx, userID)
		if err != nil {
			return err
		}
		if cur != version {
			if err := d.versionExists(ctx, tx, userID, version); err != nil {
				return err
			}
			return ErrWrongVersion
		}
		changed := false
		for i := range keys {
			k := &keys[i]
			old, err := d.backupKey(ctx, tx, userID, version, k.RoomID, k.SessionID)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if old != nil && !k.better(old) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO keyserver_backup_keys (user_id, version, room_id, session_id,
				first_message_index, forwarded_count, is_verified, session_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET first_message_index = excluded.first_message_index,
				forwarded_count = excluded.forwarded_count, is_verified = excluded.is_verified, session_data = excluded.session_data`,
				userID, version, k.RoomID, k.SessionID, k.FirstMessageIndex, k.ForwardedCount, k.IsVerified, string(k.SessionData)); err != nil {
				return err
			}
			changed = true
		}
		if changed {
			if err := d.bumpETag(ctx, tx, userID, version); err != nil {
				return err
			}
		}
		count, etag, err = d.countAndETag(ctx, tx, userID, version)
		return err
	})
	return count, etag, err
}

// BackupKeys reads the keys of version (any room when roomID is "", any
// session when sessionID is ""). storage.ErrNotFound if the version does not exist.
func (d *DB) BackupKeys(ctx context.Context, userID string, version int64, roomID, sessionID string) ([]BackupKey, error) {
	if err := d.versionExists(ctx, d.DB, userID, version); err != nil {
		return nil, err
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data
		FROM keyserver_backup_keys WHERE user_id = $1 AND version = $2 AND ($3 = '' OR room_id = $3) AND ($4 = '' OR session_id = $4)`,
		userID, version, roomID, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BackupKey
	for rows.Next() {
		var k BackupKey
		var data string
		if err := rows.Scan(&k.RoomID, &k.SessionID, &k.FirstMessageIndex, &k.ForwardedCount, &k.IsVerified, &data); err != nil {
			return nil, err
		}
		k.SessionData = json.RawMessage(data)
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteBackupKeys deletes keys of version (filtered like BackupKeys)
// and returns its count and etag afterwards.
func (d *DB) DeleteBackupKeys(ctx context.Context, userID string, version int64, roomID, sessionID string) (count, etag int64, err error) {
	err = d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if err := d.versionExists(ctx, tx, userID, version); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM keyserver_backup_keys WHERE user_id = $1 AND version = $2
			AND ($3 = '' OR room_id = $3) AND ($4 = '' OR session_id = $4)`, userID, version, roomID, sessionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := d.bumpETag(ctx, tx, userID, version); err != nil {
				return err
			}
		}
		count, etag, err = d.countAndETag(ctx, tx, userID, version)
		return err
	})
	return count, etag, err
}

func (d *DB) versionExists(ctx context.Context, q storage.Querier, userID string, version int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM keyserver_backup_versions WHERE user_id = $1 AND version = $2 AND deleted = FALSE`,
		userID, version).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}

func (d *DB) backupKey(ctx context.Context, q storage.Querier, userID string, version int64, roomID, sessionID string) (*BackupKey, error) {
	k := &BackupKey{RoomID: roomID, SessionID: sessionID}
	var data string
	err := q.QueryRowContext(ctx, `SELECT first_message_index, forwarded_count, is_verified, session_data FROM keyserver_backup_keys
		WHERE user_id = $1 AND version = $2 AND room_id = $3 AND session_id = $4`, userID, version, roomID, sessionID).
		Scan(&k.FirstMessageIndex, &k.ForwardedCount, &k.IsVerified, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	k.SessionData = json.RawMessage(data)
	return k, err
}

func (d *DB) bumpETag(ctx context.Context, tx *storage.Tx, userID string, version int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE keyserver_backup_versions SET etag = etag + 1 WHERE user_id = $1 AND version = $2`, userID, version)
	return err
}

func (d *DB) countAndETag(ctx context.Context, q storage.Querier, userID string, version int64) (count, etag int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM keyserver_backup_keys WHERE user_id = $1 AND version = $2),
		etag FROM keyserver_backup_versions WHERE user_id = $1 AND version = $2`, userID, version).Scan(&count, &etag)
	return count, etag, err
}
