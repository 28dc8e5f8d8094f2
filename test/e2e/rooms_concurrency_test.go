package e2e

import (
	"fmt"
	"sync"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/server/testserver"
)

// TestRoomsConcurrentSendersDAG: 20 senders at once, in one room and in 20
// rooms, leave a DAG where every prev event exists and each room has
// exactly one forward extremity.
func TestRoomsConcurrentSendersDAG(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		const senders, perSender = 20, 10
		clients := make([]*mautrix.Client, senders)
		for i := range clients {
			clients[i] = inst.Register(fmt.Sprintf("sender%d", i), "password123")
		}
		shared := roomsCreate(t, clients[0], &mautrix.ReqCreateRoom{Preset: "public_chat"})
		own := make([]id.RoomID, senders)
		for i, c := range clients {
			_, err := c.JoinRoomByID(roomsCtx, shared)
			roomsNoErr(t, err)
			own[i] = roomsCreate(t, c, &mautrix.ReqCreateRoom{Preset: "private_chat"})
		}
		var wg sync.WaitGroup
		errs := make(chan error, senders*2)
		for i, c := range clients {
			for _, room := range []id.RoomID{shared, own[i]} {
				wg.Add(1)
				go func(c *mautrix.Client, room id.RoomID) {
					defer wg.Done()
					for j := 0; j < perSender; j++ {
						if _, err := c.SendText(roomsCtx, room, fmt.Sprintf("msg %d", j)); err != nil {
							errs <- err
							return
						}
					}
				}(c, room)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rs := inst.Server.Rooms
		for _, room := range append([]id.RoomID{shared}, own...) {
			if err := rs.CheckDAG(roomsCtx, string(room)); err != nil {
				t.Fatalf("%s: %v", room, err)
			}
			ext, err := rs.QueryForwardExtremities(roomsCtx, matrixid.RoomID(room))
			roomsNoErr(t, err)
			if len(ext) != 1 {
				t.Fatalf("%s has %d forward extremities", room, len(ext))
			}
		}
	})
}
