package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// ClaimPartition records that owner took partition p with lease epoch
// (gen, rev); false when a newer epoch is already recorded. The update
// waits for writes still holding the old epoch (CheckPartition), so once
// it commits no write under an older epoch can commit.
func (d *DB) ClaimPartition(ctx context.Context, tx *storage.Tx, p int, gen int64, rev uint64, owner string) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO roomserver_partitions (partition_id, lease_gen, lease_rev, owner)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (partition_id) DO UPDATE SET lease_gen = excluded.lease_gen, lease_rev = excluded.lease_rev, owner = excluded.owner
		WHERE roomserver_partitions.lease_gen < excluded.lease_gen
		   OR (roomserver_partitions.lease_gen = excluded.lease_gen AND roomserver_partitions.lease_rev < excluded.lease_rev)`,
		p, gen, int64(rev), owner)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CheckPartition reports whether (gen, rev) is still partition p's newest
// epoch, inside the caller's write transaction. On PostgreSQL the row is
// share-locked until the transaction ends, so a ClaimPartition waits for
// it (SQLite has one writer: nothing can interleave).
func (d *DB) CheckPartition(ctx context.Context, tx *storage.Tx, p int, gen int64, rev uint64) (bool, error) {
	q := `SELECT lease_gen, lease_rev FROM roomserver_partitions WHERE partition_id = $1`
	if tx.Dialect() == storage.Postgres {
		q += ` FOR SHARE`
	}
	var g, r int64
	err := tx.QueryRowContext(ctx, q, p).Scan(&g, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return g == gen && r == int64(rev), nil
}
