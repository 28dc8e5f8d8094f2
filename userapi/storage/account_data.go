package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// AccountData returns one item (roomID "" for global), or nil if unset.
func (d *DB) AccountData(ctx context.Context, localpart, roomID, dataType string) (json.RawMessage, error) {
	var content string
	err := d.DB.QueryRowContext(ctx, `SELECT content FROM userapi_account_data
		WHERE localpart = $1 AND room_id = $2 AND data_type = $3`, localpart, roomID, dataType).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return json.RawMessage(content), nil
}

// SetAccountData stores one item inside tx (with the outbox message
// announcing it), replacing any earlier content.
func (d *DB) SetAccountData(ctx context.Context, tx *storage.Tx, localpart, roomID, dataType string, content json.RawMessage) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO userapi_account_data (localpart, room_id, data_type, content)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (localpart, room_id, data_type) DO UPDATE SET content = excluded.content`,
		localpart, roomID, dataType, string(content))
	return err
}

// AllAccountData returns a user's global and per-room account data.
func (d *DB) AllAccountData(ctx context.Context, localpart string) (global map[string]json.RawMessage, rooms map[string]map[string]json.RawMessage, err error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, data_type, content FROM userapi_account_data WHERE localpart = $1`, localpart)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	global, rooms = map[string]json.RawMessage{}, map[string]map[string]json.RawMessage{}
	for rows.Next() {
		var roomID, dataType, content string
		if err := rows.Scan(&roomID, &dataType, &content); err != nil {
			return nil, nil, err
		}
		if roomID == "" {
			global[dataType] = json.RawMessage(content)
			continue
		}
		if rooms[roomID] == nil {
			rooms[roomID] = map[string]json.RawMessage{}
		}
		rooms[roomID][dataType] = json.RawMessage(content)
	}
	return global, rooms, rows.Err()
}
