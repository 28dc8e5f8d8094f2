package roomserver

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/roomserver/api"
)

// BenchmarkInputEventsMembers is the roomserver's cost of one message
// (build, sign, auth, store, output) in rooms of growing size, the
// input side of syncapi's BenchmarkConsumeMessageMembers.
func BenchmarkInputEventsMembers(b *testing.B) {
	forRoomSizes(b, func(b *testing.B, rs *RoomServer, roomID, owner string) {
		cpuStart := processCPU(b)
		i := 0
		for b.Loop() {
			ev := local(roomID, owner, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("message %d", i)})
			ev.TransactionID = &api.TransactionID{DeviceID: "D", TransactionID: fmt.Sprintf("t%d", i)}
			if res := send(b, rs, ev); res.Err != nil {
				b.Fatal(res.Err)
			}
			i++
		}
		b.ReportMetric(float64((processCPU(b)-cpuStart).Microseconds())/float64(b.N), "cpu-µs/event")
	})
}

// BenchmarkJoinQueriesMembers is what the client API asks the roomserver
// before a local join (the room's summary for its join rules, whether
// this server is in the room) in rooms of growing size.
func BenchmarkJoinQueriesMembers(b *testing.B) {
	forRoomSizes(b, func(b *testing.B, rs *RoomServer, roomID, owner string) {
		ctx := context.Background()
		cpuStart := processCPU(b)
		for b.Loop() {
			s, err := rs.QueryRoomSummary(ctx, matrixid.RoomID(roomID))
			if err != nil || s.JoinRule != "public" {
				b.Fatalf("summary %+v, %v", s, err)
			}
			if in, err := rs.QueryServerInRoom(ctx, matrixid.RoomID(roomID), testServer); err != nil || !in {
				b.Fatalf("server in room: %v, %v", in, err)
			}
		}
		b.ReportMetric(float64((processCPU(b)-cpuStart).Microseconds())/float64(b.N), "cpu-µs/op")
	})
}

// forRoomSizes runs bench on a room of 2, 1,000 and 10,000 members
// (AXON_BENCH_MAX_MEMBERS lowers the largest), all joined one input
// each, so set-up is slow at 10,000.
func forRoomSizes(b *testing.B, bench func(b *testing.B, rs *RoomServer, roomID, owner string)) {
	limit := 10_000
	if v, err := strconv.Atoi(os.Getenv("AXON_BENCH_MAX_MEMBERS")); err == nil {
		limit = v
	}
	be := storagetest.Backends()[0]
	for _, n := range []int{2, 1_000, 10_000} {
		if n > limit {
			continue
		}
		b.Run(fmt.Sprintf("%s/members=%d", be.Name, n), func(b *testing.B) {
			rs, _ := newTestServer(b, be.NewDSN(b))
			ctx := context.Background()
			bus, err := stream.Connect(ctx, stream.Config{StoreDir: b.TempDir(), Prefix: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(bus.Close)
			if rs.out, err = bus.Stream(ctx, stream.RoomEvents, 0, 0); err != nil {
				b.Fatal(err)
			}
			owner := "@owner:" + testServer
			roomID := createTestRoom(b, rs, owner, "10", "public")
			for i := 1; i < n; i++ {
				u := fmt.Sprintf("@m%d:%s", i, testServer)
				if res := send(b, rs, local(roomID, u, "m.room.member", strp(u), map[string]any{"membership": "join"})); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
			bench(b, rs, roomID, owner)
		})
	}
}
