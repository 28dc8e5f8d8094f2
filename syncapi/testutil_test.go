package syncapi

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/testutil"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/setup"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/notifier"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// must fails the test on a set-up error.
var must = testutil.Must

// newTestSyncAPI builds a SyncAPI on dsn without streams or HTTP, so
// tests feed OutputEvents straight into the consumer.
func newTestSyncAPI(t testing.TB, dsn string) *SyncAPI {
	t.Helper()
	db := storage.New(storagetest.OpenMigrated(t, dsn, "syncapi", storage.Migrations))
	cfg := config.Defaults()
	cfg.ServerName = "test"
	s := &SyncAPI{
		base: &setup.Base{Cfg: cfg, Log: slog.New(slog.DiscardHandler)}, log: slog.New(slog.DiscardHandler), db: db,
		cache: newStateCache(db), push: newPushCache(), ignores: newIgnoreCache(), typing: newTypingState(), presence: newPresenceTracker(), initialSlots: make(chan struct{}, 8),
		sliding: newSlidingConns(), progress: newProgress(), lazy: newLazySent(),
	}
	s.notif = notifier.New(types.StreamToken{}, nil)
	return s
}

// testRoom builds signed room v10 events.
type testRoom struct {
	t       testing.TB
	id      string
	key     ed25519.PrivateKey
	prev    string
	depth   int64
	ts      time.Time
	state   map[[2]string]string
	version gomatrixserverlib.IRoomVersion
	pdus    map[string][]byte
}

func newTestRoom(t testing.TB, id string) *testRoom {
	_, key, _ := ed25519.GenerateKey(nil)
	return &testRoom{t: t, id: id, key: key, ts: time.Now(), state: map[[2]string]string{}, version: gomatrixserverlib.MustGetRoomVersion("10"), pdus: map[string][]byte{}}
}

// event builds the next event and the OutputNewRoomEvent for it.
func (r *testRoom) event(sender, typ string, stateKey *string, content any) *rsapi.OutputNewRoomEvent {
	r.t.Helper()
	c, err := json.Marshal(content)
	must(r.t, err)
	pe := &gomatrixserverlib.ProtoEvent{SenderID: sender, RoomID: r.id, Type: typ, StateKey: stateKey, Content: c, Depth: r.depth + 1}
	if r.prev != "" {
		pe.PrevEvents = []string{r.prev}
	} else {
		pe.PrevEvents = []string{}
	}
	pe.AuthEvents = []string{}
	r.ts = r.ts.Add(time.Millisecond)
	pdu, err := r.version.NewEventBuilderFromProtoEvent(pe).Build(r.ts, spec.ServerName("test"), "ed25519:1", r.key)
	if err != nil {
		r.t.Fatal(err)
	}
	r.prev, r.depth = pdu.EventID(), r.depth+1
	r.pdus[pdu.EventID()] = pdu.JSON()
	out := &rsapi.OutputNewRoomEvent{RoomID: r.id, RoomVersion: "10", EventID: pdu.EventID(), Event: pdu.JSON()}
	if stateKey != nil {
		k := [2]string{typ, *stateKey}
		if old, ok := r.state[k]; ok {
			out.RemovesStateEventIDs = []string{old}
		}
		r.state[k] = pdu.EventID()
		out.AddsStateEventIDs = []string{pdu.EventID()}
	}
	return out
}

func sk(s string) *string { return &s }

// applyNewRoomEvent applies one event as the consumer would at seq.
func (s *SyncAPI) applyNewRoomEvent(ctx context.Context, seq uint64, ore *rsapi.OutputNewRoomEvent) error {
	return s.applyRoomOutputs(ctx, []*rsapi.OutputEvent{{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: ore}}, seq)
}

// applyRedaction applies one redaction as the consumer would at seq.
func (s *SyncAPI) applyRedaction(ctx context.Context, seq uint64, r *rsapi.OutputRedaction) error {
	return s.applyRoomOutputs(ctx, []*rsapi.OutputEvent{{Type: rsapi.OutputTypeRedaction, Redaction: r}}, seq)
}

func (s *SyncAPI) mustApply(t testing.TB, seq uint64, ev *rsapi.OutputNewRoomEvent) {
	t.Helper()
	if err := s.applyNewRoomEvent(context.Background(), seq, ev); err != nil {
		t.Fatal(err)
	}
}

// createRoom applies create, creator join, public join rules and power levels.
func (r *testRoom) create(s *SyncAPI, creator string) {
	r.t.Helper()
	s.mustApply(r.t, 0, r.event(creator, "m.room.create", sk(""), map[string]any{"room_version": "10"}))
	s.mustApply(r.t, 0, r.event(creator, "m.room.member", sk(creator), map[string]any{"membership": "join"}))
	s.mustApply(r.t, 0, r.event(creator, "m.room.power_levels", sk(""), map[string]any{"users": map[string]int{creator: 100}}))
	s.mustApply(r.t, 0, r.event(creator, "m.room.join_rules", sk(""), map[string]any{"join_rule": "public"}))
}

func (r *testRoom) join(s *SyncAPI, user string) {
	s.mustApply(r.t, 0, r.event(user, "m.room.member", sk(user), map[string]any{"membership": "join"}))
}

func (r *testRoom) say(s *SyncAPI, user, body string) string {
	ev := r.event(user, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": body})
	s.mustApply(r.t, 0, ev)
	return ev.EventID
}

func testSync(t testing.TB, s *SyncAPI, user string, since *types.StreamToken, f *types.Filter) *syncResponse {
	t.Helper()
	if f == nil {
		f = &types.Filter{}
	}
	sr := &syncRequest{device: &uapi.Device{UserID: user, ID: "DEV"}, since: since, filter: f}
	resp, _, err := s.buildSync(context.Background(), sr, s.notif.Current())
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// storeReceipts stores receipts in one transaction and moves the receipt
// stream on as the handlers do: /sync trusts that a receipt it has not
// seen the position of has not changed anything.
func storeReceipts(t testing.TB, s *SyncAPI, rs ...storage.Receipt) {
	t.Helper()
	var last types.StreamPosition
	must(t, s.db.DB.WriteTx(context.Background(), func(tx *istorage.Tx) error {
		for _, r := range rs {
			pos, err := s.db.UpsertReceipt(context.Background(), tx, r)
			if err != nil {
				return err
			}
			last = max(last, pos)
		}
		return nil
	}))
	if last > 0 {
		s.notif.WakeRoom(rs[0].RoomID, func(tok *types.StreamToken) { tok.Receipt = last })
	}
}
