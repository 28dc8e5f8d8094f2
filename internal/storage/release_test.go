package storage

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// TestReleaseIdleMemoryClosesIdleReaders: after start-up work that opened
// several readers, ReleaseIdleMemory leaves none open, and reads and
// writes go on (new readers are opened as needed).
func TestReleaseIdleMemoryClosesIdleReaders(t *testing.T) {
	ctx := context.Background()
	db, err := openSQLite(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Hold sqliteReaders reads open at once so the pool opens them all.
	// (No write before the release: a commit would start a checkpoint,
	// which holds a reader for a moment.)
	var opened, done sync.WaitGroup
	release := make(chan struct{})
	errs := make(chan error, sqliteReaders)
	for range sqliteReaders {
		opened.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			rows, err := db.QueryContext(ctx, `SELECT 1`)
			opened.Done()
			if err != nil {
				errs <- err
				return
			}
			<-release
			errs <- rows.Close()
		}()
	}
	opened.Wait()
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := db.reader.Stats().OpenConnections; n != sqliteReaders {
		t.Fatalf("%d readers open before the release, want %d", n, sqliteReaders)
	}
	if err := db.ReleaseIdleMemory(ctx); err != nil {
		t.Fatal(err)
	}
	if n := db.reader.Stats().OpenConnections; n != 0 {
		t.Fatalf("%d readers open after the release, want 0", n)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t (n) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("read after the release: %d rows, %v", n, err)
	}
	if got := db.reader.Stats().MaxOpenConnections; got != sqliteReaders {
		t.Fatalf("reader pool bound %d after the release, want %d", got, sqliteReaders)
	}
}
