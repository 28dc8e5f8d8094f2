package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/server/testserver"
)

// BenchmarkFederationJoinBigRoom measures a server joining a big room
// over federation: A's room gets AXON_BENCH_MEMBERS members of B
// (default 10,000) and AXON_BENCH_STATE more state events (default
// 10,000), built by the test as B's signed PDUs and sent to A over
// /send; then each iteration starts a fresh server C whose user joins
// through A (make_join, send_join with all that state and its auth
// chain); B is stopped first, and C has A as its notary for B's key.
// Reported: time to the /join response, to the room in C's
// /sync, the process's peak RSS growth meanwhile (A answering and C
// joining both run in this process) and its CPU per join.
func BenchmarkFederationJoinBigRoom(b *testing.B) {
	ctx := context.Background()
	members, stateN := envInt("AXON_BENCH_MEMBERS", 10000), envInt("AXON_BENCH_STATE", 10000)
	opts := testserver.Options{Backend: benchBackend()}
	a, bs := fedStart(b, opts, "127.0.0.1"), fedStart(b, opts, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), bs.Register("bob", "password123")
	room := roomsCreate(b, alice, &mautrix.ReqCreateRoom{Preset: "public_chat",
		PowerLevelOverride: &event.PowerLevelsEventContent{Users: map[id.UserID]int{alice.UserID: 100, bob.UserID: 100}}})
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		b.Fatalf("bob joins: %v", err)
	}
	chain := newFedChain(b, a, bs, room, bob.UserID.String())
	as := newFedSyncer(b, alice)
	as.once(0)
	start := time.Now()
	pdus := make([]json.RawMessage, 0, members+stateN)
	for i := range members {
		user := fmt.Sprintf("@m%d:%s", i, bs.Cfg.ServerName)
		pdus = append(pdus, chain.build(b, user, "m.room.member", &user, chain.joinAuth, map[string]string{"membership": "join"}))
	}
	for i := range stateN {
		key := strconv.Itoa(i)
		pdus = append(pdus, chain.build(b, chain.sender, "org.axon.bench", &key, chain.auth, map[string]int{"i": i}))
	}
	fedSendAll(b, a, bs, fmt.Sprintf("bigroom-%d", start.UnixNano()), pdus)
	b.Logf("set-up: %d members and %d state events sent to A in %s", members, stateN, time.Since(start).Round(time.Millisecond))
	// A's syncapi applies the set-up behind its roomserver (up to ~100
	// outputs, each O(state) in a big room): wait for it, or the join
	// would be measured with that backlog.
	as.until(30*time.Minute, "A's /sync has the set-up's last event", func() bool {
		return slices.ContainsFunc(as.events[room], func(ev *event.Event) bool { return ev.ID.String() == chain.prev })
	})
	b.Logf("A's syncapi caught up %s after the set-up began", time.Since(start).Round(time.Millisecond))
	// B never saw the events the test built for it: left running, it
	// would fetch the whole room from A when C's join reaches it, and
	// that catch-up would be measured with the join. C gets B's key from
	// A as its notary instead.
	bs.Stop()
	copts := opts
	copts.Configure = func(cfg *config.Config) {
		testserver.FederatedAt(b, "127.0.0.3")(cfg)
		cfg.Federation.TrustedKeyServers = []string{a.Cfg.ServerName}
	}

	var joinTotal, syncTotal, cpuTotal time.Duration
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := testserver.Start(b, copts)
		carol := c.Register("carol", "password123")
		herdResetPeakRSS()
		rss0 := herdRSS()
		b.StartTimer()
		stopProfile, stopHeap := phaseProfile(b), peakHeapProfile(b)
		cpu0, start := processCPU(b), time.Now()
		if _, err := carol.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			b.Fatalf("join: %v", err)
		}
		joinTotal += time.Since(start)
		cs := newFedSyncer(b, carol)
		cs.until(5*time.Minute, "room in C's sync", func() bool { return cs.membershipOf(room, carol.UserID) == "join" })
		syncTotal += time.Since(start)
		cpuTotal += processCPU(b) - cpu0
		peak = max(peak, herdPeakRSS()-rss0)
		b.StopTimer()
		stopProfile()
		stopHeap()
		// C must hold the room's whole state, not a join that dropped
		// what it could not verify.
		for _, k := range []int{0, members - 1} {
			user := fmt.Sprintf("@m%d:%s", k, bs.Cfg.ServerName)
			m, _, err := c.Server.Rooms.QueryMembership(ctx, matrixid.RoomID(room.String()), matrixid.UserID(user))
			if err != nil || m != "join" {
				b.Fatalf("C sees %s as %q (%v)", user, m, err)
			}
		}
		c.Stop()
	}
	n := float64(b.N)
	b.ReportMetric(joinTotal.Seconds()/n, "s-to-join")
	b.ReportMetric(syncTotal.Seconds()/n, "s-to-sync")
	b.ReportMetric(cpuTotal.Seconds()/n, "cpu-s/join")
	b.ReportMetric(float64(peak>>20), "peak-RSS-growth-MB")
	b.ReportMetric(0, "ns/op")
}
