package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// Account is a row of userapi_accounts.
type Account struct {
	Localpart    string
	PasswordHash string
	CreatedTS    int64
	IsAdmin      bool
	IsGuest      bool
	Deactivated  bool
	Erased       bool
	ShadowBanned bool
}

// CreateAccount inserts acc and, if displayName is not empty, its initial
// display name. ErrExists if the localpart is taken (even by a deactivated
// account).
func (d *DB) CreateAccount(ctx context.Context, acc Account, displayName string) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO userapi_accounts
			(localpart, password_hash, created_ts, is_admin, is_guest, deactivated)
			VALUES ($1, $2, $3, $4, $5, FALSE)`,
			acc.Localpart, acc.PasswordHash, acc.CreatedTS, acc.IsAdmin, acc.IsGuest)
		if storage.IsUniqueViolation(err) {
			return ErrExists
		}
		if err != nil {
			return err
		}
		if displayName == "" {
			return nil
		}
		return d.setProfileField(ctx, tx, acc.Localpart, "displayname", jsonString(displayName))
	})
}

// Account returns the account or storage.ErrNotFound.
func (d *DB) Account(ctx context.Context, localpart string) (*Account, error) {
	a := Account{Localpart: localpart}
	err := d.DB.QueryRowContext(ctx, `SELECT password_hash, created_ts, is_admin, is_guest, deactivated, erased, shadow_banned
		FROM userapi_accounts WHERE localpart = $1`, localpart).
		Scan(&a.PasswordHash, &a.CreatedTS, &a.IsAdmin, &a.IsGuest, &a.Deactivated, &a.Erased, &a.ShadowBanned)
	if err != nil {
		return nil, storage.NotFound(err)
	}
	return &a, nil
}

// SetPasswordHash replaces the password hash; if logoutOthers, it also
// deletes every device but keepDeviceID, in the same transaction.
func (d *DB) SetPasswordHash(ctx context.Context, localpart, hash string, logoutOthers bool, keepDeviceID string, onDeleted OnDeleted) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE userapi_accounts SET password_hash = $2 WHERE localpart = $1`, localpart, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		if !logoutOthers {
			return nil
		}
		return d.deleteDevicesExcept(ctx, tx, localpart, keepDeviceID, onDeleted)
	})
}

// Deactivate marks the account deactivated and removes its devices,
// tokens and profile. The row stays so the name cannot be taken again.
// A non-nil onErased also marks it erased and runs in the same
// transaction (to stage the erasure's stream message).
func (d *DB) Deactivate(ctx context.Context, localpart string, onDeleted OnDeleted, onErased func(tx *storage.Tx) error) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE userapi_accounts SET deactivated = TRUE, password_hash = '',
			erased = (erased OR $2) WHERE localpart = $1`, localpart, onErased != nil)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		if onErased != nil {
			if err := onErased(tx); err != nil {
				return err
			}
		}
		if err := d.deleteDevicesExcept(ctx, tx, localpart, "", onDeleted); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM userapi_profile_fields WHERE localpart = $1`,
			`DELETE FROM userapi_login_tokens WHERE localpart = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, localpart); err != nil {
				return err
			}
		}
		return nil
	})
}
