package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/server/testserver"
)

// Concurrent power-level changes on A and B while they are partitioned
// (each made while the other is stopped) fork the room; once both are up
// and have exchanged the events, state resolution gives both the same
// power levels, and the right ones: both senders have power 100, so the
// v2 algorithm orders the two changes by origin_server_ts and the later
// one (bob's, made after alice's) is applied last and wins.
func TestFederationStateResolutionConverges(t *testing.T) {
	ctx := context.Background()
	a, b, alice, bob, room := fedJoinedPair(t, testserver.Options{})
	pl := func(ban int) map[string]any {
		return map[string]any{"users": map[string]int{alice.UserID.String(): 100, bob.UserID.String(): 100},
			"ban": ban, "kick": 50, "redact": 50, "invite": 0, "state_default": 50, "events_default": 0, "users_default": 0}
	}
	setPL := func(c *mautrix.Client, ban int) string {
		t.Helper()
		resp, err := c.SendStateEvent(ctx, room, event.StatePowerLevels, "", pl(ban))
		if err != nil {
			t.Fatal(err)
		}
		return resp.EventID.String()
	}
	// currentPL is the event ID and ban level of inst's current power levels.
	currentPL := func(inst *testserver.Instance) (string, int) {
		evs, err := inst.Server.Rooms.QueryCurrentState(ctx, matrixid.RoomID(room.String()), []rsapi.StateKey{{Type: "m.room.power_levels"}})
		if err != nil || len(evs) == 0 {
			return "", 0
		}
		var c struct {
			Ban int `json:"ban"`
		}
		if err := json.Unmarshal(evs[0].Content(), &c); err != nil {
			t.Errorf("power levels content: %v", err)
		}
		return evs[0].EventID(), c.Ban
	}
	base := setPL(alice, 50)
	testutil.Eventually(t, 20*time.Second, "alice's power levels on B", func() bool { id, _ := currentPL(b); return id == base })

	b.Stop()
	alicePL := setPL(alice, 60)
	a.Stop()
	b = b.Restart()
	bob, err := mautrix.NewClient(b.URL, bob.UserID, bob.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	bobPL := setPL(bob, 70)
	a = a.Restart()
	if alice, err = mautrix.NewClient(a.URL, alice.UserID, alice.AccessToken); err != nil {
		t.Fatal(err)
	}
	// Traffic both ways ends each side's backoff for the other.
	syncSend(t, alice, room, "A is back")
	syncSend(t, bob, room, "B is back")
	testutil.Eventually(t, 90*time.Second, "both sides to agree on one of the forked power levels", func() bool {
		pa, _ := currentPL(a)
		pb, _ := currentPL(b)
		return pa == pb && (pa == bobPL || pa == alicePL)
	})
	for _, inst := range []*testserver.Instance{a, b} {
		if id, ban := currentPL(inst); id != bobPL || ban != 70 {
			t.Fatalf("%s resolved to %s (ban %d); want bob's %s (ban 70), not alice's %s", inst.Cfg.ServerName, id, ban, bobPL, alicePL)
		}
		for _, u := range []*mautrix.Client{alice, bob} {
			if m, _, err := inst.Server.Rooms.QueryMembership(ctx, matrixid.RoomID(room.String()), matrixid.UserID(u.UserID.String())); err != nil || m != "join" {
				t.Fatalf("%s: %s is %q after resolution (%v), want join", inst.Cfg.ServerName, u.UserID, m, err)
			}
		}
	}
}
