package writer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/storage"
)

// ErrFenced: the writer lease this process wrote under is no longer the
// newest; another process has taken the writing over.
var ErrFenced = errors.New("writer lease taken over by another process")

// Schema is the CREATE TABLE of a writer-epoch table (one row), for the
// component's migrations.
func Schema(table string) string {
	return `CREATE TABLE ` + table + ` (
	id INTEGER PRIMARY KEY,
	lease_gen BIGINT NOT NULL,
	lease_rev BIGINT NOT NULL,
	owner TEXT NOT NULL
);`
}

// Fence is the writer epoch a process's stream consumers write under,
// kept beside the component's tables. Its zero state (no Start) checks
// nothing: one process of the component.
type Fence struct {
	table string
	cur   atomic.Pointer[lease.Epoch] // nil: unchecked; zero Rev: not the writer
}

// NewFence checks writes against the epoch recorded in table (made with
// Schema).
func NewFence(table string) *Fence { return &Fence{table: table} }

// set makes Check pass under e only; nil refuses every write.
func (f *Fence) set(e *lease.Epoch) {
	if e == nil {
		e = &lease.Epoch{}
	}
	f.cur.Store(e)
}

// Check, inside a consumer's transaction, refuses it (ErrFenced) unless
// this process's epoch is still the recorded one. On PostgreSQL the row
// is read FOR SHARE, so a new writer's claim waits for the transaction.
func (f *Fence) Check(ctx context.Context, tx *storage.Tx) error {
	if f == nil {
		return nil
	}
	e := f.cur.Load()
	if e == nil {
		return nil
	}
	if e.Rev == 0 {
		return ErrFenced
	}
	q := `SELECT lease_gen, lease_rev FROM ` + f.table + ` WHERE id = 1`
	if tx.Dialect() == storage.Postgres {
		q += ` FOR SHARE`
	}
	var g, r int64
	err := tx.QueryRowContext(ctx, q).Scan(&g, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrFenced
	}
	if err != nil {
		return fmt.Errorf("writer epoch (%s): %w", f.table, err)
	}
	if g != e.Gen || r != int64(e.Rev) {
		return ErrFenced
	}
	return nil
}

// Claim records e as the newest writer epoch unless a newer one is
// recorded (then it reports false). On PostgreSQL it waits for
// transactions holding the row (Check), so once it returns a former
// writer can commit nothing more.
func (f *Fence) Claim(ctx context.Context, db *storage.DB, e lease.Epoch, owner string) (bool, error) {
	var n int64
	err := db.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO `+f.table+` (id, lease_gen, lease_rev, owner)
			VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET lease_gen = excluded.lease_gen, lease_rev = excluded.lease_rev, owner = excluded.owner
			WHERE `+f.table+`.lease_gen < excluded.lease_gen
			   OR (`+f.table+`.lease_gen = excluded.lease_gen AND `+f.table+`.lease_rev < excluded.lease_rev)`,
			e.Gen, int64(e.Rev), owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}
