package storage

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// BenchmarkSavepointPair is one write's savepoint in a group commit: as
// text (parsed and compiled each time) and prepared once (savepoints.go).
func BenchmarkSavepointPair(b *testing.B) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "sp.db")+"?_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		b.Fatal(err)
	}
	sp, err := prepareSavepoints(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.close()
	run := func(b *testing.B, pair func(tx *sql.Tx, in *txSavepoints) error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		in := sp.in(tx)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := pair(tx, in); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("text", func(b *testing.B) {
		run(b, func(tx *sql.Tx, _ *txSavepoints) error {
			if _, err := tx.Exec("SAVEPOINT axon_group"); err != nil {
				return err
			}
			_, err := tx.Exec("RELEASE SAVEPOINT axon_group")
			return err
		})
	})
	b.Run("prepared", func(b *testing.B) {
		run(b, func(_ *sql.Tx, in *txSavepoints) error {
			if err := in.Begin(); err != nil {
				return err
			}
			return in.Release()
		})
	})
}
