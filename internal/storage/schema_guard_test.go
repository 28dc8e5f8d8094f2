package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestSchemaGuard: a binary that knows fewer migrations than the database
// has applied (a downgrade) refuses to run against it, naming the
// component and both versions; the same or a newer binary runs.
func TestSchemaGuard(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "guarded", testMigrations)
			err := db.Migrate(ctx, "guarded", testMigrations[:1])
			if !errors.Is(err, storage.ErrSchemaTooNew) {
				t.Fatalf("older binary: got %v, want ErrSchemaTooNew", err)
			}
			for _, want := range []string{"guarded", "version 2", "up to 1"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not say %q", err, want)
				}
			}
			if err := db.Migrate(ctx, "guarded", testMigrations); err != nil {
				t.Fatalf("same binary after the refusal: %v", err)
			}
			// Another component's versions do not count.
			other := []storage.Migration{{Version: 1, Name: "other", SQL: `CREATE TABLE other_rows (id BIGINT)`}}
			if err := db.Migrate(ctx, "other", other); err != nil {
				t.Fatalf("other component: %v", err)
			}
		})
	}
}
