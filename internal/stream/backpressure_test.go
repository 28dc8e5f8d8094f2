package stream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
)

// TestWaitForConsumers: a producer waiting for the local consumers is
// held while one of them is more than maxLag messages behind, and let go
// once it catches up.
func TestWaitForConsumers(t *testing.T) {
	ctx := context.Background()
	s := openStream(t, stream.Config{StoreDir: t.TempDir(), Prefix: fmt.Sprintf("bp%d", time.Now().UnixNano())}, "bp")
	release := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := s.ConsumeBatch(cctx, "slow", 0, stream.BatchOptions{MaxMessages: 1, DeadLetter: unexpectedDeadLetter(t)}, func(ctx context.Context, msgs []stream.Message) error {
		if msgs[0].Seq == 1 {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := s.Publish(ctx, []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	if err := s.WaitForConsumers(short, 5); err == nil {
		t.Fatal("producer not held while the consumer is 10 messages behind")
	}
	close(release)
	wait, stop2 := context.WithTimeout(ctx, 20*time.Second)
	defer stop2()
	if err := s.WaitForConsumers(wait, 5); err != nil {
		t.Fatalf("producer still held after the consumer caught up: %v", err)
	}
}
