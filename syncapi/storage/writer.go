package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/axon-hs/axon/internal/storage"
)

// Fence is a syncapi writer lease's epoch (lease.Epoch: bucket generation
// and revision). Epochs only grow.
type Fence struct {
	Gen int64
	Rev uint64
}

// ErrFenced: the writer lease this process wrote under is no longer the
// newest; another replica has taken over the stream consumers.
var ErrFenced = errors.New("syncapi writer lease taken over by another replica")

// ClaimWriter records (gen, rev) as the newest writer epoch, unless a newer
// one is recorded (then it reports false). On PostgreSQL the update waits
// for consumer transactions holding the row (CheckFence's FOR SHARE), so
// once it returns a former writer can commit nothing more.
func (d *DB) ClaimWriter(ctx context.Context, gen int64, rev uint64, owner string) (bool, error) {
	var n int64
	err := d.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO syncapi_writer (id, lease_gen, lease_rev, owner)
			VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET lease_gen = excluded.lease_gen, lease_rev = excluded.lease_rev, owner = excluded.owner
			WHERE syncapi_writer.lease_gen < excluded.lease_gen
			   OR (syncapi_writer.lease_gen = excluded.lease_gen AND syncapi_writer.lease_rev < excluded.lease_rev)`,
			gen, int64(rev), owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// SetFence makes every consumer transaction (SetConsumerSeq) check that f
// is still the newest writer epoch; nil (not the writer) refuses them all.
// Without a call (one syncapi process) nothing is checked.
func (d *DB) SetFence(f *Fence) {
	if f == nil {
		f = &Fence{}
	}
	d.fence.Store(f)
}

func (d *DB) checkFence(ctx context.Context, tx *storage.Tx) error {
	f := d.fence.Load()
	if f == nil {
		return nil
	}
	if f.Rev == 0 {
		return ErrFenced
	}
	q := `SELECT lease_gen, lease_rev FROM syncapi_writer WHERE id = 1`
	if tx.Dialect() == storage.Postgres {
		q += ` FOR SHARE`
	}
	var g, r int64
	err := tx.QueryRowContext(ctx, q).Scan(&g, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrFenced
	}
	if err != nil {
		return fmt.Errorf("syncapi writer epoch: %w", err)
	}
	if g != f.Gen || r != int64(f.Rev) {
		return ErrFenced
	}
	return nil
}
