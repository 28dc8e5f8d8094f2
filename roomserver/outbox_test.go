package roomserver

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/setup"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/storage"
)

// downPublisher is a log that is unreachable.
type downPublisher struct{ calls atomic.Int64 }

func (p *downPublisher) Publish(context.Context, []byte, map[string]string) (uint64, error) {
	p.calls.Add(1)
	return 0, errors.New("nats: no servers available")
}

// TestOutboxSurvivesLogOutage: events committed while the log is down are
// answered, kept in the outbox, and published in order on the next start.
func TestOutboxSurvivesLogOutage(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.NewDSN(t)
			rs, pub := newTestServer(t, dsn)
			roomID := createTestRoom(t, rs, "@alice:"+testServer, "10", "public")
			before := len(pub.outputs())

			// Swap in a dead log and send: the caller is answered (the
			// event is committed), the worker keeps retrying the publish
			// until Close, and the output stays in the outbox.
			down := &downPublisher{}
			rs.out = down
			rs.answerAfter = 50 * time.Millisecond
			res := send(t, rs, local(roomID, "@alice:"+testServer, "m.room.message", nil, map[string]any{"body": "while down", "msgtype": "m.text"}))
			if res.Err != nil {
				t.Fatalf("send: %v", res.Err)
			}
			for down.calls.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			rs.Close()

			// A new roomserver on the same database replays the outbox.
			ctx := context.Background()
			db, err := istorage.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			pending, err := storage.New(db).PendingOutbox(ctx)
			if err != nil || len(pending) == 0 {
				t.Fatalf("outbox after outage: %d rows, %v", len(pending), err)
			}
			pub2 := &memPublisher{}
			cfg := config.Defaults()
			cfg.ServerName = testServer
			cfg.SigningKey, cfg.KeyID = rs.key, string(rs.keyID)
			rs2 := newRoomServer(&setup.Base{Cfg: cfg}, storage.New(db), pub2)
			defer rs2.Close()
			if err := rs2.replayOutbox(ctx); err != nil {
				t.Fatal(err)
			}
			var replayed []string
			for _, o := range pub2.outputs() {
				if o.NewRoomEvent != nil {
					replayed = append(replayed, o.NewRoomEvent.EventID)
				}
			}
			// Only the unacknowledged output is replayed, not the room's
			// earlier (acknowledged) ones.
			if len(replayed) != 1 || replayed[0] != res.EventID {
				t.Fatalf("sent %s while down, replayed %v (%d outputs were acknowledged before)", res.EventID, replayed, before)
			}
			if left, _ := storage.New(db).PendingOutbox(ctx); len(left) != 0 {
				// cleaned asynchronously; Close flushes
				rs2.Close()
				if left, _ = storage.New(db).PendingOutbox(ctx); len(left) != 0 {
					t.Fatalf("%d outbox rows left after replay", len(left))
				}
			}
		})
	}
}
