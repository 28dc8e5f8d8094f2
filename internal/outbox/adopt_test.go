package outbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestAdoptPublishesWhatAnotherProcessLeft: rows one process committed
// and never published (it died) are published by the process taking
// over their keys, in order, and only those keys.
func TestAdoptPublishesWhatAnotherProcessLeft(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t, b.NewDSN(t))
			defer db.Close()
			// The process that died staged rows and never sent them.
			dead := New(db, nil, cfg)
			for _, kv := range [][2]string{{"a", "a1"}, {"b", "b1"}, {"a", "a2"}} {
				if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
					_, err := dead.Stage(ctx, tx, kv[0], []byte(kv[1]))
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			log := &memLog{}
			o := New(db, log, cfg)
			if err := o.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			// Start publishes everything left (a new process's start);
			// Adopt must not repeat rows already on their way.
			testutil.Eventually(t, 10*time.Second, "the leftovers published on start", func() bool { return len(log.got()) == 3 })
			start := 3
			if err := adopt(ctx, o, "a"); err != nil {
				t.Fatal(err)
			}
			if got := log.got()[start:]; len(got) != 0 {
				t.Fatalf("adopt re-published rows the start had queued: %v", got)
			}

			// Rows left while this process was already running.
			for _, kv := range [][2]string{{"a", "a3"}, {"b", "b2"}, {"a", "a4"}} {
				if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
					_, err := dead.Stage(ctx, tx, kv[0], []byte(kv[1]))
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			before := len(log.got())
			if err := adopt(ctx, o, "a"); err != nil {
				t.Fatal(err)
			}
			if got := log.got()[before:]; fmt.Sprint(got) != "[a3 a4]" {
				t.Fatalf("adopted %v, want [a3 a4]", got)
			}
		})
	}
}

func adopt(ctx context.Context, o *Outbox, key string) error {
	tk, err := o.Adopt(ctx, func(k string) bool { return k == key })
	if err != nil {
		return err
	}
	return o.Wait(ctx, tk)
}
