package storage_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestInLookup: a look-up by an IN list finds exactly the stored IDs
// among any number of them (padded or not), and on PostgreSQL it still
// uses the index after running many times while the table was small
// (a prepared statement's generic plan would go on scanning the table).
func TestInLookup(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "test", testMigrations)
			err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				lookup := func(ids ...string) []string {
					t.Helper()
					in, args := db.InLookup(ids, 8)
					found, err := storage.Strings(tx.QueryContext(ctx, `SELECT name FROM items WHERE name IN (`+in+`)`, args...))
					if err != nil {
						t.Fatal(err)
					}
					sort.Strings(found)
					return found
				}
				insert := func(from, to int) {
					t.Helper()
					for i := from; i < to; i++ {
						if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, fmt.Sprintf("n%05d", i)); err != nil {
							t.Fatal(err)
						}
					}
				}
				insert(0, 3)
				if db.Dialect == storage.Postgres {
					// Statistics of the small table, as autovacuum takes
					// them on a new server.
					if _, err := tx.ExecContext(ctx, `ANALYZE items`); err != nil {
						t.Fatal(err)
					}
				}
				many := []string{"n00002"}
				for i := range 20 {
					many = append(many, fmt.Sprintf("x%d", i))
				}
				for range 10 {
					if got := lookup("n00000", "nope", "n00001"); strings.Join(got, ",") != "n00000,n00001" {
						t.Fatalf("lookup = %v", got)
					}
					if got := lookup(many...); strings.Join(got, ",") != "n00002" {
						t.Fatalf("lookup of 21 = %v", got)
					}
				}
				if db.Dialect != storage.Postgres {
					return nil
				}
				insert(3, 3000)
				seqScans := func() int {
					t.Helper()
					var n int
					if err := tx.QueryRowContext(ctx, `SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'items'`).Scan(&n); err != nil {
						t.Fatal(err)
					}
					return n
				}
				before := seqScans()
				if got := lookup("n02999", "nope", "n00001"); strings.Join(got, ",") != "n00001,n02999" {
					t.Fatalf("lookup = %v", got)
				}
				if after := seqScans(); after != before {
					t.Errorf("the look-up scanned the table (%d → %d sequential scans)", before, after)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
