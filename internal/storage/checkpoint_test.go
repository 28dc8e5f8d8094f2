package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestCheckpointInBackground: commits well under the writer's own
// automatic checkpoint still reach the database file, copied there by
// the background checkpointer (the database file only grows when a
// checkpoint copies the WAL into it).
func TestCheckpointInBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ck.db")
	db, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, "test", testMigrations); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	before := size()
	blob := make([]byte, 8<<10)
	for i := range 64 { // 512 KiB: ~130 pages, far below 1,000
		if _, err := db.ExecContext(ctx, `INSERT INTO items (name, data) VALUES ($1, $2)`, string(rune('a'+i%26))+string(rune('A'+i/26)), blob); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Eventually(t, 10*time.Second, "the WAL checkpointed into the database file", func() bool {
		return size() >= before+int64(len(blob))*64
	})
}
