package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// BenchmarkAppserviceDelivery: events sent by AXON_BENCH_SENDERS users
// (default 8), each in a room of their own, reach a bridge interested in
// every room; reports events/s reaching the bridge and the delay from
// send to the bridge receiving each event (p50/p99).
func BenchmarkAppserviceDelivery(b *testing.B) {
	br := newTestBridge(b, "bench", func(reg *appserviceRegistration) {
		reg.Namespaces.RoomIDs = append(reg.Namespaces.RoomIDs, appserviceNamespace{Regex: "!.*"})
	})
	inst := startWithBridges(b, testserver.Options{Backend: benchBackend()}, nil, br)
	senders := envInt("AXON_BENCH_SENDERS", 8)
	type user struct {
		c    *mautrix.Client
		room id.RoomID
	}
	users := make([]user, senders)
	for i := range users {
		c := inst.Register(fmt.Sprintf("sender%d", i), "password123")
		users[i] = user{c, syncRoom(b, c)}
	}
	sent := make([]time.Time, b.N)
	errs := make(chan error, senders)
	b.ResetTimer()
	start := time.Now()
	for w, u := range users {
		go func() {
			for i := w; i < b.N; i += senders {
				sent[i] = time.Now()
				if _, err := u.c.SendText(syncCtx, u.room, fmt.Sprintf("bench %d", i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range senders {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	testutil.Eventually(b, 5*time.Minute, "all events at the bridge", func() bool { return len(br.bodies("bench ")) >= b.N })
	elapsed := time.Since(start)
	b.StopTimer()
	var delays []time.Duration
	seen := map[string]bool{}
	for _, txn := range br.txnsCopy() {
		if seen[txn.ID] {
			continue
		}
		seen[txn.ID] = true
		for _, raw := range txn.Events {
			var i int
			if _, err := fmt.Sscanf(string(raw[indexBody(raw):]), "bench %d", &i); err == nil && i < b.N {
				delays = append(delays, txn.Received.Sub(sent[i]))
			}
		}
	}
	slices.Sort(delays)
	if len(delays) == 0 {
		b.Fatal("no delays measured")
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99_ms")
}

// indexBody finds the body's value in a raw event ("body":"…).
func indexBody(raw []byte) int {
	for i := 0; i+8 <= len(raw); i++ {
		if string(raw[i:i+8]) == `"body":"` {
			return i + 8
		}
	}
	return len(raw)
}

// BenchmarkSyncDeliveryWithBridge is BenchmarkSyncDelivery with a bridge
// interested in every room, up (receiving each event) or down (its queue
// grows, Axon retries with backoff): /sync must not wait for either.
func BenchmarkSyncDeliveryWithBridge(b *testing.B) {
	for _, down := range []bool{false, true} {
		name := map[bool]string{false: "up", true: "down"}[down]
		b.Run(name, func(b *testing.B) {
			br := newTestBridge(b, "bench", func(reg *appserviceRegistration) {
				reg.Namespaces.RoomIDs = append(reg.Namespaces.RoomIDs, appserviceNamespace{Regex: "!.*"})
			})
			inst := startWithBridges(b, testserver.Options{Backend: benchBackend()}, nil, br)
			if down {
				br.stop()
			}
			reportSyncDelivery(b, inst)
		})
	}
}
