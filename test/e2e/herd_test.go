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

	"github.com/axon-hs/axon/server/testserver"
)

// Herd sizes from the issue: 300 clients of a room with 500 members and
// 1,000 events all do their initial /sync at once.
const (
	herdMembers = 500
	herdEvents  = 1000
	herdClients = 300
)

// herdPeakGrowthLimit bounds the process's peak RSS growth during one
// herd (server and the test's 300 clients share the process). One
// response here is ~0.2 MB (500 member events); even if every response
// were held three times at once (server encode buffer, client read
// buffer, decoded copy) that is ~180 MB. 512 MiB leaves room for GC
// slack while still failing if the server buffers per-request copies of
// the room's state or timeline without bound.
const herdPeakGrowthLimit = 512 << 20

// herdLeakLimit bounds live heap growth between two identical herds:
// nothing a finished request allocated may stay reachable.
const herdLeakLimit = 32 << 20

// TestHerdInitialSync runs the thundering-herd scenario twice and checks
// every response and the memory it cost.
func TestHerdInitialSync(t *testing.T) {
	if testing.Short() {
		t.Skip("herd test: 500 registrations and 1,000 events")
	}
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		if opts.Backend != "sqlite" && os.Getenv("AXON_HERD_ALL_BACKENDS") == "" {
			t.Skip("set AXON_HERD_ALL_BACKENDS=1 to run the herd on PostgreSQL too")
		}
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
		eventIDs := make([]id.EventID, herdEvents)
		herdParallel(t, herdEvents, 32, func(i int) error {
			resp, err := users[i%len(users)].SendText(syncCtx, room.RoomID, fmt.Sprintf("herd message %d", i))
			if err == nil {
				eventIDs[i] = resp.EventID
			}
			return err
		})
		t.Logf("%d messages in %s", herdEvents, time.Since(start).Round(time.Millisecond))

		// The syncapi consumer applies the backlog (each message notifies 499
		// members) after the sends are acknowledged; one sync waits for it
		// (read-your-writes), so the herds below measure only the herd.
		start = time.Now()
		for t0 := time.Now(); ; t0 = time.Now() {
			syncOnce(t, users[len(users)-1], "", 0, `{"room":{"timeline":{"limit":1}}}`)
			if time.Since(t0) < time.Second || time.Since(start) > time.Minute {
				break
			}
		}
		t.Logf("syncapi caught up %s after the last send", time.Since(start).Round(time.Millisecond))

		clients := users[:herdClients]
		first := herdRound(t, clients, room.RoomID)
		liveAfterFirst := herdLiveHeap()
		second := herdRound(t, clients, room.RoomID)
		liveAfterSecond := herdLiveHeap()
		for i, r := range []herdResult{first, second} {
			t.Logf("herd %d: %d syncs in %s (p50 %s, max %s), response %d KB; peak RSS %d MB (growth %d MB), peak heap %d MB (growth %d MB)",
				i+1, herdClients, r.wall.Round(time.Millisecond), r.p50.Round(time.Millisecond), r.max.Round(time.Millisecond),
				r.respBytes>>10, r.peakRSS>>20, (r.peakRSS-r.baseRSS)>>20, r.peakHeap>>20, (r.peakHeap-r.baseHeap)>>20)
			if growth := r.peakRSS - r.baseRSS; growth > herdPeakGrowthLimit {
				t.Errorf("herd %d: peak RSS grew by %d MB (limit %d MB)", i+1, growth>>20, herdPeakGrowthLimit>>20)
			}
		}
		t.Logf("live heap after herd 1: %d MB, after herd 2: %d MB", liveAfterFirst>>20, liveAfterSecond>>20)
		if liveAfterSecond > liveAfterFirst+herdLeakLimit {
			t.Errorf("live heap grew from %d MB to %d MB between identical herds", liveAfterFirst>>20, liveAfterSecond>>20)
		}
	})
}

// herdRegister registers n users concurrently through the API.
func herdRegister(t *testing.T, inst *testserver.Instance, n int) []*mautrix.Client {
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
		c.SetCredentials(resp.UserID, resp.AccessToken)
		c.DeviceID = resp.DeviceID
		users[i] = c
		return nil
	})
	return users
}

// herdParallel runs fn(0..n-1) on `workers` goroutines and fails on the
// first error.
func herdParallel(t *testing.T, n, workers int, fn func(i int) error) {
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
func herdRound(t *testing.T, clients []*mautrix.Client, room id.RoomID) herdResult {
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
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, c.HomeserverURL.String()+"/_matrix/client/v3/sync", nil)
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
