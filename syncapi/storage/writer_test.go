package storage_test

import (
	"context"
	"errors"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
)

// TestWriterFence: consumer writes (SetConsumerSeq) pass under the newest
// writer epoch only; without a fence set (one syncapi) nothing is checked.
func TestWriterFence(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		write := func(seq uint64) error {
			return d.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return d.SetConsumerSeq(ctx, tx, "room_events", seq) })
		}
		must(t, write(1)) // no fence: one syncapi process
		d.SetFence(nil)
		if err := write(2); !errors.Is(err, storage.ErrFenced) {
			t.Fatalf("write without the lease: %v, want ErrFenced", err)
		}
		if ok, err := d.ClaimWriter(ctx, 5, 10, "a"); err != nil || !ok {
			t.Fatalf("claim 5/10: %v %v", ok, err)
		}
		d.SetFence(&storage.Fence{Gen: 5, Rev: 10})
		must(t, write(3))
		// Another replica takes over with a later epoch; an older one
		// cannot be recorded after it.
		if ok, err := d.ClaimWriter(ctx, 5, 12, "b"); err != nil || !ok {
			t.Fatalf("claim 5/12: %v %v", ok, err)
		}
		if ok, err := d.ClaimWriter(ctx, 5, 11, "c"); err != nil || ok {
			t.Fatalf("claim of an older epoch 5/11: %v %v, want refused", ok, err)
		}
		if err := write(4); !errors.Is(err, storage.ErrFenced) {
			t.Fatalf("write under the former epoch: %v, want ErrFenced", err)
		}
		if seq, err := d.ConsumerSeq(ctx, "room_events"); err != nil || seq != 3 {
			t.Fatalf("position %d %v, want 3 (the fenced write rolled back)", seq, err)
		}
		d.SetFence(&storage.Fence{Gen: 5, Rev: 12})
		must(t, write(4))
	})
}
