package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestBeginWithFirstStatement: the first statement of a write
// transaction, sent with its BEGIN on PostgreSQL, runs inside the
// transaction (unseen by other connections until the commit, undone by
// a rollback), for every shape that can go with it; a first statement
// the server refuses leaves the connection usable. On PostgreSQL a
// transaction of one statement is two round trips (BEGIN + statement,
// COMMIT), one of queued writes only is one, one with nothing none.
func TestBeginWithFirstStatement(t *testing.T) {
	restore := storage.TracePostgres()
	defer restore()
	errUndo := errors.New("undo")
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.NewDSN(t)
			db := storagetest.OpenMigrated(t, dsn, "test", testMigrations)
			count := func(name string) int { return countItems(t, db, name) }
			// The first statement's shapes: an exec with arguments, one
			// without (pgx's simple protocol), a one-row query, InsertID.
			firsts := map[string]func(tx *storage.Tx, name string) error{
				"exec": func(tx *storage.Tx, name string) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, name)
					return err
				},
				"exec without arguments": func(tx *storage.Tx, name string) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('`+name+`')`)
					return err
				},
				"query row": func(tx *storage.Tx, name string) error {
					var id int64
					if err := tx.QueryRowScan(ctx, `INSERT INTO items (name) VALUES ($1) RETURNING id`, []any{name}, &id); err != nil || id <= 0 {
						return errors.Join(err, errors.New("no id"))
					}
					return nil
				},
				"insert id": func(tx *storage.Tx, name string) error {
					id, err := tx.InsertID(ctx, `INSERT INTO items (name) VALUES ($1)`, "id", name)
					if err == nil && id <= 0 {
						err = errors.New("no id")
					}
					return err
				},
			}
			for shape, first := range firsts {
				name := strings.ReplaceAll(shape, " ", "-")
				// Rolled back: undone; meanwhile unseen by the pool's other
				// connections (on SQLite the writer's transaction too).
				err := db.WriteTx(ctx, func(tx *storage.Tx) error {
					if err := first(tx, name); err != nil {
						return err
					}
					if count(name) != 0 {
						t.Errorf("%s: the first statement was committed before the transaction", shape)
					}
					return errUndo
				})
				if !errors.Is(err, errUndo) {
					t.Fatalf("%s: %v", shape, err)
				}
				if count(name) != 0 {
					t.Fatalf("%s: the rolled-back first statement stayed", shape)
				}
				// Committed with a second statement.
				if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
					if err := first(tx, name); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, name+"-second")
					return err
				}); err != nil {
					t.Fatalf("%s: %v", shape, err)
				}
				if count(name) != 1 || count(name+"-second") != 1 {
					t.Fatalf("%s: a committed write is missing", shape)
				}
				// Refused by the server (a duplicate name): the transaction
				// fails, and if fn ignores the error its commit fails too.
				err = db.WriteTx(ctx, func(tx *storage.Tx) error { return first(tx, name) })
				if !storage.IsUniqueViolation(err) {
					t.Fatalf("%s: duplicate first statement: %v", shape, err)
				}
				err = db.WriteTx(ctx, func(tx *storage.Tx) error {
					_ = first(tx, name)
					return tx.ExecAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, name+"-ignored")
				})
				if b.Name == "postgres" && err == nil {
					t.Fatalf("%s: commit after an ignored error succeeded", shape)
				}
			}
			// No row is no error for the transaction: it goes on and commits.
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				var id int64
				if err := tx.QueryRowScan(ctx, `SELECT id FROM items WHERE name = $1`, []any{"none"}, &id); !errors.Is(err, sql.ErrNoRows) {
					return errors.Join(errors.New("want sql.ErrNoRows"), err)
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('after-no-row')`)
				return err
			}); err != nil || count("after-no-row") != 1 {
				t.Fatalf("after no row: %v", err)
			}
			// The failures left no connection inside a transaction.
			for i := range 25 {
				if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, "clean"+string(rune('a'+i))); err != nil {
					t.Fatal(err)
				}
			}
			if b.Name != "postgres" {
				return
			}

			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			sent := func(fn func(tx *storage.Tx) error) int {
				t.Helper()
				before := storage.PGTrace.Snapshot()
				if err := db.WriteTx(ctx, fn); err != nil {
					t.Fatal(err)
				}
				return storage.PGTrace.SentSince(before, strings.TrimPrefix(u.Path, "/"))
			}
			for shape, first := range firsts {
				if n := sent(func(tx *storage.Tx) error { return first(tx, "trips-"+strings.ReplaceAll(shape, " ", "-")) }); n != 2 {
					t.Errorf("%s and commit: %d round trips, want 2", shape, n)
				}
			}
			if n := sent(func(tx *storage.Tx) error {
				return tx.ExecAtCommit(ctx, `INSERT INTO items (name) VALUES ('trips-at-commit')`)
			}); n != 1 || count("trips-at-commit") != 1 {
				t.Errorf("writes at commit only: %d round trips, want 1", n)
			}
			if n := sent(func(tx *storage.Tx) error { return nil }); n != 0 {
				t.Errorf("empty transaction: %d round trips, want 0", n)
			}
		})
	}
}
