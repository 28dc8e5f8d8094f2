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
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/server/testserver"
)

const (
	scalePartitions = 16
	scaleLeaseTTL   = 2 * time.Second
	scaleRooms      = 20
)

// TestRoomserverPartitions runs the roomserver as several processes
// sharing the rooms by partition (docs/scaling.md), on PostgreSQL and an
// external NATS: an "edge" process (clientapi, syncapi, userapi,
// keyserver), roomserver rs-1 in this process and rs-2 as a real child
// process. Clients write into 20 rooms (some v12) while rs-2 is killed (SIGKILL):
// its partitions move to rs-1, no acknowledged event is lost (in the
// roomserver and in /messages) and no room forks. Then rs-3 joins, rs-1
// stalls (its lease renewal frozen past expiry, still believing it holds
// its partitions): a write it takes is refused by the fence in its own
// transaction and lands, once, at rs-3.
func TestRoomserverPartitions(t *testing.T) {
	mk := scaleConfigs(t, "scale", nil)
	bin := buildAxon(t)
	edgeCfg := mk("", "clientapi", "syncapi", "userapi", "keyserver")
	edgeAddr := testserver.FreeLoopbackAddr(t)
	edgeCfg.ServerName, edgeCfg.Listeners.Client.Address = edgeAddr, edgeAddr
	must(t, edgeCfg.LoadSigningKey())
	rsCfg := func(instance string) *config.Config {
		c := mk(instance, "roomserver")
		c.ServerName, c.Listeners.Client.Address = edgeAddr, "127.0.0.1:0"
		c.SigningKeyPath = edgeCfg.ResolvePath("signing.key")
		return c
	}

	rs1 := testserver.StartWithConfig(t, rsCfg("rs-1"))
	edge := testserver.StartWithConfig(t, edgeCfg)
	if len(rs1.Server.Rooms.Leases().Owned()) != scalePartitions {
		t.Fatalf("a lone roomserver holds %v", rs1.Server.Rooms.Leases().Owned())
	}
	rs2 := startComponentProcess(t, bin, rsCfg("rs-2"), "roomserver")
	testutil.Eventually(t, 20*time.Second, "rs-2 taking its share of the partitions", func() bool {
		n := len(rs1.Server.Rooms.Leases().Owned())
		return n > 0 && n < scalePartitions && rs2.ownedMetric(t) == scalePartitions-n
	})

	alice := edge.Register("alice", "password123")
	// Every fourth room has a v12 (hash-named) ID: its create event is
	// what places it in a partition of the creating process.
	rooms := make([]id.RoomID, scaleRooms)
	for i := range rooms {
		req := &mautrix.ReqCreateRoom{Preset: "public_chat"}
		if i%4 == 0 {
			req.RoomVersion = "12"
		}
		resp, err := alice.CreateRoom(context.Background(), req)
		must(t, err)
		rooms[i] = resp.RoomID
	}
	// Rooms were created in both processes' partitions.
	created := map[bool]int{}
	for _, r := range rooms {
		_, here := rs1.Server.Rooms.Leases().Owner(lease.Partition(string(r), scalePartitions))
		created[here]++
	}
	if created[true] == 0 || created[false] == 0 {
		t.Fatalf("new rooms were not placed in both processes' partitions (rs-1: true): %v", created)
	}

	// Load: one writer per room, each send retried with its transaction
	// ID until acknowledged.
	load := newScaleLoad(rooms, alice)
	load.start(t)
	testutil.Eventually(t, 60*time.Second, "5 messages acknowledged in every room", func() bool { return load.minAcked() >= 5 })

	killed := time.Now()
	rs2.kill(t)
	testutil.Eventually(t, 30*time.Second, "rs-1 holding every partition after rs-2 was killed", func() bool {
		return len(rs1.Server.Rooms.Leases().Owned()) == scalePartitions
	})
	t.Logf("handover after SIGKILL: rs-1 held all %d partitions %s after the kill (lease TTL %s)",
		scalePartitions, time.Since(killed).Round(10*time.Millisecond), scaleLeaseTTL)
	before := load.minAcked()
	testutil.Eventually(t, 90*time.Second, "5 more messages acknowledged in every room after the handover", func() bool {
		return load.minAcked() >= before+5
	})
	load.stop(t)

	ctx := context.Background()
	checkRoomsLinear(t, rs1.Server.Rooms, rooms)
	for i, r := range rooms {
		acked := load.ackedIn(i)
		evs, err := rs1.Server.Rooms.QueryEvents(ctx, matrixid.From[matrixid.EventID](acked))
		must(t, err)
		if len(evs) != len(acked) {
			t.Errorf("room %d: %d acknowledged events, %d stored", i, len(acked), len(evs))
		}
		testutil.Eventually(t, 30*time.Second, fmt.Sprintf("room %d: every acknowledged event in /messages", i), func() bool {
			got := messagesIDs(t, alice, r)
			for _, e := range acked {
				if !got[e] {
					return false
				}
			}
			return true
		})
	}

	// A third roomserver joins; then rs-1 stalls past its leases.
	rs3 := testserver.StartWithConfig(t, rsCfg("rs-3"))
	testutil.Eventually(t, 20*time.Second, "rs-3 taking its share", func() bool {
		n := len(rs3.Server.Rooms.Leases().Owned())
		return n > 0 && n+len(rs1.Server.Rooms.Leases().Owned()) == scalePartitions
	})
	stale := rs1.Server.Rooms.Leases().Owned()
	rs1.Server.Rooms.Leases().Freeze()
	testutil.Eventually(t, 20*time.Second, "rs-3 holding every partition once rs-1's leases expired", func() bool {
		return len(rs3.Server.Rooms.Leases().Owned()) == scalePartitions
	})
	var target id.RoomID
	for _, r := range rooms {
		if slices.Contains(stale, lease.Partition(string(r), scalePartitions)) {
			target = r
			break
		}
	}
	if target == "" {
		t.Fatalf("no room in rs-1's partitions %v", stale)
	}
	p := lease.Partition(string(target), scalePartitions)
	if _, held := rs1.Server.Rooms.Leases().Owner(p); !held {
		t.Fatal("the stalled rs-1 no longer believes it holds the room's partition")
	}
	res, err := rs1.Server.Rooms.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{
		Local: &api.LocalEvent{RoomID: matrixid.RoomID(target), Sender: matrixid.UserID(alice.UserID), Type: "m.room.message",
			Content: json.RawMessage(`{"msgtype":"m.text","body":"after the stall"}`)},
	}}})
	if err != nil || len(res.Results) != 1 || res.Results[0].Err != nil {
		t.Fatalf("input through the stalled roomserver: %v %+v", err, res)
	}
	if _, held := rs1.Server.Rooms.Leases().Owner(p); held {
		t.Error("rs-1 still holds the partition: its write was not fenced")
	}
	if err := rs3.Server.Rooms.CheckDAG(ctx, string(target)); err != nil {
		t.Error(err)
	}
	ext, err := rs3.Server.Rooms.QueryForwardExtremities(ctx, matrixid.RoomID(target))
	must(t, err)
	if len(ext) != 1 || ext[0] != res.Results[0].EventID {
		t.Errorf("after the fenced write the room's extremities are %v, want only %s", ext, res.Results[0].EventID)
	}
	// Every input routed has been answered: each partition's pending
	// gauge is back to 0, and the target's was used.
	pending := metricsFamily(t, "axon_partition_inputs_pending")
	sawTarget := false
	for _, s := range pending {
		if s.value != 0 {
			t.Errorf("partition inputs still pending after the load: %v = %v", s.labels, s.value)
		}
		sawTarget = sawTarget || s.labels["partition"] == strconv.Itoa(p)
	}
	if !sawTarget {
		t.Errorf("no axon_partition_inputs_pending series for partition %d: %v", p, pending)
	}
}
