package stream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
)

// deadLetters is an in-memory dead-letter store for the machinery tests
// (the SQL one is tested in internal/streampos).
type deadLetters struct {
	mu    sync.Mutex
	seqs  []uint64
	cause []string
}

func (d *deadLetters) record(_ context.Context, msg stream.Message, cause error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seqs = append(d.seqs, msg.Seq)
	d.cause = append(d.cause, cause.Error())
	return nil
}

func (d *deadLetters) get() ([]uint64, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.seqs), slices.Clone(d.cause)
}

// TestPoisonMessageIsDeadLettered: a message the handler can never apply
// is, after bounded retries, handed to the dead-letter store and the
// stream goes on; the batch it arrived in is retried message by message
// so its neighbours are applied; a message marked Poison is dead-lettered
// without retries.
func TestPoisonMessageIsDeadLettered(t *testing.T) {
	for name, cfg := range busConfigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := openStream(t, cfg, "poison")
			for i := 1; i <= 20; i++ {
				body := fmt.Sprint(i)
				switch i {
				case 7:
					body = "poison"
				case 13:
					body = "garbage"
				}
				if _, err := s.Publish(ctx, []byte(body), nil); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			var applied []uint64
			attempts := map[uint64]int{}
			dl := &deadLetters{}
			cctx, cancel := context.WithCancel(ctx)
			opts := stream.BatchOptions{MaxMessages: 8, MaxWait: 50 * time.Millisecond, DeadLetter: dl.record, RetryBackoff: time.Millisecond}
			done, err := s.ConsumeBatch(cctx, "c", 0, opts, func(ctx context.Context, msgs []stream.Message) error {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					switch string(m.Data) {
					case "poison":
						attempts[m.Seq]++
						return errors.New("cannot apply")
					case "garbage":
						attempts[m.Seq]++
						return stream.Poison(errors.New("undecodable"))
					}
				}
				for _, m := range msgs {
					applied = append(applied, m.Seq)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			testutil.Eventually(t, 20*time.Second, "18 messages applied", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(applied) >= 18
			})
			cancel()
			<-done
			want := []uint64{}
			for i := uint64(1); i <= 20; i++ {
				if i != 7 && i != 13 {
					want = append(want, i)
				}
			}
			if fmt.Sprint(applied) != fmt.Sprint(want) {
				t.Fatalf("applied %v, want %v", applied, want)
			}
			seqs, causes := dl.get()
			if fmt.Sprint(seqs) != "[7 13]" || causes[0] != "cannot apply" || causes[1] != "undecodable" {
				t.Fatalf("dead letters %v %v", seqs, causes)
			}
			// Seq 7 was tried in its batch (unless it came alone), then
			// alone MaxAttempts times; seq 13 at most once in its batch
			// and once alone.
			if a := attempts[7]; a < stream.DefaultMaxAttempts || a > stream.DefaultMaxAttempts+1 || attempts[13] > 2 {
				t.Fatalf("attempts %v", attempts)
			}
		})
	}
}

// TestUnreachableComponentIsNotPoison: a handler failing because another
// component cannot be reached (RPC: no responders) is retried past the
// dead-letter bound, and applies once the component is back.
func TestUnreachableComponentIsNotPoison(t *testing.T) {
	ctx := context.Background()
	s := openStream(t, stream.Config{StoreDir: t.TempDir(), Prefix: fmt.Sprintf("unreach%d", time.Now().UnixNano())}, "unreach")
	if _, err := s.Publish(ctx, []byte("m"), nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	tries, applied := 0, false
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := stream.BatchOptions{DeadLetter: unexpectedDeadLetter(t), RetryBackoff: time.Millisecond}
	if _, err := s.ConsumeBatch(cctx, "c", 0, opts, func(context.Context, []stream.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if tries++; tries <= stream.DefaultMaxAttempts+2 {
			return fmt.Errorf("rpc roomserver.QueryEvents: %w", nats.ErrNoResponders)
		}
		applied = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "message applied once the component is back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return applied
	})
}
