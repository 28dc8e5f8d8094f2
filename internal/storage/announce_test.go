package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestAnnouncedWrites: an announced write commits like any other; a
// write whose announcement is still outstanding (or never ends) does not
// hold back others' commits; ending an announcement twice is harmless.
func TestAnnouncedWrites(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := storage.Open(ctx, b.NewDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx, "test", testMigrations); err != nil {
				t.Fatal(err)
			}
			insert := func(name string) func(tx *storage.Tx) error {
				return func(tx *storage.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, name)
					return err
				}
			}
			count := func(name string) int {
				var n int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE name = $1`, name).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			// Outstanding for the whole test: every group below waits for
			// it at most briefly, and then commits without it.
			never := db.Announce()
			defer never.Withdraw()
			if err := db.WriteTx(ctx, insert("plain")); err != nil {
				t.Fatal(err)
			}

			a := db.Announce()
			if err := a.WriteTx(ctx, insert("announced")); err != nil {
				t.Fatal(err)
			}
			a.Withdraw() // already ended by WriteTx: a no-op
			if count("plain") != 1 || count("announced") != 1 {
				t.Fatal("a write was not committed")
			}

			failed := db.Announce()
			boom := errors.New("boom")
			err = failed.WriteTx(ctx, func(tx *storage.Tx) error {
				if err := insert("rolled back")(tx); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("announced write's error: %v", err)
			}
			if count("rolled back") != 0 {
				t.Fatal("a failed announced write was committed")
			}

			withdrawn := db.Announce()
			withdrawn.Withdraw()
			withdrawn.Withdraw()
			if err := db.WriteTx(ctx, insert("after")); err != nil || count("after") != 1 {
				t.Fatalf("write after a withdrawn announcement: %v", err)
			}
		})
	}
}
