package stream_test

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/stream"
)

// unexpectedDeadLetter fails a test that expects every message applied.
func unexpectedDeadLetter(t *testing.T) stream.DeadLetterFunc {
	return func(_ context.Context, msg stream.Message, cause error) error {
		t.Errorf("message %d dead-lettered: %v", msg.Seq, cause)
		return nil
	}
}
