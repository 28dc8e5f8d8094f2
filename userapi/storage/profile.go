package storage

import (
	"context"
	"encoding/json"

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
