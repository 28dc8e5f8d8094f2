package writer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/internal/streampos"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestWriterHandover: of two processes the first to start writes; when
// its lease is frozen (a process stalled past it) the other takes over,
// and the stalled one's next write is refused by the fence, which makes
// it give the lease up and stop its work. A graceful close hands over
// at once.
func TestWriterHandover(t *testing.T) {
	srv := natstest.Start(t)
	migrations := []storage.Migration{
		{Version: 1, Name: "writer", SQL: Schema("test_writer")},
		{Version: 2, Name: "positions", SQL: streampos.Schema("test_positions")},
	}
	storagetest.ForEachBackend(t, "test", migrations, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		type proc struct {
			w       *Writer
			fence   *Fence
			running atomic.Int32
		}
		start := func(name string) *proc {
			bus := srv.Bus(t, "wt"+db.Dialect.String())
			p := &proc{fence: NewFence("test_writer")}
			p.w = New(db, p.fence, Config{Component: "test", Instance: name, TTL: time.Second},
				func(_, runCtx context.Context) ([]<-chan struct{}, error) {
					p.running.Add(1)
					done := make(chan struct{})
					go func() { <-runCtx.Done(); p.running.Add(-1); close(done) }()
					return []<-chan struct{}{done}, nil
				})
			testutil.Must(t, p.w.Start(ctx, bus))
			t.Cleanup(p.w.Close)
			return p
		}
		write := func(p *proc, seq uint64) error {
			return db.WriteTx(ctx, func(tx *storage.Tx) error {
				if err := p.fence.Check(ctx, tx); err != nil {
					return err
				}
				return streampos.Set(ctx, tx, "test_positions", "s", seq)
			})
		}
		a := start("a")
		if !a.w.Held() || a.running.Load() != 1 {
			t.Fatal("a lone process does not write")
		}
		b := start("b")
		if err := write(b, 1); !errors.Is(err, ErrFenced) {
			t.Fatalf("write at the process without the lease: %v", err)
		}
		testutil.Must(t, write(a, 1))

		a.w.Leases().Freeze()
		testutil.Eventually(t, 10*time.Second, "b taking the lease a stopped renewing", func() bool { return b.w.Held() && b.running.Load() == 1 })
		err := write(a, 2)
		if !errors.Is(err, ErrFenced) {
			t.Fatalf("write at the stalled former writer: %v, want ErrFenced", err)
		}
		a.w.Fenced(err)
		testutil.Eventually(t, 5*time.Second, "the fenced process giving up", func() bool { return !a.w.Held() && a.running.Load() == 0 })
		testutil.Must(t, write(b, 2))
		if seq, err := streampos.Get(ctx, db, "test_positions", "s"); err != nil || seq != 2 {
			t.Fatalf("position %d %v, want 2", seq, err)
		}

		c := start("c")
		b.w.Close()
		if b.running.Load() != 0 {
			t.Fatal("work still running after Close")
		}
		testutil.Eventually(t, 5*time.Second, "c writing after b closed", func() bool { return c.w.Held() && c.running.Load() == 1 })
	})
}
