package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/server/testserver"
)

// BenchmarkFederationIngest measures how fast A absorbs PDUs over
// /_matrix/federation/v1/send: bob of B has joined AXON_BENCH_ROOMS rooms
// of A (default 8); the test builds b.N messages from bob, signed with
// B's key, as one linear chain per room, and B's federation client sends
// them to A in transactions of 50, from AXON_BENCH_STREAMS concurrent
// streams (default 4; each room belongs to one stream, so its events
// arrive in order). A fetches B's key through /key/v2/server as for any
// sender. Reported: events/s until the last 200 of /send, and the
// process's CPU per event (A's work, plus B's request signing and both
// TLS ends; the PDUs are built before the timer) until /send and until
// A's syncapi has every event.
func BenchmarkFederationIngest(b *testing.B) {
	ctx := context.Background()
	rooms, streams := envInt("AXON_BENCH_ROOMS", 8), envInt("AXON_BENCH_STREAMS", 4)
	opts := testserver.Options{Backend: benchBackend()}
	a, bs := fedStart(b, opts, "127.0.0.1"), fedStart(b, opts, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), bs.Register("bob", "password123")
	chains := make([]*fedChain, rooms)
	for i := range chains {
		room := roomsCreate(b, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			b.Fatalf("bob joins: %v", err)
		}
		chains[i] = newFedChain(b, a, bs, room, bob.UserID.String())
	}
	// Each stream's transactions, built and signed before the timer.
	perRoom := max(b.N/rooms, 1)
	txns := make([][][]json.RawMessage, streams)
	for s := range streams {
		var mine []*fedChain
		for i := s; i < rooms; i += streams {
			mine = append(mine, chains[i])
		}
		if len(mine) == 0 {
			continue
		}
		share := max(maxTxnPDUsBench/len(mine), 1)
		for sent := 0; sent < perRoom; sent += share {
			var pdus []json.RawMessage
			for _, c := range mine {
				for k := sent; k < min(sent+share, perRoom); k++ {
					pdus = append(pdus, c.next(b, fmt.Sprintf("message %d", k)))
				}
			}
			txns[s] = append(txns[s], pdus)
		}
	}
	total := perRoom * rooms

	stopProfile := phaseProfile(b)
	pg := startPGPhase(b, a)
	cpu0, start := processCPU(b), time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	for s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k, pdus := range txns[s] {
				resp, err := bs.Server.Fed.Client.SendTransaction(ctx, gomatrixserverlib.Transaction{
					TransactionID: gomatrixserverlib.TransactionID(fmt.Sprintf("ingest-%d-%d-%d", start.UnixNano(), s, k)),
					Origin:        spec.ServerName(bs.Cfg.ServerName), Destination: spec.ServerName(a.Cfg.ServerName),
					OriginServerTS: spec.AsTimestamp(time.Now()), PDUs: pdus,
				})
				if err != nil {
					b.Errorf("send: %v", err)
					return
				}
				for eventID, r := range resp.PDUs {
					if r.Error != "" {
						b.Errorf("%s refused: %s", eventID, r.Error)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	acked, cpuAcked := time.Since(start), processCPU(b)-cpu0
	if b.Failed() {
		b.FailNow()
	}
	for _, c := range chains {
		testutil.Eventually(b, 5*time.Minute, "last event in A's syncapi", func() bool {
			_, err := alice.GetEvent(ctx, c.room, id.EventID(c.prev))
			return err == nil
		})
	}
	b.StopTimer()
	stopProfile()
	cpuDrained := processCPU(b) - cpu0
	b.ReportMetric(float64(total)/acked.Seconds(), "events/s")
	b.ReportMetric(float64(cpuAcked.Microseconds())/float64(total), "cpu-µs/event")
	b.ReportMetric(float64(cpuDrained.Microseconds())/float64(total), "cpu-µs/event-synced")
	b.ReportMetric(0, "ns/op")
	pg.report(b, total)
}

// maxTxnPDUsBench is the spec's bound on PDUs per transaction.
const maxTxnPDUsBench = 50

// fedChain authors events of B's users into one room of A as a linear
// chain, signed with B's key.
type fedChain struct {
	room   id.RoomID
	ver    gomatrixserverlib.IRoomVersion
	sender string
	// auth: the current state events that authorise the sender's
	// messages (create, power levels, the sender's membership) and a
	// new member's join (create, power levels, join rules).
	auth, joinAuth []string
	prev           string
	depth          int64
	origin         spec.ServerName
	keyID          gomatrixserverlib.KeyID
	key            ed25519.PrivateKey
}

func newFedChain(t testing.TB, a, b *testserver.Instance, room id.RoomID, sender string) *fedChain {
	ctx := context.Background()
	rid := matrixid.RoomID(room.String())
	testutil.Eventually(t, 20*time.Second, "sender joined on A", func() bool {
		m, _, err := a.Server.Rooms.QueryMembership(ctx, rid, matrixid.UserID(sender))
		must(t, err)
		return m == "join"
	})
	c := &fedChain{room: room, sender: sender,
		origin: spec.ServerName(b.Cfg.ServerName), keyID: gomatrixserverlib.KeyID(b.Cfg.KeyID), key: b.Cfg.SigningKey}
	c.refresh(t, a)
	return c
}

// refresh reads the chain's tip and auth events from A's current state.
func (c *fedChain) refresh(t testing.TB, a *testserver.Instance) {
	ctx := context.Background()
	rid := matrixid.RoomID(c.room.String())
	state, err := a.Server.Rooms.QueryCurrentState(ctx, rid, []rsapi.StateKey{
		{Type: "m.room.create"}, {Type: "m.room.power_levels"}, {Type: "m.room.member", StateKey: c.sender}, {Type: "m.room.join_rules"}})
	must(t, err)
	byType := map[string]string{}
	for _, e := range state {
		byType[e.Type()] = e.EventID()
		c.ver = gomatrixserverlib.MustGetRoomVersion(e.Version())
	}
	c.auth = []string{byType["m.room.create"], byType["m.room.power_levels"], byType["m.room.member"]}
	c.joinAuth = []string{byType["m.room.create"], byType["m.room.power_levels"], byType["m.room.join_rules"]}
	prev, err := a.Server.Rooms.QueryForwardExtremities(ctx, rid)
	must(t, err)
	if len(prev) != 1 {
		t.Fatalf("room has %d forward extremities", len(prev))
	}
	evs, err := a.Server.Rooms.QueryEvents(ctx, []matrixid.EventID{prev[0]})
	must(t, err)
	if len(evs) != 1 {
		t.Fatal("forward extremity not found")
	}
	c.prev, c.depth = string(prev[0]), evs[0].Depth()
}

// next builds the chain's next message from the sender.
func (c *fedChain) next(t testing.TB, body string) json.RawMessage {
	return c.build(t, c.sender, "m.room.message", nil, c.auth, map[string]string{"msgtype": "m.text", "body": body})
}

// build appends an event to the chain.
func (c *fedChain) build(t testing.TB, sender, evType string, stateKey *string, auth []string, content any) json.RawMessage {
	c.depth++
	builder := c.ver.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{SenderID: sender, RoomID: c.room.String(),
		Type: evType, StateKey: stateKey, PrevEvents: []string{c.prev}, AuthEvents: auth, Depth: c.depth})
	must(t, builder.SetContent(content))
	ev, err := builder.Build(time.Now(), c.origin, c.keyID, c.key)
	must(t, err)
	c.prev = ev.EventID()
	return ev.JSON()
}

// phaseProfile writes a CPU profile of the measured phase alone to
// $AXON_BENCH_CPUPROFILE, when set (go test's -cpuprofile also covers
// the set-up); it returns the function that ends it.
func phaseProfile(t testing.TB) func() {
	path := os.Getenv("AXON_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	must(t, err)
	must(t, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		must(t, f.Close())
	}
}

// processCPU is this process's user + system CPU time so far.
func processCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	must(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fedSendAll sends pdus from B to A in order, in transactions of at most
// 50, and fails on any PDU A refuses.
func fedSendAll(t testing.TB, a, b *testserver.Instance, txnPrefix string, pdus []json.RawMessage) {
	ctx := context.Background()
	for k := 0; k*maxTxnPDUsBench < len(pdus); k++ {
		chunk := pdus[k*maxTxnPDUsBench : min((k+1)*maxTxnPDUsBench, len(pdus))]
		resp, err := b.Server.Fed.Client.SendTransaction(ctx, gomatrixserverlib.Transaction{
			TransactionID: gomatrixserverlib.TransactionID(fmt.Sprintf("%s-%d", txnPrefix, k)),
			Origin:        spec.ServerName(b.Cfg.ServerName), Destination: spec.ServerName(a.Cfg.ServerName),
			OriginServerTS: spec.AsTimestamp(time.Now()), PDUs: chunk,
		})
		must(t, err)
		for eventID, r := range resp.PDUs {
			if r.Error != "" {
				t.Fatalf("%s refused: %s", eventID, r.Error)
			}
		}
	}
}
