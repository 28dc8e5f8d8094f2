package e2e

import (
	"sort"
	"testing"
	"time"

	"github.com/axon-hs/axon/server/testserver"
	"maunium.net/go/mautrix"
)

// TestSyncPerformance checks the budgets on loopback SQLite:
// send→sync delivery p99 and an initial sync in 500 rooms.
func TestSyncPerformance(t *testing.T) {
	if testing.Short() {
		t.Skip("performance test")
	}
	inst := testserver.Start(t, testserver.Options{Backend: "sqlite"})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	room := syncRoom(t, alice, bob)
	since := syncOnce(t, bob, "", 0, "").NextBatch

	// Delivery latency: bob long-polls, alice sends; time from send
	// start to bob's response.
	var lat []time.Duration
	for i := 0; i < 200; i++ {
		got := make(chan time.Time, 1)
		var next string
		go func() {
			resp, err := bob.SyncRequest(syncCtx, 10000, since, "", false, "")
			if err == nil {
				next = resp.NextBatch
			}
			got <- time.Now()
		}()
		time.Sleep(2 * time.Millisecond)
		start := time.Now()
		syncSend(t, alice, room, "ping")
		end := <-got
		since = next
		lat = append(lat, end.Sub(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("send→sync delivery (incl. send request): p50 %s p99 %s", p50, p99)
	if p99 > 25*time.Millisecond {
		t.Errorf("p99 delivery %s", p99)
	}

	// Initial sync for a user in 500 rooms.
	carol := inst.Register("carol", "password123")
	for i := 0; i < 500; i++ {
		r, err := carol.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{})
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			syncSend(t, carol, r.RoomID, "hello")
		}
	}
	syncOnce(t, carol, "", 0, `{"room":{"timeline":{"limit":1}}}`) // catch up
	best := time.Hour
	for i := 0; i < 3; i++ {
		start := time.Now()
		resp := syncOnce(t, carol, "", 0, "")
		if n := len(resp.Rooms.Join); n != 500 {
			t.Fatalf("initial sync has %d rooms", n)
		}
		best = min(best, time.Since(start))
	}
	t.Logf("initial sync in 500 rooms: %s", best)
	if best > 500*time.Millisecond {
		t.Errorf("initial sync took %s", best)
	}
}
