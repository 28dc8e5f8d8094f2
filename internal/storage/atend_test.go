package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// itemsMerger inserts its items as rows of items, one call at a time,
// and records each call's items; it fails a call holding "bad".
type itemsMerger struct {
	mu    sync.Mutex
	calls [][]string
}

func (m *itemsMerger) Merge(ctx context.Context, tx *storage.Tx, items []any) error {
	var names []string
	for _, it := range items {
		names = append(names, it.(string))
	}
	m.mu.Lock()
	m.calls = append(m.calls, names)
	m.mu.Unlock()
	if slices.Contains(names, "bad") {
		return errors.New("merge refused")
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, n); err != nil {
			return err
		}
	}
	return nil
}

func (m *itemsMerger) took() [][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.calls
	m.calls = nil
	return out
}

// TestEndWritesMerged: the end writes of a SQLite group's callers are
// one Merge call, in call order, without those of a caller that failed;
// a failing Merge fails every caller merged into it and commits none of
// their writes. On PostgreSQL (no groups) each transaction is its own
// call.
func TestEndWritesMerged(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "test", testMigrations)
			grouped := b.Name == "sqlite"
			m := &itemsMerger{}
			count := func(name string) int { return countItems(t, db, name) }
			// run queues the writes in order behind a write that holds the
			// SQLite writer until all are queued, so they form one group
			// (on PostgreSQL, runs them in order), and returns their errors.
			run := func(fns ...func(tx *storage.Tx) error) []error {
				t.Helper()
				errs := make([]error, len(fns))
				if !grouped {
					for i, fn := range fns {
						errs[i] = db.WriteTx(ctx, fn)
					}
					return errs
				}
				started, release := make(chan struct{}), make(chan struct{})
				blocker := make(chan error, 1)
				go func() {
					blocker <- db.WriteTx(ctx, func(tx *storage.Tx) error { close(started); <-release; return nil })
				}()
				<-started
				var wg sync.WaitGroup
				for i, fn := range fns {
					testutil.Eventually(t, 10*time.Second, "the writes before queued", func() bool { return storage.QueuedWrites(db) == i })
					wg.Add(1)
					go func() { defer wg.Done(); errs[i] = db.WriteTx(ctx, fn) }()
				}
				testutil.Eventually(t, 10*time.Second, "every write queued", func() bool { return storage.QueuedWrites(db) == len(fns) })
				close(release)
				wg.Wait()
				if err := <-blocker; err != nil {
					t.Fatal(err)
				}
				return errs
			}
			write := func(row string, fail error, ends ...string) func(tx *storage.Tx) error {
				return func(tx *storage.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO items (name) VALUES ($1)`, row); err != nil {
						return err
					}
					for _, e := range ends {
						tx.AtEnd(m, e)
					}
					return fail
				}
			}
			boom := errors.New("boom")
			errs := run(write("a", nil, "a1", "a2"), write("b", boom, "b1"), write("c", nil, "c1"))
			if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
				t.Fatalf("errors %v", errs)
			}
			calls := m.took()
			want := [][]string{{"a1", "a2", "c1"}}
			if !grouped {
				want = [][]string{{"a1", "a2"}, {"c1"}}
			}
			if !slices.EqualFunc(calls, want, slices.Equal) {
				t.Fatalf("merge calls %v, want %v", calls, want)
			}
			for name, n := range map[string]int{"a": 1, "a1": 1, "a2": 1, "c": 1, "c1": 1, "b": 0, "b1": 0} {
				if got := count(name); got != n {
					t.Fatalf("%d rows %q, want %d", got, name, n)
				}
			}

			errs = run(write("d", nil, "bad"), write("e", nil, "e1"))
			if errs[0] == nil || grouped != (errs[1] != nil) {
				t.Fatalf("errors after a failed merge %v", errs)
			}
			want = [][]string{{"bad", "e1"}}
			if !grouped {
				want = [][]string{{"bad"}, {"e1"}}
			}
			if calls := m.took(); fmt.Sprint(calls) != fmt.Sprint(want) {
				t.Fatalf("merge calls %v, want %v", calls, want)
			}
			e := 1
			if grouped {
				e = 0
			}
			if count("d") != 0 || count("e") != e || count("e1") != e {
				t.Fatalf("rows after a failed merge: d %d, e %d, e1 %d", count("d"), count("e"), count("e1"))
			}
		})
	}
}
