// Package storagetest gives tests fresh databases on both engines, so each
// component's storage suite runs against SQLite and a real PostgreSQL.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/axon-hs/axon/internal/storage"
)

// Backend is one engine a test runs against.
type Backend struct {
	Name string
	// NewDSN returns the DSN of a new, empty database, removed when the
	// test ends.
	NewDSN func(t testing.TB) string
}

// PostgresAdminDSN is where test databases are created. Override with
// AXON_TEST_POSTGRES (a DSN to a database the user may CREATE DATABASE from).
func PostgresAdminDSN() string {
	if dsn := os.Getenv("AXON_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Backends lists SQLite and PostgreSQL. PostgreSQL is skipped only when
// AXON_SKIP_POSTGRES=1; otherwise an unreachable server fails the test, so
// CI cannot silently stop testing it.
func Backends() []Backend {
	out := []Backend{{Name: "sqlite", NewDSN: SQLiteDSN}}
	if os.Getenv("AXON_SKIP_POSTGRES") != "1" {
		out = append(out, Backend{Name: "postgres", NewDSN: PostgresDSN})
	}
	return out
}

// SQLiteDSN returns a path to a new SQLite file in the test's temp dir.
func SQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "test.db")
}

// PostgresOnlyDSN is PostgresDSN for a test of PostgreSQL alone: it is
// skipped where Backends leaves PostgreSQL out (AXON_SKIP_POSTGRES=1).
func PostgresOnlyDSN(t testing.TB) string {
	t.Helper()
	if os.Getenv("AXON_SKIP_POSTGRES") == "1" {
		t.Skip("PostgreSQL skipped (AXON_SKIP_POSTGRES=1)")
	}
	return PostgresDSN(t)
}

// PostgresDSN creates a new database and drops it when the test ends.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminDSN()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "axon_test_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("postgres: create test database (is PostgreSQL running on 127.0.0.1:5432? set AXON_SKIP_POSTGRES=1 to skip): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	})
	return replaceDBName(admin, name)
}

func replaceDBName(dsn, name string) string {
	q := ""
	if i := strings.Index(dsn, "?"); i >= 0 {
		dsn, q = dsn[:i], dsn[i:]
	}
	if i := strings.LastIndex(dsn, "/"); i > len("postgres://") {
		dsn = dsn[:i]
	}
	return dsn + "/" + name + q
}

// OpenMigrated opens dsn and runs component's migrations on it twice (the
// second run must be a no-op), closing the database when the test ends.
func OpenMigrated(t testing.TB, dsn, component string, migrations []storage.Migration) *storage.DB {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for range 2 {
		if err := db.Migrate(ctx, component, migrations); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// ForEachBackend runs fn as a subtest on a fresh, migrated database of
// component on every backend.
func ForEachBackend(t *testing.T, component string, migrations []storage.Migration, fn func(t *testing.T, db *storage.DB)) {
	ForEachBackendWith(t, component, migrations, func(db *storage.DB) *storage.DB { return db }, fn)
}

// ForEachBackendWith is ForEachBackend handing fn the component's own
// handle, open(db) (typically the storage package's New), so a storage
// suite needs no per-file copy of the backend loop.
func ForEachBackendWith[T any](t *testing.T, component string, migrations []storage.Migration, open func(*storage.DB) T, fn func(t *testing.T, d T)) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, open(OpenMigrated(t, b.NewDSN(t), component, migrations))) })
	}
}
