package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
)

// TestWriterJournalsInMemory: a statement that changes many existing
// pages inside a write transaction keeps its statement journal in memory
// instead of spilling it into a temporary file (SQLite spills past
// 64 KiB; a group commit's savepoints reached that on every busy commit).
func TestWriterJournalsInMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/fd")
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "tmp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	// ~2 MB of rows: a few hundred pages, all of them existing ones for
	// the UPDATE below.
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000)
		INSERT INTO t (id, v) SELECT i, printf('%04d', i) || zeroblob(1000) FROM n`); err != nil {
		t.Fatal(err)
	}
	before := tempFiles(t)
	var during int
	err = db.WriteTx(ctx, func(tx *storage.Tx) error {
		// May fail on the UNIQUE index half-way: SQLite journals the
		// original of each page it changes, to undo the statement.
		if _, err := tx.ExecContext(ctx, `UPDATE t SET v = v || 'x'`); err != nil {
			return err
		}
		during = tempFiles(t)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if during > before {
		t.Fatalf("the statement journal went to a temporary file (%d open, %d before)", during, before)
	}
}

// tempFiles counts this process's open, deleted SQLite temporary files.
func tempFiles(t *testing.T) int {
	t.Helper()
	dir := "/proc/self/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed since ReadDir
		}
		if strings.Contains(target, "etilqs_") || strings.HasSuffix(target, "(deleted)") {
			n++
		}
	}
	return n
}
