package storage

import (
	"context"
	"encoding/json"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// AccountData is one account data entry (RoomID "" for global).
type AccountData struct {
	RoomID  string
	Type    string
	Content json.RawMessage
	Pos     types.StreamPosition
}

// UpsertAccountData stores content at a new account data position.
func (d *DB) UpsertAccountData(ctx context.Context, tx *storage.Tx, userID, roomID, evType string, content []byte) (types.StreamPosition, error) {
	pos, err := d.NextPos(ctx, tx, CounterAccountData)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO syncapi_account_data (user_id, room_id, type, content, pos) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, pos = excluded.pos`,
		userID, roomID, evType, string(content), int64(pos))
	return pos, err
}

// AccountDataBetween returns the user's account data changed in (from, to].
func (d *DB) AccountDataBetween(ctx context.Context, userID string, from, to types.StreamPosition) ([]AccountData, error) {
	if from >= to { // nothing can be in the range: most syncs, no query
		return nil, nil
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, type, content, pos FROM syncapi_account_data
		WHERE user_id = $1 AND pos > $2 AND pos <= $3 ORDER BY pos`, userID, int64(from), int64(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AccountData
	for rows.Next() {
		var a AccountData
		var c string
		if err := rows.Scan(&a.RoomID, &a.Type, &c, &a.Pos); err != nil {
			return nil, err
		}
		a.Content = json.RawMessage(c)
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetAccountData returns one entry's content, or nil.
func (d *DB) GetAccountData(ctx context.Context, userID, roomID, evType string) (json.RawMessage, error) {
	var c string
	err := d.DB.QueryRowContext(ctx, `SELECT content FROM syncapi_account_data WHERE user_id = $1 AND room_id = $2 AND type = $3`,
		userID, roomID, evType).Scan(&c)
	if err != nil {
		return nil, ignoreNoRows(err)
	}
	return json.RawMessage(c), nil
}
