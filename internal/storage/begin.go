package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL a write transaction's BEGIN waits for its first
// statement and goes to the server with it, in one pipeline: BEGIN alone
// was a round trip of its own in every write transaction (one of five on
// a message's send, one of four on its delivery). A statement that can
// go with it is an exec (ExecContext) or a one-row query scanned at once
// (QueryRowScan, InsertID); QueryContext and QueryRowContext send BEGIN
// first (database/sql's rows cannot be made from a pipeline's). A
// transaction that runs no statement sends BEGIN with its commit, or
// nothing at all when it has nothing to commit.

// pgBegun sends the pending BEGIN alone, if any: before a statement
// that cannot go with it.
func (tx *Tx) pgBegun(ctx context.Context) error {
	if !tx.beginPending {
		return nil
	}
	tx.beginPending = false
	if _, err := tx.tx.ExecContext(ctx, "BEGIN"); err != nil {
		tx.beginErr = fmt.Errorf("begin: %w", err)
	}
	return tx.beginErr
}

// pgBeginWith sends the pending BEGIN and the statement queued by queue
// in one pipeline. The transaction counts as begun whatever the answer:
// if the statement failed, it must be rolled back.
func (tx *Tx) pgBeginWith(ctx context.Context, query string, args []any, queue func(*pgx.QueuedQuery)) error {
	tx.beginPending = false
	return tx.pgConn.Raw(func(dc any) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		queue(b.Queue(query, args...))
		return dc.(*stdlib.Conn).Conn().SendBatch(ctx, b).Close()
	})
}

// pgResult is an exec's sql.Result from its command tag.
type pgResult struct{ tag pgconn.CommandTag }

func (r pgResult) RowsAffected() (int64, error) { return r.tag.RowsAffected(), nil }
func (r pgResult) LastInsertId() (int64, error) {
	return 0, errors.New("LastInsertId is not supported by PostgreSQL: use RETURNING")
}

// QueryRowScan is QueryRowContext(ctx, query, args...).Scan(dest...). As
// the first statement of a PostgreSQL transaction it is sent with the
// BEGIN; dest is then scanned by pgx, not database/sql (sql.ErrNoRows
// still matches with errors.Is).
func (tx *Tx) QueryRowScan(ctx context.Context, query string, args []any, dest ...any) error {
	if !tx.beginPending {
		return tx.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	return tx.pgBeginWith(ctx, query, args, func(q *pgx.QueuedQuery) {
		q.QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
	})
}

// execBegin is ExecContext sent with the pending BEGIN. Without
// arguments pgx sends a statement by the simple protocol, which may hold
// several: BEGIN goes in front of it, in the same message.
func (tx *Tx) execBegin(ctx context.Context, query string, args []any) (sql.Result, error) {
	if len(args) == 0 {
		tx.beginPending = false
		return tx.tx.ExecContext(ctx, "BEGIN; "+query)
	}
	var res pgResult
	err := tx.pgBeginWith(ctx, query, args, func(q *pgx.QueuedQuery) {
		q.Exec(func(tag pgconn.CommandTag) error {
			res.tag = tag
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
