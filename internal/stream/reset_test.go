package stream_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestStreamResetIsNotSkipped: an external NATS that loses its store
// (here: restarted on an empty one) starts the stream again at sequence
// 1. Publishing recreates the stream, and a running consumer whose
// position is far beyond the new stream's end notices the reset and
// consumes the new stream from its start instead of silently skipping
// everything up to its old position; so does a consumer started after.
func TestStreamResetIsNotSkipped(t *testing.T) {
	ctx := context.Background()
	nats := natstest.Start(t)
	bus, err := stream.Connect(ctx, stream.Config{URLs: []string{nats.URL()}, Prefix: "resettest"})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	s, err := bus.Stream(ctx, "events", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"a", "b", "c", "d", "e"} {
		if _, err := s.Publish(ctx, []byte(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []string
	consume := func(afterSeq uint64) <-chan struct{} {
		cctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		done, err := s.ConsumeBatch(cctx, "c", afterSeq, stream.BatchOptions{DeadLetter: unexpectedDeadLetter(t), ResetCheckEvery: 50 * time.Millisecond},
			func(_ context.Context, msgs []stream.Message) error {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					got = append(got, string(m.Data))
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return done
	}
	has := func(bodies ...string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, b := range bodies {
				if !slices.Contains(got, b) {
					return false
				}
			}
			return true
		}
	}
	consume(2)
	testutil.Eventually(t, 10*time.Second, "c, d, e consumed", has("c", "d", "e"))

	nats.Stop()
	nats.WipeStore()
	nats.Restart()
	// Each attempt has its own limit, as the outbox's do: a request sent
	// while the client was still reconnecting can go unanswered, and must
	// not use up the whole deadline.
	deadline := time.Now().Add(45 * time.Second)
	for _, body := range []string{"after1", "after2"} {
		for {
			attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := s.Publish(attemptCtx, []byte(body), nil)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("publish after the store was lost: %v", err)
			}
		}
	}
	testutil.Eventually(t, 20*time.Second, "messages of the new stream consumed", has("after1", "after2"))

	// A consumer starting at a position beyond the new stream's end.
	mu.Lock()
	got = nil
	mu.Unlock()
	consume(5)
	testutil.Eventually(t, 10*time.Second, "new stream consumed from its start", has("after1", "after2"))
}
