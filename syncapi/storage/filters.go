package storage

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/axon-hs/axon/internal/storage"
)

// InsertFilter stores filter JSON for userID, reusing the ID of an
// identical filter, and returns its ID.
func (d *DB) InsertFilter(ctx context.Context, userID string, filter []byte) (string, error) {
	var id int64
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM syncapi_filters WHERE user_id = $1 AND filter = $2`, userID, string(filter)).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO syncapi_filters (user_id, filter) VALUES ($1, $2) RETURNING id`, userID, string(filter)).Scan(&id)
	})
	return strconv.FormatInt(id, 10), err
}

// GetFilter returns a stored filter's JSON, or nil. (syncapi keeps the
// filters /sync names parsed: sync_filtercache.go.)
func (d *DB) GetFilter(ctx context.Context, userID, filterID string) ([]byte, error) {
	id, err := strconv.ParseInt(filterID, 10, 64)
	if err != nil {
		return nil, nil
	}
	var f string
	err = d.DB.QueryRowContext(ctx, `SELECT filter FROM syncapi_filters WHERE user_id = $1 AND id = $2`, userID, id).Scan(&f)
	if err != nil {
		return nil, ignoreNoRows(err)
	}
	return []byte(f), nil
}

func ignoreNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
