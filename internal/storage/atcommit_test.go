package storage_test

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestWritesAtCommit: writes queued for the commit are applied with the
// transaction; a refused one fails WriteTx and
// undoes the transaction's other statements; the connection is clean
// for the next transaction (a transaction aborted by an ignored error,
// too).
func TestWritesAtCommit(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "test", testMigrations)
			count := func(name string) int { return countItems(t, db, name) }
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('now')`); err != nil {
					return err
				}
				if err := tx.ExecAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, "later"); err != nil {
					return err
				}
				return tx.ExecAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, "later too")
			}); err != nil {
				t.Fatal(err)
			}
			if count("now") != 1 || count("later") != 1 || count("later too") != 1 {
				t.Fatal("a write of the transaction is missing")
			}

			// A queued write the server refuses (unique name) fails the
			// transaction: its immediate statement is not applied.
			err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('undone')`); err != nil {
					return err
				}
				return tx.ExecAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, "later")
			})
			if err == nil || !storage.IsUniqueViolation(err) {
				t.Fatalf("duplicate queued write: %v", err)
			}
			if count("undone") != 0 {
				t.Fatal("statement of a failed transaction applied")
			}

			// An error fn ignores aborts the transaction on PostgreSQL:
			// its commit must fail, not report success.
			if b.Name == "postgres" {
				err = db.WriteTx(ctx, func(tx *storage.Tx) error {
					_, _ = tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('now')`)
					return tx.ExecAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, "aborted")
				})
				if err == nil || count("aborted") != 0 {
					t.Fatalf("commit of an aborted transaction: %v", err)
				}
			}

			// Every pooled connection is outside a transaction: many
			// writes after the failures all commit.
			for i := range 30 {
				if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
					return tx.ExecAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, "after"+string(rune('a'+i)))
				}); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE name LIKE 'after%'`).Scan(&n); err != nil || n != 30 {
				t.Fatalf("%d of 30 later writes (%v)", n, err)
			}
		})
	}
}

// countItems is the number of test items named name.
func countItems(t *testing.T, db *storage.DB, name string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM items WHERE name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInsertIDAtCommit: a row inserted at the commit gets its key once
// WriteTx returns (on PostgreSQL not before: it is sent with the COMMIT);
// a refused one fails the transaction and undoes its other statements.
func TestInsertIDAtCommit(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "test", testMigrations)
			var id int64
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('before')`); err != nil {
					return err
				}
				if err := tx.InsertIDAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, "id", &id, "at commit"); err != nil {
					return err
				}
				if b.Name == "postgres" && id != 0 {
					t.Error("key set before the commit")
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var name string
			if err := db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = $1`, id).Scan(&name); err != nil || name != "at commit" {
				t.Fatalf("row of key %d: %q %v", id, name, err)
			}
			var again int64
			err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('undone')`); err != nil {
					return err
				}
				return tx.InsertIDAtCommit(ctx, `INSERT INTO items (name) VALUES ($1)`, "id", &again, "at commit")
			})
			if !storage.IsUniqueViolation(err) || countItems(t, db, "undone") != 0 || again != 0 {
				t.Fatalf("refused insert at commit: %v, key %d", err, again)
			}
		})
	}
}
