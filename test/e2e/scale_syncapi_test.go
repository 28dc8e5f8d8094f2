package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// syncReplicaFilter keeps every event in a timeline (no limited gaps).
const syncReplicaFilter = `{"room":{"timeline":{"limit":200}}}`

// TestSyncapiReplicas runs two syncapi processes (replicas sync-1 and
// sync-2, docs/scaling.md) beside a core (clientapi, userapi,
// roomserver, keyserver) on PostgreSQL and an external NATS. A client
// sends into three rooms through the core while another syncs
// alternately from both replicas: every acknowledged event arrives
// exactly once and in order. A long-poll on the replica that does not
// write is woken by a new event. Then the writer dies while the client
// long-polls on it (its lease frozen, so it expires as after a crash):
// the survivor takes the writing over, and the client continues from its
// token there with no event missing or repeated. Typing set through one
// replica reaches clients of the other.
func TestSyncapiReplicas(t *testing.T) {
	mk := scaleConfigs(t, "syncrep", nil)
	coreCfg := mk("", "clientapi", "userapi", "roomserver", "keyserver")
	replicaCfgs := []*config.Config{mk("sync-1", "syncapi"), mk("sync-2", "syncapi")}
	oneServer(t, coreCfg, true, replicaCfgs...)
	core := testserver.StartWithConfig(t, coreCfg)
	sync1 := testserver.StartWithConfig(t, replicaCfgs[0])
	sync2 := testserver.StartWithConfig(t, replicaCfgs[1])
	replicas := []*testserver.Instance{sync1, sync2}
	// writer is the index of the one replica writing (the lease goes to
	// the replica ranked first for it, so it may move once sync-2 joins).
	writer := func() int {
		w := -1
		testutil.Eventually(t, 20*time.Second, "exactly one syncapi writer", func() bool {
			a, b := sync1.Server.Sync.Writer(), sync2.Server.Sync.Writer()
			if a == b {
				return false
			}
			w = map[bool]int{true: 0, false: 1}[a]
			return true
		})
		return w
	}
	writer()

	alice := core.Register("alice", "password123")
	bob := core.Register("bob", "password123")
	at := func(inst *testserver.Instance) *mautrix.Client {
		c, err := mautrix.NewClient("http://"+inst.Cfg.Listeners.Client.Address, bob.UserID, bob.AccessToken)
		must(t, err)
		c.DeviceID = bob.DeviceID
		return c
	}
	bobAt := []*mautrix.Client{at(sync1), at(sync2)}
	rooms := []id.RoomID{syncRoom(t, alice, bob), syncRoom(t, alice, bob), syncRoom(t, alice, bob)}

	// What bob has seen, per room, in order; and what alice sent.
	seen := map[id.RoomID][]string{}
	sent := map[id.RoomID][]string{}
	take := func(resp *mautrix.RespSync) {
		for _, r := range rooms {
			if jr, ok := resp.Rooms.Join[r]; ok {
				if jr.Timeline.Limited && len(seen[r]) > 0 {
					t.Fatalf("room %s: limited timeline (a gap) in an incremental sync", r)
				}
				seen[r] = append(seen[r], syncBodies(jr.Timeline.Events)...)
			}
		}
	}
	send := func(round int) {
		for i, r := range rooms {
			body := fmt.Sprintf("r%d-m%d", i, round)
			syncSend(t, alice, r, body)
			sent[r] = append(sent[r], body)
		}
	}
	complete := func() bool {
		for _, r := range rooms {
			if len(seen[r]) < len(sent[r]) {
				return false
			}
		}
		return true
	}
	check := func(when string) {
		for _, r := range rooms {
			if !slices.Equal(seen[r], sent[r]) {
				t.Fatalf("%s: room %s: bob saw %v, alice sent %v", when, r, seen[r], sent[r])
			}
		}
	}

	since := syncOnce(t, bobAt[0], "", 0, syncReplicaFilter).NextBatch
	round := 0
	// Alternate: send, then sync once from each replica in turn.
	for ; round < 6; round++ {
		send(round)
		c := bobAt[round%2]
		testutil.Eventually(t, 15*time.Second, "round's events at a replica", func() bool {
			resp := syncOnce(t, c, since, 1000, syncReplicaFilter)
			since = resp.NextBatch
			take(resp)
			return complete()
		})
		check(fmt.Sprintf("round %d", round))
	}

	// A long-poll on the replica that does not write is woken by a new
	// event (its 30 s timeout is far beyond the wait below).
	type result struct {
		resp *mautrix.RespSync
		err  error
	}
	poll := func(c *mautrix.Client, since string) chan result {
		ch := make(chan result, 1)
		go func() {
			resp, err := c.SyncRequest(context.Background(), 30000, since, syncReplicaFilter, false, "")
			ch <- result{resp, err}
		}()
		return ch
	}
	w := writer()
	other := 1 - w
	woken := poll(bobAt[other], since)
	send(round)
	round++
	var got result
	testutil.Eventually(t, 10*time.Second, "the long-poll on the non-writer replica answered", func() bool {
		select {
		case got = <-woken:
			return true
		default:
			return false
		}
	})
	if got.err != nil {
		t.Fatalf("long-poll on the non-writer: %v", got.err)
	}
	since = got.resp.NextBatch
	take(got.resp)
	testutil.Eventually(t, 15*time.Second, "the woken round's events", func() bool {
		resp := syncOnce(t, bobAt[other], since, 1000, syncReplicaFilter)
		since = resp.NextBatch
		take(resp)
		return complete()
	})
	check("after the woken long-poll")

	// Typing set through one replica reaches a client of the other
	// (typing is held in each replica's memory).
	aliceAt, err := mautrix.NewClient("http://"+replicas[w].Cfg.Listeners.Client.Address, alice.UserID, alice.AccessToken)
	must(t, err)
	_, err = aliceAt.UserTyping(context.Background(), rooms[0], true, 30*time.Second)
	must(t, err)
	typingSince := since
	testutil.Eventually(t, 10*time.Second, "alice's typing (set at the writer) at the other replica", func() bool {
		resp := syncOnce(t, bobAt[other], typingSince, 1000, syncReplicaFilter)
		typingSince = resp.NextBatch
		take(resp)
		jr := resp.Rooms.Join[rooms[0]]
		if jr == nil {
			return false
		}
		for _, ev := range jr.Ephemeral.Events {
			if ev.Content.ParseRaw(ev.Type) != nil {
				continue
			}
			if ev.Type == event.EphemeralEventTyping && slices.Contains(ev.Content.AsTyping().UserIDs, alice.UserID) {
				return true
			}
		}
		return false
	})
	since = typingSince

	// The writer dies while bob long-polls on it.
	w = writer()
	other = 1 - w
	survivor := replicas[other]
	dying := poll(bobAt[w], since)
	replicas[w].Server.Sync.Leases().Freeze()
	killed := time.Now()
	replicas[w].Stop()
	if r := <-dying; r.err == nil {
		// Answered as the process shut down (wakes every long-poll):
		// what it says counts.
		since = r.resp.NextBatch
		take(r.resp)
	}
	// Alice keeps sending while the lease has not moved yet.
	for i := 0; i < 3; i++ {
		send(round)
		round++
	}
	testutil.Eventually(t, 30*time.Second, "the survivor taking over the writing", func() bool { return survivor.Server.Sync.Writer() })
	t.Logf("syncapi writer failover: %s writing %s after %s died (lease TTL %s)", survivor.Cfg.Partitioning.Instance,
		time.Since(killed).Round(10*time.Millisecond), replicas[w].Cfg.Partitioning.Instance, scaleLeaseTTL)
	testutil.Eventually(t, 30*time.Second, "every event at the surviving replica", func() bool {
		resp := syncOnce(t, bobAt[other], since, 1000, syncReplicaFilter)
		since = resp.NextBatch
		take(resp)
		return complete()
	})
	check("after the writer died")
	// And new events still flow, once each.
	send(round)
	testutil.Eventually(t, 15*time.Second, "a later round at the survivor", func() bool {
		resp := syncOnce(t, bobAt[other], since, 1000, syncReplicaFilter)
		since = resp.NextBatch
		take(resp)
		return complete()
	})
	check("at the end")
	resp := syncOnce(t, bobAt[other], since, 0, syncReplicaFilter)
	take(resp)
	check("after a last sync")
}
