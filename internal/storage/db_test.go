package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

var testMigrations = []storage.Migration{
	{Version: 1, Name: "items", SQL: `CREATE TABLE items (id {{SERIAL}}, name TEXT NOT NULL UNIQUE, data {{BLOB}});
		CREATE INDEX items_name ON items(name);`},
	{Version: 2, Name: "items flag", SQL: `ALTER TABLE items ADD COLUMN flag BOOLEAN NOT NULL DEFAULT FALSE`},
}

func TestStorageBothBackends(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.NewDSN(t)
			db, err := storage.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Migrate(ctx, "test", testMigrations); err != nil {
				t.Fatal(err)
			}
			// Running again is a no-op.
			if err := db.Migrate(ctx, "test", testMigrations); err != nil {
				t.Fatalf("second migrate: %v", err)
			}

			// Many concurrent writers and readers: no "database is locked".
			var wg sync.WaitGroup
			errs := make(chan error, 400)
			for i := 0; i < 200; i++ {
				wg.Add(2)
				go func(i int) {
					defer wg.Done()
					_, err := db.ExecContext(ctx, `INSERT INTO items (name, data, flag) VALUES ($1, $2, $3)`, fmt.Sprintf("n%d", i), []byte{byte(i)}, i%2 == 0)
					if err != nil {
						errs <- err
					}
				}(i)
				go func() {
					defer wg.Done()
					var n int
					if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&n); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("concurrent access: %v", err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE flag = $1`, true).Scan(&n); err != nil || n != 100 {
				t.Fatalf("flag count = %d, %v; want 100", n, err)
			}
			// Placeholder order need not match argument order.
			var name string
			if err := db.QueryRowContext(ctx, `SELECT name FROM items WHERE flag = $2 AND name = $1`, "n3", false).Scan(&name); err != nil || name != "n3" {
				t.Fatalf("reordered placeholders: %q %v", name, err)
			}
			// Unique violations are recognised on both engines.
			_, err = db.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, "n1")
			if !storage.IsUniqueViolation(err) {
				t.Fatalf("want unique violation, got %v", err)
			}
			// A failed transaction leaves nothing behind.
			errAbort := errors.New("abort")
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, "rolled-back"); err != nil {
					return err
				}
				return errAbort
			}); !errors.Is(err, errAbort) {
				t.Fatalf("WriteTx returned %v, want the function's error", err)
			}
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE name = $1`, "rolled-back").Scan(&n); err != nil || n != 0 {
				t.Fatalf("rollback left %d rows (%v)", n, err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGroupCommitIsolation: when many write transactions share one commit,
// a failing one rolls back only its own writes.
func TestGroupCommitIsolation(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "test", testMigrations)
			var wg sync.WaitGroup
			errs := make([]error, 300)
			for i := 0; i < 300; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					errs[i] = db.WriteTx(ctx, func(tx *storage.Tx) error {
						for j := 0; j < 2; j++ {
							if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, fmt.Sprintf("g%d_%d", i, j)); err != nil {
								return err
							}
						}
						if i%3 == 0 {
							return fmt.Errorf("fail %d", i)
						}
						return nil
					})
				}(i)
			}
			wg.Wait()
			for i, err := range errs {
				if (i%3 == 0) != (err != nil) {
					t.Fatalf("tx %d: err = %v", i, err)
				}
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&n); err != nil || n != 400 {
				t.Fatalf("rows = %d (%v), want 400 (200 transactions × 2)", n, err)
			}
			// A panic inside a write transaction reaches its caller, and the
			// writer keeps working.
			func() {
				defer func() {
					if recover() == nil {
						t.Error("panic was swallowed")
					}
				}()
				_ = db.WriteTx(ctx, func(tx *storage.Tx) error { panic("boom") })
			}()
			if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, "after-panic"); err != nil {
				t.Fatalf("writer broken after panic: %v", err)
			}
		})
	}
}

// BenchmarkSmallWrites measures many concurrent one-row write transactions
// (the shape of message sends), which group commit batches on SQLite.
func BenchmarkSmallWrites(b *testing.B) {
	for _, be := range storagetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			db, err := storage.Open(ctx, be.NewDSN(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx, "test", testMigrations); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetParallelism(25)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := db.ExecContext(ctx, `INSERT INTO items (name, data) VALUES ($1, $2)`, fmt.Sprintf("b%d", i), make([]byte, 500)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkReadInstrumented measures a one-row read on SQLite with and
// without the latency histogram Instrument adds (docs/performance.md).
func BenchmarkReadInstrumented(b *testing.B) {
	for _, instrumented := range []bool{false, true} {
		b.Run(fmt.Sprintf("instrumented=%v", instrumented), func(b *testing.B) {
			ctx := context.Background()
			db, err := storage.Open(ctx, storagetest.SQLiteDSN(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx, "test", testMigrations); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, "x"); err != nil {
				b.Fatal(err)
			}
			if instrumented {
				db.Instrument("bench")
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var name string
				if err := db.QueryRowContext(ctx, `SELECT name FROM items WHERE name = $1`, "x").Scan(&name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestInsertID: the key InsertID returns is the inserted row's, on both
// engines.
func TestInsertID(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "test", testMigrations)
			var ids []int64
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				ids = ids[:0]
				for _, name := range []string{"first", "second"} {
					id, err := tx.InsertID(ctx, `INSERT INTO items (name) VALUES ($1)`, "id", name)
					if err != nil {
						return err
					}
					ids = append(ids, id)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if ids[0] == 0 || ids[1] <= ids[0] {
				t.Fatalf("ids %v", ids)
			}
			for i, name := range []string{"first", "second"} {
				var got string
				if err := db.QueryRowContext(ctx, `SELECT name FROM items WHERE id = $1`, ids[i]).Scan(&got); err != nil || got != name {
					t.Fatalf("row %d = %q (%v), want %q", ids[i], got, err, name)
				}
			}
		})
	}
}

// TestReleaseIdleMemoryKeepsWorking: on both engines, reads and writes go
// on after ReleaseIdleMemory (on SQLite through newly opened readers).
func TestReleaseIdleMemoryKeepsWorking(t *testing.T) {
	storagetest.ForEachBackend(t, "test", testMigrations, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ('before')`); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseIdleMemory(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ('after')`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("read after the release: %d rows, %v", n, err)
		}
	})
}
