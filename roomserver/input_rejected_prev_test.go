package roomserver

import (
	"context"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// TestRejectedPrevEvent: an event of another server that cites a
// rejected event as a prev event is placed like any other, on the state
// before the rejected one (spec, "Rejection": events referencing
// rejected events are allowed if they pass the auth rules; the state is
// not updated with the rejected event). Complement
// TestInboundFederationRejectsEventsWithRejectedAuthEvents sends such a
// sentinel after two rejected events.
func TestRejectedPrevEvent(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			join := rem.join(roomID, bob, tCreate, tPL, tJR)
			auth := append(rem.stateIDs(roomID, tCreate, tPL), join.EventID())
			// Bob (power 0) names the room: rejected by its own auth events.
			name := rem.build(roomID, bob, "m.room.name", strp(""), map[string]string{"name": "mine"},
				[]string{join.EventID()}, auth, 11, time.Now())
			if res := rem.input(name); res.Err == nil || res.Err.Code != api.CodeForbidden {
				t.Fatalf("bob's name: %+v", res)
			}
			msg := rem.build(roomID, bob, "m.room.message", nil, map[string]string{"body": "after"},
				[]string{name.EventID()}, auth, 12, time.Now())
			res := rem.input(msg)
			if res.Err != nil || res.SoftFailed || len(res.MissingPrevEvents) > 0 {
				t.Fatalf("event after the rejected one: %+v", res)
			}
			if evs, err := rs.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(msg.EventID())}); err != nil || len(evs) != 1 {
				t.Fatalf("the message is not served: %v %v", evs, err)
			}
			if names, err := rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []api.StateKey{{Type: "m.room.name"}}); err != nil || len(names) != 0 {
				t.Fatalf("the rejected name became state: %v %v", names, err)
			}
		})
	}
}
