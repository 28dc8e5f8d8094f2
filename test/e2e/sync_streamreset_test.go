package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/server/testserver"
)

// TestSyncSurvivesStreamReset: the server's streams are deleted on its
// (external) NATS, as when NATS loses its store; messages sent afterwards
// still reach /sync: the streams are created again and the consumers,
// whose positions now lie beyond the new streams' ends, read them from
// their start instead of silently skipping them.
func TestSyncSurvivesStreamReset(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		nats := natstest.Start(t)
		opts.Configure = func(cfg *config.Config) { cfg.NATS.URLs = []string{nats.URL()} }
		inst := testserver.Start(t, opts)
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
