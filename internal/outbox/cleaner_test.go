package outbox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestOutboxPublishesWhileCleanupWaits: deleting published rows needs the
// database's write lock, which one long transaction (a huge createRoom)
// can hold; meanwhile messages already committed must still be
// published, or every room's output waits behind that one transaction.
func TestOutboxPublishesWhileCleanupWaits(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, log, o := startOutbox(t, b)
			stage := func(n int, prefix string) []Entry {
				var entries []Entry
				if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
					for i := range n {
						e, err := o.Stage(ctx, tx, "key", []byte(fmt.Sprintf("%s%d", prefix, i)))
						if err != nil {
							return err
						}
						entries = append(entries, e...)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return entries
			}
			first, later := stage(deleteBatch, "a"), stage(1, "b")

			// Another transaction locks the rows (PostgreSQL) or the
			// database (SQLite) until the end of the test.
			locked, release := make(chan error, 1), make(chan struct{})
			var releaseOnce sync.Once
			unlock := func() { releaseOnce.Do(func() { close(release) }) }
			defer unlock() // before o.Close (defers run last first)
			held := make(chan error, 1)
			go func() {
				held <- db.WriteTx(ctx, func(tx *storage.Tx) error {
					_, err := tx.ExecContext(ctx, `UPDATE test_outbox SET msg_key = msg_key`)
					locked <- err
					<-release
					return err
				})
			}()
			if err := <-locked; err != nil {
				t.Fatal(err)
			}
			o.Enqueue(first) // a full delete batch: its cleanup now waits for the lock
			testutil.Eventually(t, 20*time.Second, "first batch published", func() bool { return len(log.got()) == deleteBatch })
			o.Enqueue(later)
			testutil.Eventually(t, 20*time.Second, "a later message published while cleanup waits", func() bool { return len(log.got()) == deleteBatch+1 })
			unlock()
			if err := <-held; err != nil {
				t.Fatal(err)
			}
			testutil.Eventually(t, 30*time.Second, "published rows deleted once the lock is free", func() bool { return rowCount(t, db) == 0 })
		})
	}
}
