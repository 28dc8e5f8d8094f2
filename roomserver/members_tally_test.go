package roomserver

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// walkTally counts the room's current members by reading every member
// event of its current state: what the maintained tally must equal.
func walkTally(t *testing.T, rs *RoomServer, roomID string) *memberTally {
	t.Helper()
	evs, err := rs.QueryCurrentState(context.Background(), matrixid.RoomID(roomID), []api.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if err != nil {
		t.Fatal(err)
	}
	want := newMemberTally()
	for _, e := range evs {
		want.add(*e.StateKey(), membershipOf(e.PDU), 1)
	}
	return want
}

// TestMemberTallyAcrossChanges moves membership through every kind of
// change (join, invite, kick, ban, unban, rejoin, a remote join and a
// remote leave merged by state resolution off a fork) and checks after
// each that the tally the room head carries forward equals a fresh count
// of the state, that it was carried (not rebuilt), and that the queries
// answer from it, then the same after a restart (cold caches).
func TestMemberTallyAcrossChanges(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := be.NewDSN(t)
			rs, _ := newTestServer(t, dsn)
			rem := newRemote(t, rs)
			alice, bob, carol := "@alice:"+testServer, "@bob:"+testServer, "@carol:other.test"
			dave, erin := "@dave:other.test", "@erin:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			send(t, rs, local(roomID, alice, "m.room.power_levels", strp(""), map[string]any{"users": map[string]int{alice: 100, carol: 100}}))
			rid := matrixid.RoomID(roomID)
			check := func(rs *RoomServer, step string, wantJoined int, wantJoinedBy, wantInvitedBy map[string]int) {
				t.Helper()
				s, err := rs.QueryRoomSummary(ctx, rid)
				if err != nil || s.NumJoinedMembers != wantJoined || s.JoinRule != "public" {
					t.Errorf("%s: summary joined %d, join rule %q, %v; want %d", step, s.NumJoinedMembers, s.JoinRule, err, wantJoined)
				}
				rm, err := rs.mustRoom(ctx, roomID)
				if err != nil {
					t.Fatal(err)
				}
				rm.mu.RLock()
				got := rm.tally
				rm.mu.RUnlock()
				if got == nil {
					t.Fatalf("%s: no tally on the room head after a query", step)
				}
				walked := walkTally(t, rs, roomID)
				for _, c := range []struct {
					name      string
					got, want map[string]int
				}{{"joined by server", got.joinedBy, wantJoinedBy}, {"invited by server", got.invitedBy, wantInvitedBy}, {"walked joined by server", walked.joinedBy, wantJoinedBy}, {"walked invited by server", walked.invitedBy, wantInvitedBy}} {
					if !maps.Equal(c.got, c.want) {
						t.Errorf("%s: %s %v, want %v", step, c.name, c.got, c.want)
					}
				}
				if got.joined != wantJoined || walked.joined != wantJoined {
					t.Errorf("%s: tally joined %d, walked %d, want %d", step, got.joined, walked.joined, wantJoined)
				}
				for _, srv := range []string{testServer, "other.test", "nowhere.test"} {
					in, err := rs.QueryServerInRoom(ctx, rid, srv)
					if err != nil || in != (wantJoinedBy[srv] > 0) {
						t.Errorf("%s: %s in room %v, %v", step, srv, in, err)
					}
					inv, err := rs.QueryServerInvited(ctx, rid, srv)
					if err != nil || inv != (wantInvitedBy[srv] > 0) {
						t.Errorf("%s: %s invited %v, %v", step, srv, inv, err)
					}
				}
			}
			setMembership := func(u, sender, m string) {
				t.Helper()
				if res := send(t, rs, local(roomID, sender, "m.room.member", strp(u), map[string]any{"membership": m})); res.Err != nil {
					t.Fatalf("%s %s: %v", m, u, res.Err)
				}
			}
			here := testServer
			check(rs, "created", 1, map[string]int{here: 1}, map[string]int{})
			setMembership(bob, bob, "join")
			check(rs, "join", 2, map[string]int{here: 2}, map[string]int{})
			setMembership(erin, alice, "invite")
			check(rs, "remote invite", 2, map[string]int{here: 2}, map[string]int{"other.test": 1})
			setMembership(bob, alice, "leave")
			check(rs, "kick", 1, map[string]int{here: 1}, map[string]int{"other.test": 1})
			setMembership(bob, alice, "ban")
			check(rs, "ban", 1, map[string]int{here: 1}, map[string]int{"other.test": 1})
			setMembership(bob, alice, "leave")
			setMembership(bob, bob, "join")
			check(rs, "unban and rejoin", 2, map[string]int{here: 2}, map[string]int{"other.test": 1})
			setMembership(erin, alice, "leave")
			check(rs, "invite withdrawn", 2, map[string]int{here: 2}, map[string]int{})

			// A fork: carol joins; the room moves on locally; off carol's
			// join, dave joins and carol leaves on a remote branch. Each
			// merge changes membership through state resolution.
			forkPoint := rem.join(roomID, carol, tCreate, tPL, tJR).EventID()
			check(rs, "remote join", 3, map[string]int{here: 2, "other.test": 1}, map[string]int{})
			send(t, rs, local(roomID, alice, "m.room.topic", strp(""), map[string]string{"topic": "local branch"}))
			auth := append(rem.stateIDs(roomID, tCreate, tPL, tJR), forkPoint)
			daveJoin := rem.build(roomID, dave, "m.room.member", strp(dave), map[string]string{"membership": "join"},
				[]string{forkPoint}, rem.stateIDs(roomID, tCreate, tPL, tJR), 11, time.Now())
			if res := rem.input(daveJoin); res.Err != nil || res.SoftFailed {
				t.Fatalf("dave's join on the fork: %+v", res)
			}
			if tips, err := rs.QueryForwardExtremities(ctx, rid); err != nil || len(tips) != 2 {
				t.Fatalf("tips after the fork %v, %v; want 2", tips, err)
			}
			check(rs, "fork merge adds a member", 4, map[string]int{here: 2, "other.test": 2}, map[string]int{})
			carolLeave := rem.build(roomID, carol, "m.room.member", strp(carol), map[string]string{"membership": "leave"},
				[]string{forkPoint}, auth, 11, time.Now().Add(time.Second))
			if res := rem.input(carolLeave); res.Err != nil || res.SoftFailed {
				t.Fatalf("carol's leave on the fork: %+v", res)
			}
			check(rs, "fork merge removes a member", 3, map[string]int{here: 2, "other.test": 1}, map[string]int{})

			// A restart: the head and the tally are rebuilt from storage.
			rs.Close()
			rs2, _ := newTestServer(t, dsn)
			check(rs2, "after restart", 3, map[string]int{here: 2, "other.test": 1}, map[string]int{})
			rs = rs2
			setMembership(bob, bob, "leave")
			check(rs, "leave after restart", 2, map[string]int{here: 1, "other.test": 1}, map[string]int{})
		})
	}
}
