package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
)

// unexpectedDeadLetter fails a test that expects every message applied.
func unexpectedDeadLetter(t *testing.T) stream.DeadLetterFunc {
	return func(_ context.Context, msg stream.Message, cause error) error {
		t.Errorf("message %d dead-lettered: %v", msg.Seq, cause)
		return nil
	}
}

// openStream connects to cfg and opens the named stream; the bus is
// closed and its streams deleted when the test ends.
func openStream(t *testing.T, cfg stream.Config, name string) *stream.Stream {
	t.Helper()
	ctx := context.Background()
	bus, err := stream.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bus.DeleteStreams(ctx) // the external server is shared
		bus.Close()
	})
	s, err := bus.Stream(ctx, name, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
