package stream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestConsumeBatch: a backlog arrives in order, in batches no larger than
// the maximum, starting after afterSeq; a failed batch is applied again
// one message at a time, nothing skipped or repeated.
func TestConsumeBatch(t *testing.T) {
	for name, cfg := range busConfigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			bus, err := stream.Connect(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer bus.Close()
			defer func() { _ = bus.DeleteStreams(ctx) }() // the external server is shared
			s, err := bus.Stream(ctx, "batch", time.Hour, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 50; i++ {
				if _, err := s.Publish(ctx, []byte(fmt.Sprint(i)), nil); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			var got []uint64
			biggest, failed := 0, false
			cctx, cancel := context.WithCancel(ctx)
			done, err := s.ConsumeBatch(cctx, "c", 5, stream.BatchOptions{MaxMessages: 8, MaxWait: 20 * time.Millisecond, DeadLetter: unexpectedDeadLetter(t)}, func(ctx context.Context, msgs []stream.Message) error {
				mu.Lock()
				defer mu.Unlock()
				if !failed && len(got) > 10 {
					failed = true
					return errors.New("transient")
				}
				biggest = max(biggest, len(msgs))
				for _, m := range msgs {
					got = append(got, m.Seq)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			testutil.Within(10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 45 })
			cancel()
			<-done
			if len(got) != 45 || biggest > 8 || biggest < 2 || !failed {
				t.Fatalf("got %d messages, biggest batch %d, failed %v", len(got), biggest, failed)
			}
			for i, seq := range got {
				if seq != uint64(i+6) {
					t.Fatalf("message %d has seq %d", i, seq)
				}
			}
		})
	}
}

// TestConsumeBatchBusyWait: messages published concurrently to a
// consumer that lingers under load arrive in order, each once, and a
// message that comes alone after the burst is applied at once, though
// the consumer may wait an hour for more (it waits only while messages
// keep coming).
func TestConsumeBatchBusyWait(t *testing.T) {
	for name, cfg := range busConfigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := openStream(t, cfg, "busy")
			var mu sync.Mutex
			var got []uint64
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			done, err := s.ConsumeBatch(cctx, "c", 0, stream.BatchOptions{MaxMessages: 16, BusyWait: time.Hour, DeadLetter: unexpectedDeadLetter(t)}, func(ctx context.Context, msgs []stream.Message) error {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					got = append(got, m.Seq)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
			const publishers, each = 4, 50
			errs := make(chan error, publishers)
			for p := 0; p < publishers; p++ {
				go func() {
					for i := 0; i < each; i++ {
						if _, err := s.Publish(ctx, []byte("m"), nil); err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
				}()
			}
			for p := 0; p < publishers; p++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			burst := publishers * each
			if !testutil.Within(20*time.Second, func() bool { return count() >= burst }) {
				t.Fatalf("applied %d of %d messages", count(), burst)
			}
			if _, err := s.Publish(ctx, []byte("lone"), nil); err != nil {
				t.Fatal(err)
			}
			if !testutil.Within(10*time.Second, func() bool { return count() == burst+1 }) {
				t.Fatal("a lone message after the burst was held")
			}
			cancel()
			<-done
			mu.Lock()
			defer mu.Unlock()
			for i, seq := range got {
				if seq != uint64(i+1) {
					t.Fatalf("message %d has seq %d", i, seq)
				}
			}
		})
	}
}
