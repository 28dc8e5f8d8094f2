package storage

import (
	"database/sql/driver"
	"fmt"
)

// LoseNextCommitForTesting makes the next PostgreSQL write transaction
// lose its connection after its function ran and before its commit, as
// a terminated backend or a failover does: nothing is applied and the
// function runs again (connlost.go). Callers' tests use it to check that
// their write functions start afresh when run again (WriteTx's
// contract). Nothing on SQLite, whose writes are never run again.
func (db *DB) LoseNextCommitForTesting() { db.loseCommit.Store(true) }

// lostCommit reports (once) the loss LoseNextCommitForTesting asked for.
func (db *DB) lostCommit() error {
	if !db.loseCommit.CompareAndSwap(true, false) {
		return nil
	}
	return fmt.Errorf("connection lost before commit (test): %w", driver.ErrBadConn)
}
