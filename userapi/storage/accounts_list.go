package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
)

// AccountFilter selects accounts for the admin user list.
type AccountFilter struct {
	// NameContains matches the localpart or display name (case-insensitive).
	NameContains string
	Guests       bool // include guests
	Deactivated  bool // include deactivated accounts
	// Admins: nil any, else only admins (true) or non-admins (false).
	Admins *bool
	// OrderBy is "name", "creation_ts", "admin", "deactivated",
	// "is_guest" or "displayname" (validated by the caller); Desc reverses.
	OrderBy string
	Desc    bool
	From    int
	Limit   int
}

// ListedAccount is an account with its display name and avatar.
type ListedAccount struct {
	Account
	DisplayName string
	AvatarURL   string
}

var accountOrderColumns = map[string]string{
	"name": "a.localpart", "creation_ts": "a.created_ts", "admin": "a.is_admin",
	"deactivated": "a.deactivated", "is_guest": "a.is_guest", "displayname": "dn",
}

// ListAccounts returns one page of accounts and the total matching.
func (d *DB) ListAccounts(ctx context.Context, f AccountFilter) ([]ListedAccount, int, error) {
	var where []string
	var args []any
	if !f.Guests {
		where = append(where, "a.is_guest = FALSE")
	}
	if !f.Deactivated {
		where = append(where, "a.deactivated = FALSE")
	}
	if f.Admins != nil {
		args = append(args, *f.Admins)
		where = append(where, fmt.Sprintf("a.is_admin = $%d", len(args)))
	}
	if f.NameContains != "" {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.NameContains))
		args = append(args, "%"+esc+"%")
		where = append(where, fmt.Sprintf(`(LOWER(a.localpart) LIKE $%d ESCAPE '\' OR LOWER(COALESCE(p.value, '')) LIKE $%d ESCAPE '\')`, len(args), len(args)))
	}
	from := ` FROM userapi_accounts a LEFT JOIN userapi_profile_fields p
		ON p.localpart = a.localpart AND p.field = 'displayname'`
	if len(where) > 0 {
		from += " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := d.DB.QueryRowContext(ctx, "SELECT COUNT(*)"+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	col, ok := accountOrderColumns[f.OrderBy]
	if !ok {
		col = "a.localpart"
	}
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	args = append(args, f.Limit, f.From)
	q := `SELECT a.localpart, a.created_ts, a.is_admin, a.is_guest, a.deactivated, COALESCE(p.value, '') AS dn,
		COALESCE((SELECT av.value FROM userapi_profile_fields av WHERE av.localpart = a.localpart AND av.field = 'avatar_url'), '')` + from +
		fmt.Sprintf(" ORDER BY %s %s, a.localpart %s LIMIT $%d OFFSET $%d", col, dir, dir, len(args)-1, len(args))
	rows, err := d.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []ListedAccount
	for rows.Next() {
		var a ListedAccount
		var dn, av string
		if err := rows.Scan(&a.Localpart, &a.CreatedTS, &a.IsAdmin, &a.IsGuest, &a.Deactivated, &dn, &av); err != nil {
			return nil, 0, err
		}
		a.DisplayName, a.AvatarURL = unquoteJSONString(dn), unquoteJSONString(av)
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// SetAdmin grants or revokes server admin.
func (d *DB) SetAdmin(ctx context.Context, localpart string, admin bool) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE userapi_accounts SET is_admin = $2 WHERE localpart = $1`, localpart, admin)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

// Reactivate clears the deactivated flag and sets a new password hash.
func (d *DB) Reactivate(ctx context.Context, localpart, hash string) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE userapi_accounts SET deactivated = FALSE, password_hash = $2 WHERE localpart = $1`, localpart, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}
