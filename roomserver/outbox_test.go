package roomserver

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/roomserver/storage"
)

// downPublisher is a log that is unreachable.
type downPublisher struct{ calls atomic.Int64 }

func (p *downPublisher) Publish(context.Context, []byte, map[string]string) (uint64, error) {
	p.calls.Add(1)
	return 0, errors.New("nats: no servers available")
}

// TestOutputsSurviveLogOutage: events committed while the log is down are
// answered (after a bounded wait), kept in the outbox, and published in
// order by the next roomserver on the same database.
func TestOutputsSurviveLogOutage(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.NewDSN(t)
			db := storagetest.OpenMigrated(t, dsn, "roomserver", storage.Migrations)
			cfg := config.Defaults()
			cfg.ServerName = testServer
			var err error
			cfg.SigningKey, cfg.KeyID, err = config.ParseSigningKey(config.NewSigningKey())
			must(t, err)

			down := &downPublisher{}
			rs, err := newRoomServer(ctx, &setup.Base{Cfg: cfg}, storage.New(db), down)
			if err != nil {
				t.Fatal(err)
			}
			rs.answerAfter = 50 * time.Millisecond
			roomID := createTestRoom(t, rs, "@alice:"+testServer, "10", "public")
			res := send(t, rs, local(roomID, "@alice:"+testServer, "m.room.message", nil, map[string]any{"body": "while down", "msgtype": "m.text"}))
			if res.Err != nil {
				t.Fatalf("send while the log is down: %v", res.Err)
			}
			if down.calls.Load() == 0 {
				t.Fatal("nothing tried to publish")
			}
			rs.Close()

			// The next start publishes everything, in order, ending with
			// the message.
			pub := &memPublisher{}
			rs2, err := newRoomServer(ctx, &setup.Base{Cfg: cfg}, storage.New(db), pub)
			if err != nil {
				t.Fatal(err)
			}
			defer rs2.Close()
			var ids []string
			testutil.Within(10*time.Second, func() bool {
				ids = ids[:0]
				for _, o := range pub.outputs() {
					if o.NewRoomEvent != nil {
						ids = append(ids, o.NewRoomEvent.EventID)
					}
				}
				return len(ids) > 0 && matrixid.EventID(ids[len(ids)-1]) == res.EventID
			})
			if len(ids) < 5 || matrixid.EventID(ids[len(ids)-1]) != res.EventID {
				t.Fatalf("replayed %v; want the room's events ending with %s", ids, res.EventID)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("event %s published twice on replay", id)
				}
				seen[id] = true
			}
		})
	}
}
