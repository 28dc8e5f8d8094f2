package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// OneTimeKeyCounts counts a device's unclaimed one-time keys by algorithm.
func (d *DB) OneTimeKeyCounts(ctx context.Context, userID, deviceID string) (map[string]int, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT algorithm, COUNT(*) FROM keyserver_one_time_keys
		WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm`, userID, deviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var alg string
		var n int
		if err := rows.Scan(&alg, &n); err != nil {
			return nil, err
		}
		out[alg] = n
	}
	return out, rows.Err()
}

// KeyCounts is what /sync tells a device about its keys: its unclaimed
// one-time keys by algorithm and the algorithms of its fallback keys not
// claimed yet (sorted). One statement: it is on every /sync's path, where
// each statement is a round trip on PostgreSQL.
func (d *DB) KeyCounts(ctx context.Context, userID, deviceID string) (map[string]int, []string, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT algorithm, COUNT(*), FALSE FROM keyserver_one_time_keys
			WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm
		UNION ALL
		SELECT algorithm, 0, TRUE FROM keyserver_fallback_keys
			WHERE user_id = $1 AND device_id = $2 AND used = FALSE
		ORDER BY 3, 1`, userID, deviceID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	counts, fallback := map[string]int{}, []string{}
	for rows.Next() {
		var alg string
		var n int
		var isFallback bool
		if err := rows.Scan(&alg, &n, &isFallback); err != nil {
			return nil, nil, err
		}
		if isFallback {
			fallback = append(fallback, alg)
		} else {
			counts[alg] = n
		}
	}
	return counts, fallback, rows.Err()
}

// Claim takes the oldest one-time key of algorithm for the device, or
// else marks its fallback key used and returns it. storage.ErrNotFound when the
// device has neither.
func (d *DB) Claim(ctx context.Context, userID, deviceID, algorithm string) (Key, error) {
	var k Key
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		for {
			var id int64
			var js string
			err := tx.QueryRowContext(ctx, `SELECT id, key_id, key_json FROM keyserver_one_time_keys
				WHERE user_id = $1 AND device_id = $2 AND algorithm = $3 ORDER BY id LIMIT 1`,
				userID, deviceID, algorithm).Scan(&id, &k.KeyID, &js)
			if errors.Is(err, sql.ErrNoRows) {
				break
			}
			if err != nil {
				return err
			}
			// A concurrent claimer (PostgreSQL) may have taken the same
			// row: only the one whose DELETE hits it wins; others retry.
			res, err := tx.ExecContext(ctx, `DELETE FROM keyserver_one_time_keys WHERE id = $1`, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				k.Algorithm, k.JSON = algorithm, json.RawMessage(js)
				return nil
			}
		}
		var js string
		err := tx.QueryRowContext(ctx, `UPDATE keyserver_fallback_keys SET used = TRUE
			WHERE user_id = $1 AND device_id = $2 AND algorithm = $3 RETURNING key_id, key_json`,
			userID, deviceID, algorithm).Scan(&k.KeyID, &js)
		if errors.Is(err, sql.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return err
		}
		k.Algorithm, k.JSON = algorithm, json.RawMessage(js)
		return nil
	})
	return k, err
}
