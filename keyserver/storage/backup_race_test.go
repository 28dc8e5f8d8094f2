package storage_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/keyserver/storage"
)

// TestBackupVersionsConcurrent: 20 backup versions created at once for
// one user all succeed, numbered 1..20 (MAX()+1 used to collide on
// PostgreSQL).
func TestBackupVersionsConcurrent(t *testing.T) {
	const algorithm = "m.megolm_backup.v1.curve25519-aes-sha2"
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		const n = 20
		var mu sync.Mutex
		var got []int64
		errs := testutil.Concurrently(n, func(int) error {
			v, err := d.CreateBackupVersion(ctx, "@u:x", algorithm, json.RawMessage(`{}`))
			if err == nil {
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
			return err
		})
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
		if v, err := d.CreateBackupVersion(ctx, "@u:x", algorithm, json.RawMessage(`{}`)); err != nil || v != n+1 {
			t.Fatalf("after delete: version %d, %v", v, err)
		}
	})
}
