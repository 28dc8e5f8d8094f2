package roomserver

import (
	"context"
	"fmt"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestMemberCountsAcrossChanges checks the joined count of the room
// summary and the server-in-room answers, which read memberships through
// the membership cache, against joins, leaves and an invite, with the
// caches warm and cold (more members than one load chunk).
func TestMemberCountsAcrossChanges(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, be.NewDSN(t))
			owner := "@owner:" + testServer
			room := createTestRoom(t, rs, owner, "10", "public")
			rid := matrixid.RoomID(room)
			member := func(i int) string { return fmt.Sprintf("@m%d:%s", i, testServer) }
			setMembership := func(u, sender, m string) {
				t.Helper()
				if res := send(t, rs, local(room, sender, "m.room.member", strp(u), map[string]any{"membership": m})); res.Err != nil {
					t.Fatalf("%s %s: %v", m, u, res.Err)
				}
			}
			check := func(wantJoined int, wantInvited bool) {
				t.Helper()
				for _, cold := range []bool{false, true} {
					if cold {
						rs.memberships.clear()
						rs.events.clear()
					}
					s, err := rs.QueryRoomSummary(ctx, rid)
					if err != nil || s.NumJoinedMembers != wantJoined {
						t.Errorf("cold=%v: joined %d, %v; want %d", cold, s.NumJoinedMembers, err, wantJoined)
					}
					if in, err := rs.QueryServerInRoom(ctx, rid, testServer); err != nil || !in {
						t.Errorf("cold=%v: this server in room: %v, %v", cold, in, err)
					}
					if in, err := rs.QueryServerInRoom(ctx, rid, "elsewhere.example"); err != nil || in {
						t.Errorf("cold=%v: other server in room: %v, %v", cold, in, err)
					}
					if inv, err := rs.QueryServerInvited(ctx, rid, testServer); err != nil || inv != wantInvited {
						t.Errorf("cold=%v: this server invited: %v, %v; want %v", cold, inv, err, wantInvited)
					}
				}
			}
			const n = membershipChunk + 44
			for i := range n {
				setMembership(member(i), member(i), "join")
			}
			check(n+1, false)
			for i := range 10 {
				setMembership(member(i), member(i), "leave")
			}
			check(n+1-10, false)
			setMembership(member(0), owner, "invite")
			check(n+1-10, true)
			setMembership(member(0), member(0), "join")
			check(n+1-9, false)
		})
	}
}
