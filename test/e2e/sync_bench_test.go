package e2e

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// Speed is measured here and by cmd/axon-bench (sync-latency,
// initial-sync), never asserted in tests: figures go to
// docs/performance.md.
//
//	go test -run '^$' -bench 'BenchmarkSync' -benchtime 200x ./test/e2e/

// BenchmarkSyncDelivery: time from the start of a send to the response of
// a long-poll that was already parked when the send began (loopback, the
// send request included), p50 and p99 over b.N messages.
func BenchmarkSyncDelivery(b *testing.B) {
	inst := testserver.Start(b, testserver.Options{Backend: benchBackend()})
	reportSyncDelivery(b, inst)
}

// reportSyncDelivery measures send → response of bob's parked long-poll
// on inst, b.N times, and reports p50/p99.
func reportSyncDelivery(b *testing.B, inst *testserver.Instance) {
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	room := syncRoom(b, alice, bob)
	since := syncOnce(b, bob, "", 0, "").NextBatch
	lat := make([]time.Duration, 0, b.N)
	pg := startPGPhase(b, inst) // with AXON_PG_TRACE: round trips per message
	b.ResetTimer()
	for range b.N {
		type result struct {
			resp *mautrix.RespSync
			err  error
			at   time.Time
		}
		done := make(chan result, 1)
		go func() {
			resp, err := bob.SyncRequest(syncCtx, 30000, since, "", false, "")
			done <- result{resp, err, time.Now()}
		}()
		testutil.Eventually(b, 10*time.Second, "the long-poll to park", func() bool { return parkedLongPolls(b) == 1 })
		start := time.Now()
		syncSend(b, alice, room, "ping")
		r := <-done
		if r.err != nil {
			b.Fatal(r.err)
		}
		if got := syncBodies(r.resp.Rooms.Join[room].Timeline.Events); len(got) != 1 {
			b.Fatalf("woken sync has %v", got)
		}
		since = r.resp.NextBatch
		lat = append(lat, r.at.Sub(start))
	}
	b.StopTimer()
	pg.report(b, b.N)
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSyncInitialManyRooms: one initial /sync of a user in
// AXON_BENCH_ROOMS rooms (default 500).
func BenchmarkSyncInitialManyRooms(b *testing.B) {
	rooms := envInt("AXON_BENCH_ROOMS", 500)
	inst := testserver.Start(b, testserver.Options{Backend: benchBackend()})
	carol := inst.Register("carol", "password123")
	for i := range rooms {
		r, err := carol.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{})
		if err != nil {
			b.Fatal(err)
		}
		if i%50 == 0 {
			syncSend(b, carol, r.RoomID, fmt.Sprintf("hello %d", i))
		}
	}
	syncOnce(b, carol, "", 0, `{"room":{"timeline":{"limit":1}}}`) // warm up, read-your-writes
	b.ResetTimer()
	for range b.N {
		if n := len(syncOnce(b, carol, "", 0, "").Rooms.Join); n != rooms {
			b.Fatalf("initial sync has %d rooms, want %d", n, rooms)
		}
	}
}

// benchBackend is AXON_BENCH_BACKEND ("postgres"; SQLite when unset).
func benchBackend() string { return os.Getenv("AXON_BENCH_BACKEND") }
