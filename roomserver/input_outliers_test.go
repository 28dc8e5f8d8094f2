package roomserver

import (
	"context"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// A run of outliers (looked up before and inserted after the run) gives
// each event the outcome it gets alone: auth checked against its own
// auth events, rejected ones stored rejected and rejecting those citing
// them, repeats reported as duplicates, unknown auth events reported,
// and the stored rows readable by later input.
func TestOutlierRun(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			resident, _ := newTestServer(t, be.NewDSN(t))
			joiner, _ := newTestServer(t, be.NewDSN(t))
			alice := "@alice:" + testServer
			roomID := createTestRoom(t, resident, alice, "10", "public")
			state, err := resident.QueryCurrentState(ctx, matrixid.RoomID(roomID), nil)
			must(t, err)
			var in []api.InputRoomEvent
			byType := map[string]string{}
			for _, e := range state {
				in = append(in, api.InputRoomEvent{Kind: api.KindOutlier, Event: e})
				byType[e.Type()] = e.EventID()
			}
			in = orderOutliers(in)
			rem := newRemote(t, resident)
			create, pl, member := byType[spec.MRoomCreate], byType[spec.MRoomPowerLevels], byType[spec.MRoomMember]
			now := time.Now()
			// Not a member: rejected by its own auth events.
			bad := rem.build(roomID, "@mallory:other.test", "m.room.topic", strp(""), map[string]string{"topic": "x"}, []string{member}, []string{create, pl}, 5, now)
			citing := rem.build(roomID, alice, "m.room.name", strp(""), map[string]string{"name": "n"}, []string{member}, []string{create, pl, member, bad.EventID()}, 6, now)
			unknown := rem.build(roomID, alice, "m.room.name", strp(""), map[string]string{"name": "m"}, []string{member}, []string{create, "$nope"}, 6, now)
			n := len(in)
			in = append(in, api.InputRoomEvent{Kind: api.KindOutlier, Event: bad}, api.InputRoomEvent{Kind: api.KindOutlier, Event: citing},
				in[1], api.InputRoomEvent{Kind: api.KindOutlier, Event: unknown})
			resp, err := joiner.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: in})
			must(t, err)
			for i, r := range resp.Results[:n] {
				if r.Err != nil {
					t.Fatalf("state event %d refused: %v", i, r.Err)
				}
			}
			got := resp.Results[n:]
			if got[0].Err == nil || got[1].Err == nil || !got[2].Duplicate || len(got[3].MissingAuthEvents) != 1 || got[3].MissingAuthEvents[0] != "$nope" {
				t.Fatalf("run results %+v", got)
			}

			// A later request, a run again (two events): a repeat of the
			// rejected event and an outlier citing the run's events.
			topic := rem.build(roomID, alice, "m.room.topic", strp(""), map[string]string{"topic": "ok"}, []string{member}, []string{create, pl, member}, 7, now)
			resp, err = joiner.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{
				{Kind: api.KindOutlier, Event: bad}, {Kind: api.KindOutlier, Event: topic}}})
			must(t, err)
			if !resp.Results[0].Duplicate || resp.Results[1].Err != nil {
				t.Fatalf("second run %+v", resp.Results)
			}
			rows, err := joiner.db.EventsByID(ctx, joiner.db, []string{create, pl, member, bad.EventID(), citing.EventID(), unknown.EventID(), topic.EventID()})
			must(t, err)
			status := map[string]int{}
			for _, r := range rows {
				if r.NID == 0 || len(r.JSON) == 0 {
					t.Fatalf("row %+v", r)
				}
				status[r.EventID] = r.Status
			}
			want := map[string]int{create: storage.StatusOutlier, pl: storage.StatusOutlier, member: storage.StatusOutlier,
				bad.EventID(): storage.StatusRejected, citing.EventID(): storage.StatusRejected, topic.EventID(): storage.StatusOutlier}
			if len(status) != len(want) {
				t.Fatalf("stored %v, want %v", status, want)
			}
			for id, s := range want {
				if status[id] != s {
					t.Fatalf("%s stored with status %d, want %d", id, status[id], s)
				}
			}
		})
	}
}
