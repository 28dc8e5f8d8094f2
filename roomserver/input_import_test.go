package roomserver

import (
	"context"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// A room on one roomserver imported by another, as a remote join does:
// template, signed join accepted by the resident side, then the state
// before it imported as outliers and the join input with that state.
// Also: missing prev events are reported, and an out-of-band invite
// makes a stub room holding only the membership.
func TestImportRemoteRoom(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			// The join's state change (a handful of events here) is left out
			// of its output as a big room's would be.
			defer func(n int) { maxOutputStateDelta = n }(maxOutputStateDelta)
			maxOutputStateDelta = 1
			ctx := context.Background()
			resident, _ := newTestServer(t, be.NewDSN(t))
			joinerDSN := be.NewDSN(t)
			joiner, out := newTestServer(t, joinerDSN)
			roomID := createTestRoom(t, resident, "@alice:"+testServer, "10", "public")
			send(t, resident, local(roomID, "@alice:"+testServer, "m.room.message", nil, map[string]any{"body": "hi"}))

			user := "@u:other.test"
			tmpl, err := resident.QueryEventTemplate(ctx, &api.EventTemplateRequest{RoomID: roomID, Sender: user,
				Type: spec.MRoomMember, StateKey: &user, Content: []byte(`{"membership":"join"}`)})
			if err != nil {
				t.Fatalf("template: %v", err)
			}
			rem := newRemote(t, resident)
			proto := tmpl.Proto
			b := gomatrixserverlib.MustGetRoomVersion("10").NewEventBuilderFromProtoEvent(&proto)
			join, err := b.Build(time.Now(), "other.test", "ed25519:o", rem.key)
			if err != nil {
				t.Fatal(err)
			}
			if res := rem.input(api.NewEvent(join)); res.Err != nil {
				t.Fatalf("resident refused the join: %v", res.Err)
			}
			state, err := resident.QueryStateBeforeEvent(ctx, matrixid.RoomID(roomID), matrixid.EventID(join.EventID()))
			if err != nil || len(state) == 0 {
				t.Fatalf("state before join: %d %v", len(state), err)
			}

			// Import on the joiner: create first, then the rest, then the join.
			var in []api.InputRoomEvent
			var ids []string
			for _, e := range state {
				ids = append(ids, e.EventID())
				if e.Type() == spec.MRoomCreate {
					in = append([]api.InputRoomEvent{{Kind: api.KindOutlier, Event: e}}, in...)
				} else {
					in = append(in, api.InputRoomEvent{Kind: api.KindOutlier, Event: e})
				}
			}
			// Outliers must follow their auth events: member before PL etc.
			in = orderOutliers(in)
			in = append(in, api.InputRoomEvent{Kind: api.KindNew, Event: api.NewEvent(join), HasState: true, StateEventIDs: ids})
			resp, err := joiner.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: in})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range resp.Results {
				if r.Err != nil {
					t.Fatalf("import event %d: %v", i, r.Err)
				}
			}
			if m, _, err := joiner.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(user)); err != nil || m != "join" {
				t.Fatalf("joiner sees membership %q", m)
			}
			if in, err := joiner.QueryServerInRoom(ctx, matrixid.RoomID(roomID), "other.test"); err != nil || !in {
				t.Fatal("joined server not in room")
			}
			last := out.outputs()[len(out.outputs())-1].NewRoomEvent
			if last == nil || last.EventID != join.EventID() || last.StateDelta == nil || !last.StateDelta.AddsEvent || len(last.AddsStateEventIDs) != 0 {
				t.Fatalf("import output (its state left out) %+v", last)
			}
			// The room moves on; the output's delta is still its own.
			send(t, joiner, local(roomID, user, "m.room.topic", strp(""), map[string]any{"topic": "later"}))
			must(t, last.FetchStateDelta(ctx, joiner))
			if len(last.AddsStateEventIDs) != len(state)+1 || len(last.AddedStateEventIDs) != len(state) || len(last.AddedStateEvents) != len(state) ||
				len(last.RemovesStateEventIDs) != 0 || last.StateDelta != nil {
				t.Fatalf("fetched state delta: %d added IDs (want %d), %d events, %d removed", len(last.AddsStateEventIDs), len(state)+1,
					len(last.AddedStateEvents), len(last.RemovesStateEventIDs))
			}
			for i, id := range last.AddedStateEventIDs {
				if e, err := last.ParseAddedStateEvent(i); err != nil || e.EventID() != id || id == join.EventID() {
					t.Fatalf("added state event %d: %v %v", i, id, err)
				}
			}

			// The state after the join, read back from storage (a restart):
			// the given state and the join.
			restarted, _ := newTestServer(t, joinerDSN)
			after, err := restarted.QueryCurrentState(ctx, matrixid.RoomID(roomID), nil)
			must(t, err)
			joined := false
			for _, e := range after {
				joined = joined || e.EventID() == join.EventID()
			}
			if len(after) != len(state)+1 || !joined {
				t.Fatalf("state after the join from storage: %d events (want %d), join among them: %v", len(after), len(state)+1, joined)
			}

			// An event after a gap: its prev events are reported missing.
			msg := send(t, resident, local(roomID, "@alice:"+testServer, "m.room.message", nil, map[string]any{"body": "x"}))
			gapEv, err := resident.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(msg.EventID)})
			must(t, err)
			next := send(t, resident, local(roomID, "@alice:"+testServer, "m.room.message", nil, map[string]any{"body": "y"}))
			nextEv, err := resident.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(next.EventID)})
			must(t, err)
			r, err := joiner.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{Kind: api.KindNew, Event: nextEv[0]}}})
			if err != nil || len(r.Results[0].MissingPrevEvents) != 1 || r.Results[0].MissingPrevEvents[0] != gapEv[0].EventID() {
				t.Fatalf("missing prev not reported: %+v %v", r, err)
			}

			// An out-of-band invite to an unknown room.
			inviteRoom := "!stub:other.test"
			target := "@bob:" + testServer
			inv := rem.build(inviteRoom, user, spec.MRoomMember, &target, map[string]string{"membership": "invite"}, []string{"$x"}, []string{"$y"}, 5, time.Now())
			r, err = joiner.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{Kind: api.KindOutOfBand, Event: inv}}})
			if err != nil || r.Results[0].Err != nil {
				t.Fatalf("out-of-band invite: %+v %v", r, err)
			}
			if m, id, err := joiner.QueryMembership(ctx, matrixid.RoomID(inviteRoom), matrixid.UserID(target)); err != nil || m != "invite" || id != matrixid.EventID(inv.EventID()) {
				t.Fatalf("stub membership %q %q", m, id)
			}
			if rooms, err := joiner.QueryRoomsForUser(ctx, matrixid.UserID(target), "invite"); err != nil || len(rooms) != 1 || rooms[0] != matrixid.RoomID(inviteRoom) {
				t.Fatalf("invited rooms %v", rooms)
			}
		})
	}
}

// orderOutliers puts each event after the events it cites as auth.
func orderOutliers(in []api.InputRoomEvent) []api.InputRoomEvent {
	pdus := make([]gomatrixserverlib.PDU, len(in))
	for i, e := range in {
		pdus[i] = e.Event.PDU
	}
	ordered := gomatrixserverlib.ReverseTopologicalOrdering(pdus, gomatrixserverlib.TopologicalOrderByAuthEvents)
	out := make([]api.InputRoomEvent, len(ordered))
	for i, p := range ordered {
		out[i] = api.InputRoomEvent{Kind: api.KindOutlier, Event: api.NewEvent(p)}
	}
	return out
}
