package storage_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/axon-hs/axon/keyserver/storage"
)

// TestBackupVersionsConcurrent: 20 backup versions created at once for
// one user all succeed, numbered 1..20 (MAX()+1 used to collide on
// PostgreSQL).
func TestBackupVersionsConcurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		const n = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		var got []int64
		var errs []error
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				v, err := d.CreateBackupVersion(ctx, "@u:x", "m.megolm_backup.v1.curve25519-aes-sha2", json.RawMessage(`{}`))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				got = append(got, v)
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d of %d failed, first: %v", len(errs), n, errs[0])
		}
		slices.Sort(got)
		for i, v := range got {
			if v != int64(i+1) {
				t.Fatalf("versions %v", got)
			}
		}
		// Deleting the newest does not hand its number out again.
		if err := d.DeleteBackupVersion(ctx, "@u:x", n); err != nil {
			t.Fatal(err)
		}
		if v, err := d.CreateBackupVersion(ctx, "@u:x", "m.megolm_backup.v1.curve25519-aes-sha2", json.RawMessage(`{}`)); err != nil || v != n+1 {
			t.Fatalf("after delete: version %d, %v", v, err)
		}
	})
}
