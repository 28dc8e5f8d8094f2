package storage

import (
	"context"
	"database/sql"

	"github.com/axon-hs/axon/internal/storage"
)

// RegistrationToken is a row of userapi_registration_tokens.
type RegistrationToken struct {
	Token       string
	UsesAllowed *int64 // nil: unlimited
	Pending     int64
	Completed   int64
	ExpiryTS    *int64 // ms; nil: never
}

const tokenColumns = `token, uses_allowed, pending, completed, expiry_ts`

func scanToken(sc interface{ Scan(...any) error }) (*RegistrationToken, error) {
	var t RegistrationToken
	var uses, expiry sql.NullInt64
	if err := sc.Scan(&t.Token, &uses, &t.Pending, &t.Completed, &expiry); err != nil {
		return nil, err
	}
	if uses.Valid {
		t.UsesAllowed = &uses.Int64
	}
	if expiry.Valid {
		t.ExpiryTS = &expiry.Int64
	}
	return &t, nil
}

func nullable(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateRegistrationToken inserts t; ErrExists if the token is taken.
func (d *DB) CreateRegistrationToken(ctx context.Context, t RegistrationToken) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO userapi_registration_tokens (token, uses_allowed, expiry_ts)
			VALUES ($1, $2, $3)`, t.Token, nullable(t.UsesAllowed), nullable(t.ExpiryTS))
		if storage.IsUniqueViolation(err) {
			return ErrExists
		}
		return err
	})
}

// SeedRegistrationTokens adds unlimited tokens that do not exist yet
// (the config list), leaving existing rows as they are.
func (d *DB) SeedRegistrationTokens(ctx context.Context, tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		for _, tok := range tokens {
			if _, err := tx.ExecContext(ctx, `INSERT INTO userapi_registration_tokens (token) VALUES ($1)
				ON CONFLICT (token) DO NOTHING`, tok); err != nil {
				return err
			}
		}
		return nil
	})
}

// RegistrationToken returns one token or storage.ErrNotFound.
func (d *DB) RegistrationToken(ctx context.Context, token string) (*RegistrationToken, error) {
	t, err := scanToken(d.DB.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM userapi_registration_tokens WHERE token = $1`, token))
	if err != nil {
		return nil, storage.NotFound(err)
	}
	return t, nil
}

// RegistrationTokens lists every token, ordered by token.
func (d *DB) RegistrationTokens(ctx context.Context) ([]RegistrationToken, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT `+tokenColumns+` FROM userapi_registration_tokens ORDER BY token`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RegistrationToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// UpdateRegistrationToken sets uses_allowed and/or expiry_ts (a set
// field with a nil value clears the limit) and returns the new row.
func (d *DB) UpdateRegistrationToken(ctx context.Context, token string, setUses bool, uses *int64, setExpiry bool, expiry *int64) (*RegistrationToken, error) {
	var out *RegistrationToken
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if setUses {
			if _, err := tx.ExecContext(ctx, `UPDATE userapi_registration_tokens SET uses_allowed = $2 WHERE token = $1`, token, nullable(uses)); err != nil {
				return err
			}
		}
		if setExpiry {
			if _, err := tx.ExecContext(ctx, `UPDATE userapi_registration_tokens SET expiry_ts = $2 WHERE token = $1`, token, nullable(expiry)); err != nil {
				return err
			}
		}
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM userapi_registration_tokens WHERE token = $1`, token))
		out = t
		return storage.NotFound(err)
	})
	return out, err
}

// DeleteRegistrationToken removes a token; storage.ErrNotFound if absent.
func (d *DB) DeleteRegistrationToken(ctx context.Context, token string) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM userapi_registration_tokens WHERE token = $1`, token)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

// UseRegistrationToken counts one use of a valid token (not expired at
// nowMs, uses left) in one conditional UPDATE, so concurrent
// registrations cannot overspend it. It reports whether it was valid.
func (d *DB) UseRegistrationToken(ctx context.Context, token string, nowMs int64) (bool, error) {
	var ok bool
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE userapi_registration_tokens SET completed = completed + 1
			WHERE token = $1 AND (uses_allowed IS NULL OR pending + completed < uses_allowed)
			AND (expiry_ts IS NULL OR expiry_ts > $2)`, token, nowMs)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}
