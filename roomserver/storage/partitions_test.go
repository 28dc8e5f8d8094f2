package storage_test

import (
	"context"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/storage"
)

// TestPartitionEpochsOnlyGrow: a claim raises the recorded epoch and
// never lowers it, and a write checks for exactly the recorded one.
func TestPartitionEpochsOnlyGrow(t *testing.T) {
	storagetest.ForEachBackendWith(t, "roomserver", storage.Migrations, storage.New, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		claim := func(gen int64, rev uint64, owner string) bool {
			var ok bool
			if err := db.WriteTx(ctx, func(tx *istorage.Tx) error {
				var err error
				ok, err = db.ClaimPartition(ctx, tx, 7, gen, rev, owner)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		check := func(gen int64, rev uint64) bool {
			var ok bool
			if err := db.WriteTx(ctx, func(tx *istorage.Tx) error {
				var err error
				ok, err = db.CheckPartition(ctx, tx, 7, gen, rev)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if check(1, 5) {
			t.Fatal("a write passed the fence of a partition never claimed")
		}
		if !claim(1, 5, "a") || !check(1, 5) {
			t.Fatal("first claim not recorded")
		}
		if !claim(1, 9, "b") {
			t.Fatal("a newer revision did not take over")
		}
		if check(1, 5) {
			t.Fatal("the former holder's epoch still passes the fence")
		}
		if claim(1, 6, "a") || !check(1, 9) {
			t.Fatal("an older revision took the partition back")
		}
		// A bucket created again (later generation) orders after any
		// revision of the old one.
		if !claim(2, 1, "c") || !check(2, 1) || check(1, 9) {
			t.Fatal("a later bucket generation did not take over")
		}
		if claim(1, 100, "a") {
			t.Fatal("an older generation took the partition back")
		}
	})
}
