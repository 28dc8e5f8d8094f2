package e2e

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/server/testserver"
)

// Concurrent power-level changes on A and B while they are partitioned
// (each made while the other is stopped) fork the room; once both are up
// and have exchanged the events, state resolution gives both the same
// power levels.
func TestFederationStateResolutionConverges(t *testing.T) {
	ctx := context.Background()
	a, b, alice, bob, room := fedJoinedPair(t, testserver.Options{})
	pl := func(ban int) map[string]any {
		return map[string]any{"users": map[string]int{alice.UserID.String(): 100, bob.UserID.String(): 100},
			"ban": ban, "kick": 50, "redact": 50, "invite": 0, "state_default": 50, "events_default": 0, "users_default": 0}
	}
	if _, err := alice.SendStateEvent(ctx, room, event.StatePowerLevels, "", pl(50)); err != nil {
		t.Fatal(err)
	}
	currentPL := func(inst *testserver.Instance) string {
		evs, err := inst.Server.Rooms.QueryCurrentState(ctx, room.String(), []rsapi.StateKey{{Type: "m.room.power_levels"}})
		if err != nil || len(evs) == 0 {
			return ""
		}
		return evs[0].EventID()
	}
	fedWait(t, 20*time.Second, "bob's power on B", func() bool { return currentPL(b) == currentPL(a) })

	b.Stop()
	if _, err := alice.SendStateEvent(ctx, room, event.StatePowerLevels, "", pl(60)); err != nil {
		t.Fatal(err)
	}
	a.Stop()
	b = b.Restart()
	bob, _ = mautrix.NewClient(b.URL, bob.UserID, bob.AccessToken)
	if _, err := bob.SendStateEvent(ctx, room, event.StatePowerLevels, "", pl(70)); err != nil {
		t.Fatal(err)
	}
	a = a.Restart()
	alice, _ = mautrix.NewClient(a.URL, alice.UserID, alice.AccessToken)
	// Traffic both ways ends each side's backoff for the other.
	syncSend(t, alice, room, "A is back")
	syncSend(t, bob, room, "B is back")
	fedWait(t, 90*time.Second, "both sides resolve to the same power levels", func() bool {
		pa, pb := currentPL(a), currentPL(b)
		return pa != "" && pa == pb
	})
	for _, inst := range []*testserver.Instance{a, b} {
		ext, _ := inst.Server.Rooms.QueryForwardExtremities(ctx, room.String())
		t.Logf("%s: power levels %s, %d forward extremities", inst.Cfg.ServerName, currentPL(inst), len(ext))
	}
}
