package roomserver

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// must fails the test on a set-up error.
var must = testutil.Must

// memPublisher records outputs instead of writing to NATS.
type memPublisher struct {
	mu   sync.Mutex
	msgs []api.OutputEvent
}

func (p *memPublisher) Publish(_ context.Context, data []byte, _ map[string]string) (uint64, error) {
	var o api.OutputEvent
	if err := json.Unmarshal(data, &o); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, o)
	return uint64(len(p.msgs)), nil
}

func (p *memPublisher) outputs() []api.OutputEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]api.OutputEvent(nil), p.msgs...)
}

const testServer = "test.local"

func newTestServer(tb testing.TB, dsn string) (*RoomServer, *memPublisher) {
	tb.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.ServerName = testServer
	key, id, err := config.ParseSigningKey(config.NewSigningKey())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.SigningKey, cfg.KeyID = key, id
	db := storagetest.OpenMigrated(tb, dsn, "roomserver", storage.Migrations)
	pub := &memPublisher{}
	rs, err := newRoomServer(ctx, &setup.Base{Cfg: cfg}, storage.New(db), pub)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(rs.Close)
	return rs, pub
}

func strp(s string) *string { return &s }

// local is a LocalEvent input.
func local(roomID, sender, typ string, stateKey *string, content any) api.InputRoomEvent {
	c, _ := json.Marshal(content)
	return api.InputRoomEvent{Kind: api.KindNew, Local: &api.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(sender), Type: matrixid.EventType(typ), StateKey: stateKey, Content: c}}
}

// createTestRoom makes a room with creator joined, power levels and the
// given join rule.
func createTestRoom(tb testing.TB, rs *RoomServer, creator, version, joinRule string) string {
	tb.Helper()
	create := local("", creator, "m.room.create", strp(""), map[string]any{})
	create.Local.RoomVersion = version
	users := map[string]int{creator: 100}
	if matrixrules.FeaturesOf(version).PrivilegedCreators {
		users = map[string]int{} // privileged creators must not be listed
	}
	resp, err := rs.InputRoomEvents(context.Background(), &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{
		create,
		local("", creator, "m.room.member", strp(creator), map[string]any{"membership": "join"}),
		local("", creator, "m.room.power_levels", strp(""), map[string]any{"users": users}),
		local("", creator, "m.room.join_rules", strp(""), map[string]any{"join_rule": joinRule}),
	}})
	if err != nil {
		tb.Fatal(err)
	}
	for i, res := range resp.Results {
		if res.Err != nil {
			tb.Fatalf("create event %d: %v", i, res.Err)
		}
	}
	return string(resp.RoomID)
}

// send inputs one local event and returns its result.
func send(tb testing.TB, rs *RoomServer, ev api.InputRoomEvent) api.InputResult {
	tb.Helper()
	resp, err := rs.InputRoomEvents(context.Background(), &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{ev}})
	if err != nil {
		tb.Fatal(err)
	}
	return resp.Results[0]
}
