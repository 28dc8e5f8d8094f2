package storage_test

import (
	"strings"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/storage"
)

// TestOutboxFillfactorMigration: migration 9 leaves the outbox's pages
// half free on PostgreSQL and changes nothing on SQLite; rows written
// before it are still there.
func TestOutboxFillfactorMigration(t *testing.T) {
	var before []istorage.Migration
	for _, m := range storage.Migrations {
		if m.Version < 9 {
			before = append(before, m)
		}
	}
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "roomserver", before)
			_, err := db.ExecContext(ctx, `INSERT INTO roomserver_outbox (msg_key, output_json) VALUES ('!r:x', '{}')`)
			must(t, err)
			schemaBefore := tableSQL(t, db)
			must(t, db.Migrate(ctx, "roomserver", storage.Migrations))
			var version, rows int
			must(t, db.QueryRowContext(ctx, `SELECT MAX(version) FROM axon_schema_versions WHERE component = 'roomserver'`).Scan(&version))
			must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM roomserver_outbox`).Scan(&rows))
			if version < 9 || rows != 1 {
				t.Fatalf("after the migration: version %d, %d outbox rows", version, rows)
			}
			if db.Dialect == istorage.Postgres {
				var opts string
				must(t, db.QueryRowContext(ctx, `SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class WHERE relname = 'roomserver_outbox'`).Scan(&opts))
				if !strings.Contains(opts, "fillfactor=50") {
					t.Fatalf("roomserver_outbox options %q, want fillfactor=50", opts)
				}
			} else if after := tableSQL(t, db); after != schemaBefore {
				t.Fatalf("SQLite table changed:\n%s\n→\n%s", schemaBefore, after)
			}
		})
	}
}

// tableSQL is the outbox's definition on SQLite ("" on PostgreSQL).
func tableSQL(t *testing.T, db *istorage.DB) string {
	t.Helper()
	if db.Dialect == istorage.Postgres {
		return ""
	}
	var s string
	must(t, db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'roomserver_outbox'`).Scan(&s))
	return s
}
