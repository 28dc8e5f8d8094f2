//go:build cgo

package storage

import (
	"context"
	"path/filepath"
	"testing"
)

// TestSQLiteKeepsNoMemoryStatistics: SQLite counts no heap bytes (so no
// allocation takes its process-wide mutex), and each connection's page
// cache is bounded instead. Fails if the statistics are on again (a
// busy database then reports its bytes) or the cache sizes are not set.
func TestSQLiteKeepsNoMemoryStatistics(t *testing.T) {
	if sqliteMemstatusOff != 0 {
		t.Fatalf("turning SQLite's memory statistics off returned %d", sqliteMemstatusOff)
	}
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stats.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
			return err
		}
		for i := 0; i < 1000; i++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES ($1)`, "a row of some length to fill pages"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("count %d, %v", n, err)
	}
	if used := sqliteMemoryUsed(); used != 0 {
		t.Fatalf("SQLite counted %d bytes: its memory statistics are on", used)
	}
	for name, want := range map[string]int{"writer": -sqliteWriterCacheKiB, "reader": -sqliteReaderCacheKiB} {
		pool := db.reader
		if name == "writer" {
			pool = db.writer
		}
		var got int
		if err := pool.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s cache_size %d, want %d", name, got, want)
		}
	}
}
