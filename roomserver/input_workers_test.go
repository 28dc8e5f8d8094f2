package roomserver

import (
	"runtime"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// roomWorkers counts the goroutines in worker: all, and those waiting
// for a room.
func roomWorkers() (all, waiting int) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "roomserver.(*RoomServer).worker(") {
			all++
			if strings.Contains(g, "[select") {
				waiting++
			}
		}
	}
	return all, waiting
}

// TestIdleWorkerTakesAnotherRoom: a worker whose room is drained runs the
// next room that gets input (no goroutine per batch), and Close ends the
// waiting workers at once rather than after workerIdle.
func TestIdleWorkerTakesAnotherRoom(t *testing.T) {
	rs, _ := newTestServer(t, storagetest.SQLiteDSN(t))
	owner := "@owner:" + testServer
	rooms := []string{createTestRoom(t, rs, owner, "10", "public"), createTestRoom(t, rs, owner, "10", "public")}
	for i := range 6 {
		msg := local(rooms[i%2], owner, "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "hi"})
		if res := send(t, rs, msg); res.Err != nil {
			t.Fatal(res.Err)
		}
		testutil.Eventually(t, workerIdle/2, "the worker waits for another room", func() bool {
			_, waiting := roomWorkers()
			return waiting == 1
		})
	}
	// One event at a time into alternating rooms: one worker served all.
	if all, _ := roomWorkers(); all != 1 {
		t.Fatalf("%d room workers after sequential input into two rooms, want 1", all)
	}
	rs.Close()
	if !testutil.Within(workerIdle/2, func() bool { all, _ := roomWorkers(); return all == 0 }) {
		t.Fatal("room workers still waiting after Close")
	}
}
