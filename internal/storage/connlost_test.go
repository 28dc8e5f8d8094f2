package storage_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// terminateBackends kills every other connection to dsn's database, as
// pg_terminate_backend (or a failover) does: SQLSTATE 57P01.
func terminateBackends(t *testing.T, admin *sql.DB, dbName, queryLike string) int {
	t.Helper()
	var n int
	err := admin.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid() AND query LIKE $2`, dbName, queryLike).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTerminatedConnectionsAreRetried: after PostgreSQL terminates the
// pool's connections, reads and write transactions succeed on fresh ones
// (they used to fail with 57P01, a 500 to the client); a write
// transaction whose connection is killed while it runs, before commit,
// is run again once and applied exactly once.
func TestTerminatedConnectionsAreRetried(t *testing.T) {
	ctx := context.Background()
	dsn := storagetest.PostgresOnlyDSN(t)
	db := storagetest.OpenMigrated(t, dsn, "test", testMigrations)
	admin, err := sql.Open("pgx", storagetest.PostgresAdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	dbName := dsn[strings.LastIndex(dsn, "/")+1:]
	if i := strings.Index(dbName, "?"); i >= 0 {
		dbName = dbName[:i]
	}
	fill := func() { // several idle connections in the pool
		t.Helper()
		done := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := db.QueryContext(ctx, `SELECT pg_sleep(0.05)`)
				done <- err
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}

	fill()
	if n := terminateBackends(t, admin, dbName, "%"); n == 0 {
		t.Fatal("no connection terminated")
	}
	var count int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&count); err != nil {
		t.Fatalf("read after termination: %v", err)
	}
	fill()
	terminateBackends(t, admin, dbName, "%")
	rows, err := db.QueryContext(ctx, `SELECT name FROM items`)
	if err != nil {
		t.Fatalf("query after termination: %v", err)
	}
	rows.Close()
	fill()
	terminateBackends(t, admin, dbName, "%")
	if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ('after')`); err != nil {
		t.Fatalf("write after termination: %v", err)
	}

	// Killed in the middle of a read, and of a write transaction. The
	// sleep lasts until the marker row exists, which is written just
	// before the kill, so only the first run sleeps.
	marker := 0
	killDuring := func(run func() error) error {
		t.Helper()
		marker++
		errc := make(chan error, 1)
		go func() { errc <- run() }()
		testutil.Eventually(t, 20*time.Second, "statement to sleep", func() bool {
			var n int
			if err := admin.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE '%pg_sleep(CASE%'`, dbName).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n > 0
		})
		if _, err := db.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, markerName(marker)); err != nil {
			t.Fatal(err)
		}
		if terminateBackends(t, admin, dbName, "%pg_sleep(CASE%") == 0 {
			t.Fatal("sleeping statement not terminated")
		}
		return <-errc
	}
	sleepQuery := func() string {
		return `SELECT pg_sleep(CASE WHEN (SELECT COUNT(*) FROM items WHERE name = '` + markerName(marker) + `') = 0 THEN 30 ELSE 0 END)`
	}
	if err := killDuring(func() error {
		var v string
		return db.QueryRowContext(ctx, sleepQuery()).Scan(&v)
	}); err != nil {
		t.Fatalf("read killed while running: %v", err)
	}
	runs := 0
	if err := killDuring(func() error {
		return db.WriteTx(ctx, func(tx *storage.Tx) error {
			runs++
			if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('during')`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, sleepQuery())
			return err
		})
	}); err != nil {
		t.Fatalf("write transaction killed before commit: %v", err)
	}
	if runs != 2 {
		t.Fatalf("write transaction ran %d times, want 2", runs)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE name = 'during'`).Scan(&count); err != nil || count != 1 {
		t.Fatalf("rows written: %d, %v", count, err)
	}
}

func markerName(n int) string { return "marker" + strconv.Itoa(n) }

// TestLoseNextCommitForTesting: the injected loss runs the write
// function again, once, and what it wrote is applied once.
func TestLoseNextCommitForTesting(t *testing.T) {
	ctx := context.Background()
	db := storagetest.OpenMigrated(t, storagetest.PostgresOnlyDSN(t), "test", testMigrations)
	db.LoseNextCommitForTesting()
	runs := 0
	if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
		runs++
		_, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ('lost once')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE name = 'lost once'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if runs != 2 || n != 1 {
		t.Fatalf("function ran %d times, %d rows; want 2 runs, 1 row", runs, n)
	}
}
