package e2e

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/axon-hs/axon/server/testserver"
)

// BenchmarkPushDelivery measures the delay from sending a message to its
// notify reaching a local push gateway (send, roomserver, syncapi push
// rules, pushserver, HTTP), one message at a time, and reports p50/p99
// (AXON_BENCH_BACKEND=postgres for PostgreSQL).
func BenchmarkPushDelivery(b *testing.B) {
	inst := testserver.Start(b, testserver.Options{Backend: benchBackend(), Configure: allowLoopbackGateways})
	gw := newPushGateway(b)
	gw.arrived = make(chan string, 16)
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	carol := inst.Register("carol", "password1")
	room := syncRoom(b, alice, bob, carol)
	if r := pushSet(b, bob, gw, "bench", nil, nil); r.Status != 200 {
		b.Fatalf("set pusher: %d %v", r.Status, r.Body)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		id := syncSend(b, alice, room, fmt.Sprintf("message %d", i)).String()
		for got := ""; got != id; {
			select {
			case got = <-gw.arrived:
			case <-time.After(30 * time.Second):
				b.Fatalf("notify for %s not within 30s", id)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds()), "p99-µs")
}
