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

// waitUntil polls cond until it holds, failing the test after within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
