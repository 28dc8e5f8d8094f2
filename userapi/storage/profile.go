package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
)

// ProfileFields returns a user's profile fields as raw JSON values.
func (d *DB) ProfileFields(ctx context.Context, localpart string) (map[string]json.RawMessage, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT field, value FROM userapi_profile_fields WHERE localpart = $1`, localpart)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var field, value string
		if err := rows.Scan(&field, &value); err != nil {
			return nil, err
		}
		out[field] = json.RawMessage(value)
	}
	return out, rows.Err()
}

// SetProfileField stores one field; a nil value deletes it. If maxTotal
// > 0 and the profile (keys and values) would exceed maxTotal bytes,
// nothing changes and ErrTooLarge is returned.
func (d *DB) SetProfileField(ctx context.Context, localpart, field string, value json.RawMessage, maxTotal int) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if value == nil {
			_, err := tx.ExecContext(ctx, `DELETE FROM userapi_profile_fields WHERE localpart = $1 AND field = $2`, localpart, field)
			return err
		}
		if maxTotal > 0 {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(LENGTH(field) + LENGTH(value)), 0)
				FROM userapi_profile_fields WHERE localpart = $1 AND field <> $2`, localpart, field).Scan(&others); err != nil {
				return err
			}
			if others+len(field)+len(value) > maxTotal {
				return ErrTooLarge
			}
		}
		return d.setProfileField(ctx, tx, localpart, field, value)
	})
}

func (d *DB) setProfileField(ctx context.Context, tx *storage.Tx, localpart, field string, value json.RawMessage) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO userapi_profile_fields (localpart, field, value) VALUES ($1, $2, $3)
		ON CONFLICT (localpart, field) DO UPDATE SET value = excluded.value`, localpart, field, string(value))
	return err
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// unquoteJSONString decodes a stored JSON string value ("" if it is not one).
func unquoteJSONString(v string) string {
	var s string
	if json.Unmarshal([]byte(v), &s) != nil {
		return ""
	}
	return s
}

// ProfileMatch is one user found by SearchProfiles.
type ProfileMatch struct {
	Localpart   string
	DisplayName json.RawMessage // raw JSON value, nil when unset
	AvatarURL   json.RawMessage
}

// SearchProfiles finds active, non-guest accounts whose localpart starts
// with term or whose display name has a word starting with it (term is
// lower-case; the display name is matched in its stored JSON form, where
// a leading quote or a space starts a word), at most limit.
func (d *DB) SearchProfiles(ctx context.Context, term string, limit int) ([]ProfileMatch, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(term)
	rows, err := d.DB.QueryContext(ctx, `SELECT a.localpart, n.value, v.value FROM userapi_accounts a
		LEFT JOIN userapi_profile_fields n ON n.localpart = a.localpart AND n.field = 'displayname'
		LEFT JOIN userapi_profile_fields v ON v.localpart = a.localpart AND v.field = 'avatar_url'
		WHERE NOT a.deactivated AND NOT a.is_guest
		AND (a.localpart LIKE $1 ESCAPE '\' OR lower(n.value) LIKE $2 ESCAPE '\' OR lower(n.value) LIKE $3 ESCAPE '\')
		ORDER BY a.localpart LIMIT $4`, esc+"%", `"`+esc+"%", "% "+esc+"%", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ProfileMatch
	for rows.Next() {
		var m ProfileMatch
		var name, avatar sql.NullString
		if err := rows.Scan(&m.Localpart, &name, &avatar); err != nil {
			return nil, err
		}
		if name.Valid {
			m.DisplayName = json.RawMessage(name.String)
		}
		if avatar.Valid {
			m.AvatarURL = json.RawMessage(avatar.String)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
