package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL every statement of a write transaction is a round trip,
// BEGIN and COMMIT included. Writes whose results the transaction does
// not read back (a consumer's stream position, a room's new head) can
// wait for the commit and go to the server with it, in one pipeline: a
// message's send and delivery paths each had six round trips in their
// write transactions. PostgreSQL write transactions run
// on a connection taken from the pool (not a *sql.Tx) so that the
// COMMIT can be sent in that pipeline.

// atCommit is a write queued until the commit (PostgreSQL); dest, if
// set, takes the row it returns.
type atCommit struct {
	query string
	args  []any
	dest  []any
}

// ExecAtCommit runs a write whose result nothing needs, and which no
// later statement of tx reads back (it may run after them). On
// PostgreSQL it is sent with the COMMIT, in one round trip; its error is
// WriteTx's. On SQLite, where a statement is no round trip, it runs now.
func (tx *Tx) ExecAtCommit(ctx context.Context, query string, args ...any) error {
	if tx.db.Dialect == Postgres {
		tx.atCommit = append(tx.atCommit, atCommit{query: query, args: args})
		return nil
	}
	_, err := tx.ExecContext(ctx, query, args...)
	return err
}

// InsertIDAtCommit is InsertID for a row nothing in tx reads back, whose
// key is needed only once WriteTx returned: on PostgreSQL the INSERT is
// sent with the COMMIT and *id is set when it commits; on SQLite it runs
// now.
func (tx *Tx) InsertIDAtCommit(ctx context.Context, query, idCol string, id *int64, args ...any) error {
	if tx.db.Dialect == Postgres {
		tx.atCommit = append(tx.atCommit, atCommit{query: query + " RETURNING " + idCol, args: args, dest: []any{id}})
		return nil
	}
	var err error
	*id, err = tx.InsertID(ctx, query, idCol, args...)
	return err
}

// postgresWriteTxOnce is writeTxOnce on PostgreSQL: a pooled connection,
// fn (its first statement carries the BEGIN: begin.go), then the queued
// writes and COMMIT in one pipeline.
func (db *DB) postgresWriteTxOnce(ctx context.Context, fn func(tx *Tx) error) (committing bool, err error) {
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	// A connection still inside a transaction (a failed ROLLBACK) must
	// not go back to the pool.
	defer releaseIdle(conn)
	tx := &Tx{db: db, tx: conn, pgConn: conn, beginPending: true}
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	if err = fn(tx); err == nil {
		err = tx.runEnds()
	}
	if tx.beginErr != nil {
		err = tx.beginErr
	}
	if err == nil {
		err = db.lostCommit()
	}
	if err != nil {
		tx.rollback()
		return false, err
	}
	if tx.beginPending && len(tx.atCommit) == 0 {
		return false, nil // nothing was sent, nothing to commit
	}
	committed, err := commitPipelined(ctx, conn, tx.beginPending, tx.atCommit)
	if committed {
		return false, nil
	}
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		return false, fmt.Errorf("commit: %w", err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !connectionLost(err) {
		// The server refused a queued write or the commit: nothing
		// was applied.
		rollback(conn)
		return false, err
	}
	// No answer (connection lost, context ended): the commit may have
	// been applied.
	return true, fmt.Errorf("commit: %w", err)
}

// commitPipelined sends writes and COMMIT in one batch (after BEGIN when
// begin is set: no statement was sent); committed says the server
// answered the COMMIT.
func commitPipelined(ctx context.Context, conn *sql.Conn, begin bool, writes []atCommit) (committed bool, err error) {
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		b := &pgx.Batch{}
		if begin {
			b.Queue("BEGIN")
		}
		var scanErr error
		for _, w := range writes {
			q := b.Queue(w.query, w.args...)
			if w.dest == nil {
				continue
			}
			q.QueryRow(func(row pgx.Row) error {
				err := row.Scan(w.dest...)
				var pgErr *pgconn.PgError
				if err == nil || errors.As(err, &pgErr) {
					return err // refused: nothing after it runs
				}
				// Not the server's: the COMMIT's answer is still read.
				scanErr = err
				return nil
			})
		}
		b.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
			if tag.String() == "ROLLBACK" { // an earlier error aborted the transaction
				return pgx.ErrTxCommitRollback
			}
			committed = true
			return nil
		})
		if err := c.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return scanErr
	})
	if committed && err != nil {
		// Committed, but a returned row could not be read.
		return false, fmt.Errorf("committed, reading a row it returned: %w", err)
	}
	return committed, err
}

// rollback ends tx's transaction, if its BEGIN was sent.
func (tx *Tx) rollback() {
	if !tx.beginPending {
		rollback(tx.pgConn)
	}
}

// rollback ends the connection's transaction; releaseIdle drops the
// connection if that failed.
func rollback(conn *sql.Conn) {
	_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
}

// releaseIdle returns conn to the pool if it is outside any transaction,
// and closes it otherwise.
func releaseIdle(conn *sql.Conn) {
	_ = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok || c.Conn().PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn
		}
		return nil
	})
	_ = conn.Close()
}
