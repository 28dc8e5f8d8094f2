// Package streampos records how far a component has applied a consumed
// stream. The position lives in the component's own table and is written
// inside the transaction of the message's effect, so a restart resumes
// right after the last applied message: nothing lost, nothing applied
// twice.
package streampos

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// Schema is the CREATE TABLE of a position table, for the component's
// migrations.
func Schema(table string) string {
	return `CREATE TABLE ` + table + ` (
	stream TEXT PRIMARY KEY,
	seq BIGINT NOT NULL
);`
}

// Get is the last applied sequence of stream (0: none yet).
func Get(ctx context.Context, db *storage.DB, table, stream string) (uint64, error) {
	var seq int64
	err := db.QueryRowContext(ctx, `SELECT seq FROM `+table+` WHERE stream = $1`, stream).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uint64(seq), err
}

// Set records seq as applied, inside the effect's transaction.
func Set(ctx context.Context, tx *storage.Tx, table, stream string, seq uint64) error {
	// Nothing in the transaction reads it back: it goes with the commit.
	return tx.ExecAtCommit(ctx, `INSERT INTO `+table+` (stream, seq) VALUES ($1, $2)
		ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq`, stream, int64(seq))
}
