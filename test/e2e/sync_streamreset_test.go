package e2e

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestSyncSurvivesStreamReset: the server's streams are deleted on its
// (external) NATS, as when NATS loses its store; messages sent afterwards
// still reach /sync: the streams are created again and the consumers,
// whose positions now lie beyond the new streams' ends, read them from
// their start instead of silently skipping them.
func TestSyncSurvivesStreamReset(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst, nats := startOnExternalNATS(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		syncSend(t, alice, room, "before the reset")
		since := syncUntil(t, bob, "", 20*time.Second, func(r *mautrix.RespSync) bool {
			jr, ok := r.Rooms.Join[room]
			return ok && slices.Contains(syncBodies(jr.Timeline.Events), "before the reset")
		})

		ctx := context.Background()
		other, err := stream.Connect(ctx, stream.Config{URLs: []string{nats.URL()}, Prefix: inst.Cfg.NATS.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.DeleteStreams(ctx); err != nil {
			t.Fatal(err)
		}
		other.Close()

		syncSend(t, alice, room, "after the reset")
		syncUntil(t, bob, since, 30*time.Second, func(r *mautrix.RespSync) bool {
			jr, ok := r.Rooms.Join[room]
			return ok && slices.Contains(syncBodies(jr.Timeline.Events), "after the reset")
		})
	})
}

// TestAccountDataReplayedAfterStreamReset: an account-data change
// published just before the server's (external) NATS lost its streams is
// published again on the new stream (the userapi outbox retains
// published rows), so a consumer that starts over on the new stream still
// gets it, and /sync shows it and the change made after the reset.
func TestAccountDataReplayedAfterStreamReset(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst, nats := startOnExternalNATS(t, opts)
		alice := inst.Register("alice", "password123")
		ctx := context.Background()
		since := syncOnce(t, alice, "", 0, "").NextBatch
		must(t, alice.SetAccountData(ctx, "org.example.before", map[string]int{"n": 1}))

		other, err := stream.Connect(ctx, stream.Config{URLs: []string{nats.URL()}, Prefix: inst.Cfg.NATS.Prefix})
		must(t, err)
		defer other.Close()
		must(t, other.DeleteStreams(ctx))
		must(t, alice.SetAccountData(ctx, "org.example.after", map[string]int{"n": 2}))

		// The new stream holds the change made before the reset again.
		st, err := other.Stream(ctx, stream.AccountData, 0, 0)
		must(t, err)
		var mu sync.Mutex
		var seen [][]byte
		readCtx, stop := context.WithCancel(ctx)
		defer stop()
		noDeadLetters := func(context.Context, stream.Message, error) error { return nil } // the handler never fails
		_, err = st.Consume(readCtx, "test-reset-reader", 0, noDeadLetters, func(_ context.Context, m stream.Message) error {
			mu.Lock()
			seen = append(seen, m.Data)
			mu.Unlock()
			return nil
		})
		must(t, err)
		testutil.Eventually(t, 20*time.Second, "the pre-reset account data on the new stream", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return slices.ContainsFunc(seen, func(d []byte) bool { return bytes.Contains(d, []byte("org.example.before")) })
		})

		got := map[string]bool{}
		syncUntil(t, alice, since, 30*time.Second, func(r *mautrix.RespSync) bool {
			for _, ev := range r.AccountData.Events {
				got[ev.Type.Type] = true
			}
			return got["org.example.before"] && got["org.example.after"]
		})
	})
}

// startOnExternalNATS starts a server on a NATS of its own, which the
// test can then wipe.
func startOnExternalNATS(t *testing.T, opts testserver.Options) (*testserver.Instance, *natstest.Server) {
	t.Helper()
	nats := natstest.Start(t)
	opts.Configure = func(cfg *config.Config) { cfg.NATS.URLs = []string{nats.URL()} }
	return testserver.Start(t, opts), nats
}
