package storage_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestCounterConcurrentFirstUse: 20 transactions taking the first
// positions of a fresh counter at once all succeed with distinct values
// (the first use used to race into a duplicate key on PostgreSQL).
func TestCounterConcurrentFirstUse(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			d := storage.New(storagetest.OpenMigrated(t, b.NewDSN(t), "syncapi", storage.Migrations))
			// Several fresh counters: each first use is a chance to race.
			for c := range 10 {
				counter := fmt.Sprintf("race%d", c)
				takeConcurrently(t, d, counter)
			}
		})
	}
}

func takeConcurrently(t *testing.T, d *storage.DB, counter string) {
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []types.StreamPosition
	var errs []error
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			var pos types.StreamPosition
			err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				var err error
				pos, err = d.NextPos(ctx, tx, counter)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			got = append(got, pos)
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d failed, first: %v", len(errs), n, errs[0])
	}
	slices.Sort(got)
	for i, p := range got {
		if p != types.StreamPosition(i+1) {
			t.Fatalf("%s positions %v", counter, got)
		}
	}
}
