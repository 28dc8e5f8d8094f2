package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// Herd sizes from the issue: 300 clients of a room with 500 members and
// 1,000 events all do their initial /sync at once.
const (
	herdMembers = 500
	herdEvents  = 1000
	herdClients = 300
)

// TestHerdInitialSync releases 300 initial /syncs at once and checks every
// response: the room with all 500 members and a limited timeline. What it
// costs (time, peak RSS, heap) is BenchmarkHerdInitialSync's and
// axon-bench herd's to measure, not asserted here.
func TestHerdInitialSync(t *testing.T) {
	if testing.Short() {
		t.Skip("herd test: 500 registrations and 1,000 events")
	}
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		if opts.Backend != "sqlite" && os.Getenv("AXON_HERD_ALL_BACKENDS") == "" {
			t.Skip("set AXON_HERD_ALL_BACKENDS=1 to run the herd on PostgreSQL too")
		}
		clients, room := herdSetup(t, opts)
		r := herdRound(t, clients, room)
		t.Logf("herd: %d syncs in %s (p50 %s, max %s), response %d KB", len(clients),
			r.wall.Round(time.Millisecond), r.p50.Round(time.Millisecond), r.max.Round(time.Millisecond), r.respBytes>>10)
	})
}

// BenchmarkHerdInitialSync: one herd per iteration, with its wall time,
// latencies, the process's peak RSS growth (server and the 300 clients
// share the process) and the live heap left behind after the last herd
// compared with after the first (a leak shows as growth).
//
//	go test -run '^$' -bench BenchmarkHerdInitialSync -benchtime 3x ./test/e2e/
func BenchmarkHerdInitialSync(b *testing.B) {
	clients, room := herdSetup(b, testserver.Options{Backend: benchBackend()})
	var worst herdResult
	var liveAfterFirst int64
	b.ResetTimer()
	for i := range b.N {
		r := herdRound(b, clients, room)
		if r.wall > worst.wall {
			worst.wall, worst.p50, worst.max = r.wall, r.p50, r.max
		}
		worst.peakRSS = max(worst.peakRSS, r.peakRSS-r.baseRSS)
		worst.peakHeap = max(worst.peakHeap, r.peakHeap-r.baseHeap)
		if i == 0 {
			b.StopTimer()
			liveAfterFirst = herdLiveHeap()
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(worst.p50.Milliseconds()), "p50-ms")
	b.ReportMetric(float64(worst.max.Milliseconds()), "max-ms")
	b.ReportMetric(float64(worst.peakRSS>>20), "peak-RSS-growth-MB")
	b.ReportMetric(float64(worst.peakHeap>>20), "peak-heap-growth-MB")
	b.ReportMetric(float64((herdLiveHeap()-liveAfterFirst)>>20), "live-heap-growth-MB")
}

// herdSetup registers the members, makes the room and fills it, and returns
// the herd's clients once the syncapi has applied everything.
func herdSetup(t testing.TB, opts testserver.Options) ([]*mautrix.Client, id.RoomID) {
	t.Helper()
	inst := testserver.Start(t, opts)
	start := time.Now()
	users := herdRegister(t, inst, herdMembers)
	t.Logf("registered %d users in %s", len(users), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	room, err := users[0].CreateRoom(syncCtx, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "herd"})
	if err != nil {
		t.Fatal(err)
	}
	herdParallel(t, len(users)-1, 32, func(i int) error {
		_, err := users[i+1].JoinRoomByID(syncCtx, room.RoomID)
		return err
	})
	t.Logf("%d joins in %s", len(users)-1, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	herdParallel(t, herdEvents-1, 32, func(i int) error {
		_, err := users[i%len(users)].SendText(syncCtx, room.RoomID, fmt.Sprintf("herd message %d", i))
		return err
	})
	// The syncapi consumer applies the backlog (each message notifies 499
	// members) after the sends are acknowledged. It applies events in
	// order, so once a last message sent after all the others shows in a
	// member's sync, everything has been applied and the herd measures
	// only the herd.
	last := syncSend(t, users[0], room.RoomID, "herd message last")
	reader := users[len(users)-1]
	testutil.Eventually(t, 5*time.Minute, "the syncapi to apply the herd room's backlog", func() bool {
		jr, ok := syncOnce(t, reader, "", 0, `{"room":{"timeline":{"limit":1}}}`).Rooms.Join[room.RoomID]
		evs := jr.Timeline.Events
		return ok && len(evs) == 1 && evs[0].ID == last
	})
	t.Logf("%d messages sent and applied in %s", herdEvents, time.Since(start).Round(time.Millisecond))
	return users[:herdClients], room.RoomID
}

// herdRegister registers n users concurrently through the API.
func herdRegister(t testing.TB, inst *testserver.Instance, n int) []*mautrix.Client {
	t.Helper()
	users := make([]*mautrix.Client, n)
	herdParallel(t, n, 16, func(i int) error {
		c, err := mautrix.NewClient(inst.URL, "", "")
		if err != nil {
			return err
		}
		resp, err := c.RegisterDummy(syncCtx, &mautrix.ReqRegister{Username: fmt.Sprintf("herd%d", i), Password: "password123"})
		if err != nil {
			return err
		}
		c.UserID, c.AccessToken = resp.UserID, resp.AccessToken
		c.DeviceID = resp.DeviceID
		users[i] = c
		return nil
	})
	return users
}

// herdParallel runs fn(0..n-1) on `workers` goroutines and fails on the
// first error.
func herdParallel(t testing.TB, n, workers int, fn func(i int) error) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- fmt.Errorf("item %d: %w", i, err)
					next.Store(int64(n)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

type herdResult struct {
	wall, p50, max     time.Duration
	respBytes          int
	baseRSS, peakRSS   int64
	baseHeap, peakHeap int64
}

// herdSync is the part of a /sync response the herd checks.
type herdSync struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join map[string]struct {
			Summary struct {
				Joined *int `json:"m.joined_member_count"`
			} `json:"summary"`
			State struct {
				Events []struct {
					Type     string `json:"type"`
					StateKey string `json:"state_key"`
					Content  struct {
						Membership string `json:"membership"`
					} `json:"content"`
				} `json:"events"`
			} `json:"state"`
			Timeline struct {
				Events []struct {
					EventID string `json:"event_id"`
					Type    string `json:"type"`
				} `json:"events"`
				Limited bool `json:"limited"`
			} `json:"timeline"`
		} `json:"join"`
	} `json:"rooms"`
}

// herdRound releases every client's initial /sync at once and checks each
// response holds the room with all members and a limited timeline.
func herdRound(t testing.TB, clients []*mautrix.Client, room id.RoomID) herdResult {
	t.Helper()
	runtime.GC()
	herdResetPeakRSS()
	res := herdResult{baseRSS: herdRSS(), baseHeap: herdHeap()}
	peakHeap := atomic.Int64{}
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if h := herdHeap(); h > peakHeap.Load() {
				peakHeap.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})

	httpc := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: len(clients)}}
	gate := make(chan struct{})
	lat := make([]time.Duration, len(clients))
	errs := make([]error, len(clients))
	sizes := make([]int, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-gate
			t0 := time.Now()
			sizes[i], errs[i] = herdCheckSync(httpc, c, room)
			lat[i] = time.Since(t0)
		})
	}
	t0 := time.Now()
	close(gate)
	wg.Wait()
	res.wall = time.Since(t0)
	close(stop)
	sampler.Wait()
	res.peakRSS, res.peakHeap = herdPeakRSS(), peakHeap.Load()
	failed := 0
	for i, err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Errorf("client %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d herd syncs failed", failed, len(clients))
	}
	res.respBytes = sizes[0]
	slices.Sort(lat)
	res.p50, res.max = lat[len(lat)/2], lat[len(lat)-1]
	return res
}

// herdCheckSync does one initial /sync and validates it.
func herdCheckSync(httpc *http.Client, c *mautrix.Client, room id.RoomID) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, c.HomeserverURL.String()+"/_matrix/client/v3/sync", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	cr := &countingReader{r: resp.Body}
	var body herdSync
	if err := json.NewDecoder(cr).Decode(&body); err != nil {
		return cr.n, fmt.Errorf("decode: %w", err)
	}
	jr, ok := body.Rooms.Join[room.String()]
	if !ok {
		return cr.n, fmt.Errorf("room missing from rooms.join")
	}
	if jr.Summary.Joined == nil || *jr.Summary.Joined != herdMembers {
		return cr.n, fmt.Errorf("m.joined_member_count = %v, want %d", jr.Summary.Joined, herdMembers)
	}
	members := map[string]bool{}
	for _, ev := range jr.State.Events {
		if ev.Type == "m.room.member" && ev.Content.Membership == "join" {
			members[ev.StateKey] = true
		}
	}
	timelineMsgs := 0
	for _, ev := range jr.Timeline.Events {
		if ev.Type == "m.room.message" {
			timelineMsgs++
		}
	}
	// Members whose join is in the timeline are not repeated in state; none
	// is, as the timeline ends with messages.
	if len(members) != herdMembers {
		return cr.n, fmt.Errorf("state has %d joined members, want %d", len(members), herdMembers)
	}
	if timelineMsgs == 0 || !jr.Timeline.Limited {
		return cr.n, fmt.Errorf("timeline has %d messages (limited=%v), want a limited timeline of messages", timelineMsgs, jr.Timeline.Limited)
	}
	if !strings.HasPrefix(body.NextBatch, "s") {
		return cr.n, fmt.Errorf("next_batch %q", body.NextBatch)
	}
	return cr.n, nil
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// herdHeap is the heap bytes in live and not-yet-swept objects.
func herdHeap() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// herdLiveHeap is the heap after a full collection.
func herdLiveHeap() int64 {
	runtime.GC()
	runtime.GC()
	return herdHeap()
}

// herdResetPeakRSS resets VmHWM (Linux: writing 5 to clear_refs).
func herdResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func herdRSS() int64     { return herdStatusKB("VmRSS:") << 10 }
func herdPeakRSS() int64 { return herdStatusKB("VmHWM:") << 10 }

func herdStatusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(strings.TrimPrefix(line, field))
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}
