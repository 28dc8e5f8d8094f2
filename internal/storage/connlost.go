package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// A PostgreSQL connection can be lost under a running statement: the
// server terminated it (SQLSTATE 57P01 admin_shutdown, e.g.
// pg_terminate_backend or a failover; 57P02 crash_shutdown) or the
// network dropped it. Reads and write transactions that had not reached
// their commit are then run again, once, on a fresh connection: nothing
// of theirs was applied. A commit whose answer was lost is not retried,
// since it may have been applied.

// connectionLost reports whether err says the connection died.
func connectionLost(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P01" || pgErr.Code == "57P02"
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// Errors wrapped with %v lose their type; their text remains.
	msg := err.Error()
	for _, s := range []string{"SQLSTATE 57P01", "SQLSTATE 57P02", "conn closed", "unexpected EOF", "connection reset by peer", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// retryable reports whether an operation that failed with err should be
// run again; if so the pool's idle connections, likely killed by the same
// event, are dropped so the retry gets a fresh one.
func (db *DB) retryable(ctx context.Context, err error) bool {
	if db.Dialect != Postgres || ctx.Err() != nil || !connectionLost(err) {
		return false
	}
	db.reader.SetMaxIdleConns(0)
	db.reader.SetMaxIdleConns(postgresPoolSize)
	return true
}
