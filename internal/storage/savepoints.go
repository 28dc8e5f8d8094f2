package storage

import (
	"context"
	"database/sql"
	"errors"
)

// savepoints are a group commit's SAVEPOINT, RELEASE and ROLLBACK TO,
// prepared once on the SQLite writer. Run as plain text, each was
// parsed and compiled again (the driver's statement cache only keeps
// statements with arguments): two prepares per write of a group, most
// of SQLite's prepares into 50 rooms (2.3 per event, against 0.4 into
// one room).
type savepoints struct {
	begin, release, rollback *sql.Stmt
}

func prepareSavepoints(ctx context.Context, writer *sql.DB) (*savepoints, error) {
	var sp savepoints
	var err error
	for _, s := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&sp.begin, "SAVEPOINT axon_group"},
		{&sp.release, "RELEASE SAVEPOINT axon_group"},
		{&sp.rollback, "ROLLBACK TO SAVEPOINT axon_group"},
	} {
		if *s.stmt, err = writer.PrepareContext(ctx, s.sql); err != nil {
			return nil, errors.Join(err, sp.close())
		}
	}
	return &sp, nil
}

func (sp *savepoints) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{sp.begin, sp.release, sp.rollback} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// txSavepoints are the statements bound to one group's transaction.
type txSavepoints struct {
	tx                       *sql.Tx
	sp                       *savepoints
	begin, release, rollback *sql.Stmt
}

func (sp *savepoints) in(tx *sql.Tx) *txSavepoints { return &txSavepoints{tx: tx, sp: sp} }

func (t *txSavepoints) exec(bound **sql.Stmt, stmt *sql.Stmt) error {
	if *bound == nil {
		*bound = t.tx.Stmt(stmt)
	}
	_, err := (*bound).Exec()
	return err
}

// Begin starts the next write's savepoint.
func (t *txSavepoints) Begin() error { return t.exec(&t.begin, t.sp.begin) }

// Release ends it, keeping its work.
func (t *txSavepoints) Release() error { return t.exec(&t.release, t.sp.release) }

// Rollback undoes the work since Begin (Release must still follow).
func (t *txSavepoints) Rollback() error { return t.exec(&t.rollback, t.sp.rollback) }
