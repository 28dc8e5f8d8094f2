package roomserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// TestGapStateResolutionV2_1: in room v12 a remote server steps us over
// a gap with state that disagrees with ours: it says the join rule is
// still public (it was made invite-only) while both sides agree the user
// who changed it has left. State res v2.1 replays the conflicted join
// rules from each event's own auth events, where that user was still
// joined, so the invite rule stands (MSC4297, Complement
// TestMSC4297StateResolutionV2_1_starts_from_empty_set), and the remote
// user's events after the gap are accepted. When his last membership
// change (a re-join, which the invite rule forbids) fails the replay,
// his membership resolves to the event before it, which is in the
// conflicted subgraph but in neither state set: it must still be state.
func TestGapStateResolutionV2_1(t *testing.T) {
	for _, be := range storagetest.Backends() {
		for _, rejoin := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/rejoin=%v", be.Name, rejoin), func(t *testing.T) {
				gapStateResolutionV2_1(t, be.NewDSN(t), rejoin)
			})
		}
	}
}

func gapStateResolutionV2_1(t *testing.T, dsn string, rejoin bool) {
	ctx := context.Background()
	rs, _ := newTestServer(t, dsn)
	rem := newRemote(t, rs)
	rem.version = "12"
	alice, bob, charlie := "@alice:"+testServer, "@bob:"+testServer, "@charlie:other.test"
	roomID := createTestRoom(t, rs, alice, "12", "public")
	if res := send(t, rs, local(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"})); res.Err != nil {
		t.Fatal(res.Err)
	}
	publicRule := rem.stateIDs(roomID, tJR)[0]
	join := rem.join(roomID, charlie, tPL, tJR)
	invite := send(t, rs, local(roomID, alice, "m.room.join_rules", strp(""), map[string]string{"join_rule": "invite"}))
	leave := send(t, rs, local(roomID, alice, "m.room.member", strp(alice), map[string]string{"membership": "leave"}))
	if invite.Err != nil || leave.Err != nil {
		t.Fatal(invite.Err, leave.Err)
	}
	// Charlie renames himself over and over (a second apart: state res
	// orders them by time); we miss all but the last two. With rejoin,
	// chain[3] is his leave and chain[4] his join under the public rule.
	plID := rem.stateIDs(roomID, tPL)[0]
	prev, member := string(leave.EventID), join.EventID()
	var chain []*api.Event
	for i := range 6 {
		content, auth := map[string]string{"membership": "join", "displayname": fmt.Sprint("Charlie ", i)}, []string{plID, member}
		switch {
		case rejoin && i == 3:
			content = map[string]string{"membership": "leave"}
		case rejoin && i == 4:
			auth = append(auth, publicRule)
		}
		ev := rem.build(roomID, charlie, "m.room.member", strp(charlie), content,
			[]string{prev}, auth, int64(20+i), time.Now().Add(time.Duration(i)*time.Second))
		chain = append(chain, ev)
		prev, member = ev.EventID(), ev.EventID()
	}
	var outliers []api.InputRoomEvent
	for _, ev := range chain[:4] {
		outliers = append(outliers, api.InputRoomEvent{Kind: api.KindOutlier, Event: ev})
	}
	resp, err := rs.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: outliers})
	must(t, err)
	for _, r := range resp.Results {
		if r.Err != nil {
			t.Fatalf("outlier: %v", r.Err)
		}
	}
	// The wrong state before chain[4]: the public rule, alice gone.
	state := append(rem.stateIDs(roomID, tCreate, tPL, api.StateKey{Type: "m.room.member", StateKey: bob}),
		publicRule, string(leave.EventID), chain[3].EventID())
	resp, err = rs.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{
		{Kind: api.KindNew, Event: chain[4], HasState: true, StateEventIDs: state},
	}})
	must(t, err)
	if r := resp.Results[0]; r.Err != nil || r.SoftFailed {
		t.Fatalf("event after the gap: %+v", r)
	}
	wantMember := chain[3].EventID()
	if !rejoin {
		if r := rem.input(chain[5]); r.Err != nil || r.SoftFailed {
			t.Fatalf("next event: %+v", r)
		}
		wantMember = chain[5].EventID()
	}
	evs, err := rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []api.StateKey{tJR, {Type: "m.room.member", StateKey: charlie}})
	must(t, err)
	got := map[string]string{}
	for _, e := range evs {
		got[e.Type()] = e.EventID()
	}
	if got["m.room.join_rules"] != string(invite.EventID) {
		t.Errorf("join rules %s, want the invite rule %s (public is %s)", got["m.room.join_rules"], invite.EventID, publicRule)
	}
	if got["m.room.member"] != wantMember {
		t.Errorf("charlie's member event %q, want %s", got["m.room.member"], wantMember)
	}
}
