package storage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
)

// TestBackupSQLite: a backup taken while writers are busy opens as a
// valid database holding a prefix of the writes (never a torn copy).
func TestBackupSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	db, err := storage.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, "test", testMigrations); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, fmt.Sprintf("n%d", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dst := filepath.Join(dir, "copy.db")
	err = storage.BackupSQLite(ctx, src, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := storage.BackupSQLite(ctx, src, dst); err == nil {
		t.Fatal("backup over an existing file succeeded")
	}
	cp, err := storage.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var n, version int
	if err := cp.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := cp.QueryRowContext(ctx, `SELECT MAX(version) FROM axon_schema_versions WHERE component = 'test'`).Scan(&version); err != nil || version != 2 {
		t.Fatalf("schema versions in the copy: %d %v", version, err)
	}
	var check string
	if err := cp.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity of the copy: %q %v", check, err)
	}
	t.Logf("copy holds %d rows", n)
}
