package storage

import (
	"context"
	"database/sql"
	"errors"
)

// EpochTable names a table of partition lease epochs (internal/lease),
// with columns partition_id (primary key), lease_gen, lease_rev and
// owner: the newest lease taken of each partition, for fencing writes
// of a former holder paused past its lease.
type EpochTable string

// Claim records that owner took partition p with lease epoch (gen, rev);
// false when a newer epoch is already recorded. The update waits for
// transactions still holding the old epoch (Check), so once it commits no
// write under an older epoch can commit.
func (t EpochTable) Claim(ctx context.Context, tx *Tx, p int, gen int64, rev uint64, owner string) (bool, error) {
	table := string(t)
	res, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (partition_id, lease_gen, lease_rev, owner)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (partition_id) DO UPDATE SET lease_gen = excluded.lease_gen, lease_rev = excluded.lease_rev, owner = excluded.owner
		WHERE `+table+`.lease_gen < excluded.lease_gen
		   OR (`+table+`.lease_gen = excluded.lease_gen AND `+table+`.lease_rev < excluded.lease_rev)`,
		p, gen, int64(rev), owner)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Check reports whether (gen, rev) is still partition p's newest epoch,
// inside the caller's write transaction. On PostgreSQL the row is
// share-locked until the transaction ends, so a Claim waits for it
// (SQLite has one writer: nothing can interleave).
func (t EpochTable) Check(ctx context.Context, tx *Tx, p int, gen int64, rev uint64) (bool, error) {
	q := `SELECT lease_gen, lease_rev FROM ` + string(t) + ` WHERE partition_id = $1`
	if tx.Dialect() == Postgres {
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
