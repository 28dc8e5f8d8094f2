package writer

import (
	"context"
	"errors"
	"testing"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/streampos"
)

// TestFence: consumer writes pass under the newest writer epoch only;
// a fence never set (one process) checks nothing; an older epoch cannot
// be claimed after a newer one.
func TestFence(t *testing.T) {
	migrations := []storage.Migration{
		{Version: 1, Name: "writer", SQL: Schema("test_writer")},
		{Version: 2, Name: "positions", SQL: streampos.Schema("test_positions")},
	}
	storagetest.ForEachBackend(t, "test", migrations, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := NewFence("test_writer")
		write := func(seq uint64) error {
			return db.WriteTx(ctx, func(tx *storage.Tx) error {
				if err := f.Check(ctx, tx); err != nil {
					return err
				}
				return streampos.Set(ctx, tx, "test_positions", "s", seq)
			})
		}
		claim := func(rev uint64, owner string) bool {
			ok, err := f.Claim(ctx, db, lease.Epoch{Gen: 5, Rev: rev}, owner)
			if err != nil {
				t.Fatalf("claim 5/%d: %v", rev, err)
			}
			return ok
		}
		if err := write(1); err != nil {
			t.Fatalf("unset fence (one process): %v", err)
		}
		f.set(nil)
		if err := write(2); !errors.Is(err, ErrFenced) {
			t.Fatalf("write without the lease: %v, want ErrFenced", err)
		}
		if !claim(10, "a") {
			t.Fatal("first claim refused")
		}
		f.set(&lease.Epoch{Gen: 5, Rev: 10})
		if err := write(3); err != nil {
			t.Fatalf("write under the claimed epoch: %v", err)
		}
		if !claim(12, "b") {
			t.Fatal("newer claim refused")
		}
		if claim(11, "c") {
			t.Fatal("older claim 5/11 recorded after 5/12")
		}
		if err := write(4); !errors.Is(err, ErrFenced) {
			t.Fatalf("write under the former epoch: %v, want ErrFenced", err)
		}
		if seq, err := streampos.Get(ctx, db, "test_positions", "s"); err != nil || seq != 3 {
			t.Fatalf("position %d %v, want 3 (the fenced write rolled back)", seq, err)
		}
		f.set(&lease.Epoch{Gen: 5, Rev: 12})
		if err := write(4); err != nil {
			t.Fatalf("write under the new epoch: %v", err)
		}
	})
}
