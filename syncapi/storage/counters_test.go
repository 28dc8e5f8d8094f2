package storage_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestCounterConcurrentFirstUse: 20 transactions taking the first
// positions of a fresh counter at once all succeed with distinct values
// (the first use used to race into a duplicate key on PostgreSQL).
func TestCounterConcurrentFirstUse(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		// Several fresh counters: each first use is a chance to race.
		for c := range 10 {
			counter := fmt.Sprintf("race%d", c)
			var mu sync.Mutex
			var got []types.StreamPosition
			errs := testutil.Concurrently(20, func(int) error {
				return d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
					pos, err := d.NextPos(ctx, tx, counter)
					if err == nil {
						mu.Lock()
						got = append(got, pos)
						mu.Unlock()
					}
					return err
				})
			})
			if len(errs) > 0 {
				t.Fatalf("%s: %d of 20 failed, first: %v", counter, len(errs), errs[0])
			}
			slices.Sort(got)
			for i, p := range got {
				if p != types.StreamPosition(i+1) {
					t.Fatalf("%s positions %v", counter, got)
				}
			}
		}
	})
}
