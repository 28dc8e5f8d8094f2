package roomserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// explodingPDU panics when its auth events are read, standing in for a
// library that trips over a hostile remote event.
type explodingPDU struct{ gomatrixserverlib.PDU }

func (explodingPDU) AuthEventIDs() []string { panic("boom") }

// TestInputPanicFailsOnlyThatInput: a panic while one room input is
// processed fails that input with an error; the process, the room and
// other inputs go on (issue 17: it exited with status 2).
func TestInputPanicFailsOnlyThatInput(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
				matrixid.Strings(ext), rem.stateIDs(roomID, tCreate, tPL, tJR), 10, time.Now())
			bad := api.NewEvent(explodingPDU{join.PDU})
			_, err = rs.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{Kind: api.KindNew, Event: bad}}})
			if !errors.Is(err, errInputPanicked) {
				t.Fatalf("panicking input: got %v", err)
			}
			if res := rem.input(join); res.Err != nil {
				t.Fatalf("the same event, sane, after the panic: %+v", res)
			}
			if res := send(t, rs, local(roomID, alice, "m.room.message", nil, map[string]string{"body": "still here"})); res.Err != nil {
				t.Fatal(res.Err)
			}
		})
	}
}
