package streampos

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

func TestGetSet(t *testing.T) {
	migrations := []storage.Migration{{Version: 1, Name: "positions", SQL: Schema("test_positions")}}
	storagetest.ForEachBackend(t, "test", migrations, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if seq, err := Get(ctx, db, "test_positions", "s"); err != nil || seq != 0 {
			t.Fatalf("fresh: %d %v", seq, err)
		}
		for _, want := range []uint64{5, 9} {
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error { return Set(ctx, tx, "test_positions", "s", want) }); err != nil {
				t.Fatal(err)
			}
			if seq, err := Get(ctx, db, "test_positions", "s"); err != nil || seq != want {
				t.Fatalf("after set %d: %d %v", want, seq, err)
			}
		}
	})
}
