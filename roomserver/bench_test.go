package roomserver

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/roomserver/api"
)

// BenchmarkInputEvents50Rooms measures the input path (build, sign, auth,
// store, output) with 50 concurrent senders, spread over 50 rooms or all
// in one room, and reports events/s.
func BenchmarkInputEvents50Rooms(b *testing.B) {
	for _, be := range storagetest.Backends() {
		for _, rooms := range []int{50, 1} {
			b.Run(fmt.Sprintf("%s/rooms=%d", be.Name, rooms), func(b *testing.B) {
				benchInput(b, be.NewDSN(b), rooms, 50)
			})
		}
	}
}

func benchInput(b *testing.B, dsn string, rooms, senders int) {
	rs, _ := newTestServer(b, dsn)
	ctx := context.Background()
	// Publish to a real (embedded, file-backed) JetStream, as in production.
	bus, err := stream.Connect(ctx, stream.Config{StoreDir: b.TempDir(), Prefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bus.Close)
	out, err := bus.Stream(ctx, stream.RoomEvents, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	rs.out = out
	ids := make([]string, rooms)
	users := make([]string, senders)
	for i := range users {
		users[i] = fmt.Sprintf("@user%d:%s", i, testServer)
	}
	for i := range ids {
		ids[i] = createTestRoom(b, rs, "@owner:"+testServer, "10", "public")
		for j, u := range users {
			if j%rooms == i%rooms || rooms == 1 {
				if res := send(b, rs, local(ids[i], u, "m.room.member", strp(u), map[string]any{"membership": "join"})); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
		}
	}
	b.ResetTimer()
	start, cpuStart := time.Now(), processCPU(b)
	var wg sync.WaitGroup
	per := (b.N + senders - 1) / senders
	errs := make(chan error, senders)
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			roomID := ids[s%rooms]
			for i := 0; i < per; i++ {
				ev := local(roomID, users[s], "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("message %d", i)})
				ev.TransactionID = &api.TransactionID{DeviceID: "D", TransactionID: fmt.Sprintf("t%d", i)}
				resp, err := rs.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{ev}})
				if err != nil {
					errs <- err
					return
				}
				if resp.Results[0].Err != nil {
					errs <- resp.Results[0].Err
					return
				}
			}
		}(s)
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU(b)-cpuStart
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(per*senders)/elapsed.Seconds(), "events/s")
	// CPU of the whole test process (roomserver, SQLite, JetStream, the
	// senders) per event: steadier than events/s on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(per*senders), "cpu-µs/event")
	for _, id := range ids {
		if err := rs.CheckDAG(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// processCPU is the user + system CPU this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
