package stream_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
)

// busConfigs returns the embedded server and, unless AXON_SKIP_NATS=1, the
// real NATS server on 127.0.0.1:4222 (each test on its own prefix).
func busConfigs(t *testing.T) map[string]stream.Config {
	prefix := fmt.Sprintf("axontest%d", time.Now().UnixNano())
	out := map[string]stream.Config{
		"embedded": {StoreDir: t.TempDir(), Prefix: prefix},
	}
	if os.Getenv("AXON_SKIP_NATS") != "1" {
		url := os.Getenv("AXON_TEST_NATS")
		if url == "" {
			url = "nats://127.0.0.1:4222"
		}
		out["external"] = stream.Config{URLs: []string{url}, Prefix: prefix, InMemory: true}
	}
	return out
}

func TestPublishConsumeResume(t *testing.T) {
	for name, cfg := range busConfigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			bus, err := stream.Connect(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := bus.Stream(ctx, "test", time.Hour, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 10; i++ {
				seq, err := s.Publish(ctx, []byte(fmt.Sprint(i)), nil)
				if err != nil {
					t.Fatal(err)
				}
				if seq != uint64(i) {
					t.Fatalf("seq = %d, want %d", seq, i)
				}
			}
			// A consumer that has applied up to 4 resumes at 5, and a
			// failing handler is retried, not skipped.
			var mu sync.Mutex
			var got []string
			failedOnce := false
			cctx, cancel := context.WithCancel(ctx)
			done, err := s.Consume(cctx, "c", 4, unexpectedDeadLetter(t), func(ctx context.Context, m stream.Message) error {
				mu.Lock()
				defer mu.Unlock()
				if string(m.Data) == "7" && !failedOnce {
					failedOnce = true
					return fmt.Errorf("transient")
				}
				got = append(got, string(m.Data))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			testutil.Within(10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 6 })
			cancel()
			<-done
			want := []string{"5", "6", "7", "8", "9", "10"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			last, err := s.LastSeq(ctx)
			if err != nil || last != 10 {
				t.Fatalf("LastSeq = %d, %v", last, err)
			}
			if err := bus.DeleteStreams(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.LastSeq(ctx); err == nil {
				t.Fatal("stream still exists after DeleteStreams")
			}
			bus.Close()
		})
	}
}

// TestPublishBatch: pipelined publishes keep their order and the
// Nats-Msg-Id header de-duplicates a re-sent batch.
func TestPublishBatch(t *testing.T) {
	ctx := context.Background()
	bus, err := stream.Connect(ctx, stream.Config{StoreDir: t.TempDir(), Prefix: "batchtest"})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	s, err := bus.Stream(ctx, "b", time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []stream.OutMsg
	for i := 0; i < 100; i++ {
		msgs = append(msgs, stream.OutMsg{Data: []byte(fmt.Sprint(i)), Headers: map[string]string{"Nats-Msg-Id": fmt.Sprint("m", i)}})
	}
	for range 2 { // the second time everything is a duplicate
		if n, err := s.PublishBatch(ctx, msgs); err != nil || n != 100 {
			t.Fatalf("PublishBatch = %d, %v", n, err)
		}
	}
	if last, err := s.LastSeq(ctx); err != nil || last != 100 {
		t.Fatalf("LastSeq = %d, %v; want 100 (duplicates dropped)", last, err)
	}
	var got []string
	cctx, cancel := context.WithCancel(ctx)
	done, err := s.Consume(cctx, "c", 0, unexpectedDeadLetter(t), func(_ context.Context, m stream.Message) error {
		got = append(got, string(m.Data))
		if len(got) == 100 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cancel()
		<-done
	}
	for i, g := range got {
		if g != fmt.Sprint(i) {
			t.Fatalf("message %d = %s: order lost", i, g)
		}
	}
	if len(got) != 100 {
		t.Fatalf("consumed %d messages", len(got))
	}
}
