//go:build cgo

package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func openWALVFSTestDB(t *testing.T, path string) *DB {
	t.Helper()
	if walVFSRegistered != 0 {
		t.Fatalf("registering the axon-wal VFS returned %d", walVFSRegistered)
	}
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.WriteTx(context.Background(), func(tx *Tx) error {
		_, err := tx.ExecContext(context.Background(), `CREATE TABLE IF NOT EXISTS t (seq INTEGER PRIMARY KEY, batch INTEGER NOT NULL, v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

func checkIntegrity(t *testing.T, db *DB) {
	t.Helper()
	var res string
	if err := db.QueryRowContext(context.Background(), `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q, %v", res, err)
	}
}

func TestWALVFSGathersACommitsFrames(t *testing.T) {
	ctx := context.Background()
	db := openWALVFSTestDB(t, filepath.Join(t.TempDir(), "gather.db"))
	writes0, flushes0 := walVFSCounts()
	value := strings.Repeat("x", 500)
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		for i := 0; i < 500; i++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (batch, v) VALUES (1, $1)`, value); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	writes1, flushes1 := walVFSCounts()
	writes, flushes := writes1-writes0, flushes1-flushes0
	// ~60 pages: two writes per frame, gathered into pieces of 64 KiB.
	if writes < 100 || flushes == 0 || flushes*8 > writes {
		t.Fatalf("a 500-row commit made %d WAL writes and %d writes of the file; want them gathered", writes, flushes)
	}
	var n, length int
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(length(v)) FROM t`).Scan(&n, &length); err != nil || n != 500 || length != 500*len(value) {
		t.Fatalf("read back %d rows of %d bytes, %v", n, length, err)
	}
	checkIntegrity(t, db)
}

// Readers on their own connections see each commit whole: never a commit
// published before its gathered frames were written.
func TestWALVFSReadersSeeWholeCommits(t *testing.T) {
	ctx := context.Background()
	db := openWALVFSTestDB(t, filepath.Join(t.TempDir(), "readers.db"))
	const batches, rows = 300, 10
	value := strings.Repeat("y", 700)
	done := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var n, distinct, length int
				if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT batch), coalesce(sum(length(v)), 0) FROM t`).Scan(&n, &distinct, &length); err != nil {
					errs <- err
					return
				}
				if n != distinct*rows || length != n*len(value) {
					errs <- fmt.Errorf("a reader saw %d rows of %d batches and %d bytes: part of a commit", n, distinct, length)
					return
				}
			}
		}()
	}
	var writeErr error
	checkpointed := 0
	for b := 0; b < batches && writeErr == nil; b++ {
		writeErr = db.WriteTx(ctx, func(tx *Tx) error {
			for i := 0; i < rows; i++ {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (batch, v) VALUES ($1, $2)`, b, value); err != nil {
					return err
				}
			}
			return nil
		})
		if b%25 == 24 && writeErr == nil {
			// Copied into the database file (gathered too), after which
			// readers read those pages from there.
			n, err := checkpoint(ctx, db)
			checkpointed, writeErr = checkpointed+n, err
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	for err := range errs {
		t.Fatal(err)
	}
	if checkpointed == 0 {
		t.Fatal("no checkpoint copied a frame: the database file's writes went untested")
	}
	checkIntegrity(t, db)
}

// checkpoint runs a PASSIVE checkpoint on a reader connection, as the
// background checkpointer does, and returns the frames it copied.
func checkpoint(ctx context.Context, db *DB) (int, error) {
	var busy, logFrames, copied int
	err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied)
	return copied, err
}

// The child side of TestWALVFSCrashKeepsCommits: commits rows one by one
// and prints each sequence number once its commit has returned.
func TestMain(m *testing.M) {
	if path := os.Getenv("AXON_WALVFS_CRASH_DB"); path != "" {
		os.Exit(commitUntilKilled(path))
	}
	os.Exit(m.Run())
}

func commitUntilKilled(path string) int {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE t (seq INTEGER PRIMARY KEY, batch INTEGER NOT NULL, v TEXT NOT NULL)`)
		return err
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	value := strings.Repeat("z", 3000) // each row its own page or more
	for seq := 1; ; seq++ {
		if err := db.WriteTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (seq, batch, v) VALUES ($1, $1, $2)`, seq, value)
			return err
		}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println(seq) // os.Stdout is unbuffered
		if seq%50 == 0 {
			if _, err := checkpoint(ctx, db); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
		}
	}
}

// A process killed mid-stream keeps every commit it had acknowledged,
// and its database is whole.
func TestWALVFSCrashKeepsCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "AXON_WALVFS_CRASH_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	last := 0
	for last < 400 && lines.Scan() {
		n, err := strconv.Atoi(lines.Text())
		if err != nil {
			t.Fatalf("child printed %q", lines.Text())
		}
		last = n
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitErr := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(waitErr, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v before it was killed (acknowledged %d); stderr: %s", waitErr, last, stderr.String())
	}
	if last < 400 {
		t.Fatalf("child acknowledged only %d commits; stderr: %s", last, stderr.String())
	}
	db := openWALVFSTestDB(t, path)
	var n, maxSeq int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*), max(seq) FROM t WHERE seq <= $1`, last).Scan(&n, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if n != last || maxSeq != last {
		t.Fatalf("after the crash %d of the %d acknowledged commits are there (highest %d)", n, last, maxSeq)
	}
	checkIntegrity(t, db)
}
