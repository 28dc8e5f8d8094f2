package e2e

import (
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestIgnoreUsers: after alice ignores bob, his messages, invites and
// to-device messages disappear from her /sync, sliding sync, /messages,
// /context, /notifications and push, while his state events still
// arrive; un-ignoring brings new messages back from the next sync.
func TestIgnoreUsers(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = allowLoopbackGateways
		inst := testserver.Start(t, opts)
		gw := newPushGateway(t)
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		carol := inst.Register("carol", "password1")
		room := syncRoom(t, alice, bob, carol)
		if r := pushSet(t, alice, gw, "alice-phone", nil, nil); r.Status != 200 {
			t.Fatalf("set pusher: %d %v", r.Status, r.Body)
		}
		since := syncOnce(t, alice, "", 0, "").NextBatch

		setIgnored(t, alice, bob.UserID)
		since = syncOnce(t, alice, since, 0, "").NextBatch // the change applies from the next sync
		fromBob := syncSend(t, bob, room, "from bob")
		if err := bob.SetDisplayName(syncCtx, "Bobby"); err != nil { // a state event in the room
			t.Fatalf("displayname: %v", err)
		}
		fromCarol := syncSend(t, carol, room, "from carol")
		sendToDevice(t, bob, alice, "from bob")
		sendToDevice(t, carol, alice, "from carol")
		bobRoom := syncRoom(t, bob)
		if _, err := bob.InviteUser(syncCtx, bobRoom, &mautrix.ReqInviteUser{UserID: alice.UserID}); err != nil {
			t.Fatalf("invite: %v", err)
		}
		carolRoom := syncRoom(t, carol)
		if _, err := carol.InviteUser(syncCtx, carolRoom, &mautrix.ReqInviteUser{UserID: alice.UserID}); err != nil {
			t.Fatalf("invite: %v", err)
		}

		// /sync: carol's message, invite and to-device arrive; bob's do
		// not, but his member event (state) does.
		var bodies, toDevice []string
		var bobState, carolInvite, bobInvite bool
		syncUntil(t, alice, since, 20*time.Second, func(resp *mautrix.RespSync) bool {
			if jr := resp.Rooms.Join[room]; jr != nil {
				bodies = append(bodies, syncBodies(jr.Timeline.Events)...)
				for _, ev := range jr.Timeline.Events {
					if ev.Type == event.StateMember && ev.Sender == bob.UserID {
						bobState = true
					}
				}
			}
			for _, ev := range resp.ToDevice.Events {
				if b, ok := ev.Content.Raw["body"].(string); ok {
					toDevice = append(toDevice, b)
				}
			}
			carolInvite = carolInvite || resp.Rooms.Invite[carolRoom] != nil
			bobInvite = bobInvite || resp.Rooms.Invite[bobRoom] != nil
			return slices.Contains(bodies, "from carol") && carolInvite && slices.Contains(toDevice, "from carol") && bobState
		})
		if slices.Contains(bodies, "from bob") || bobInvite || slices.Contains(toDevice, "from bob") {
			t.Fatalf("ignored user leaked into /sync: bodies %v, invite %v, to-device %v", bodies, bobInvite, toDevice)
		}
		// An initial sync does not show the invite either.
		if resp := syncOnce(t, alice, "", 0, ""); resp.Rooms.Invite[bobRoom] != nil || resp.Rooms.Invite[carolRoom] == nil {
			t.Fatalf("initial sync invites: %v", resp.Rooms.Invite)
		}

		// /messages and /context.
		msgs, err := alice.Messages(syncCtx, room, "", "", mautrix.DirectionBackward, nil, 50)
		if err != nil {
			t.Fatalf("messages: %v", err)
		}
		if got := syncBodies(msgs.Chunk); slices.Contains(got, "from bob") || !slices.Contains(got, "from carol") {
			t.Fatalf("/messages: %v", got)
		}
		c, err := alice.Context(syncCtx, room, fromCarol, nil, 10)
		if err != nil {
			t.Fatalf("context: %v", err)
		}
		if got := syncBodies(c.EventsBefore); slices.Contains(got, "from bob") {
			t.Fatalf("/context before: %v", got)
		}
		if _, err := alice.Context(syncCtx, room, fromBob, nil, 10); roomsErrCode(err) != "M_NOT_FOUND" {
			t.Fatalf("/context of an ignored user's event: %v", err)
		}

		// Push and /notifications: carol's message only (delivery is in
		// order, so bob's would have come first).
		testutil.Eventually(t, pushWithin, "push for carol", func() bool { return len(gw.find("alice-phone", forEvent(string(fromCarol)))) > 0 })
		if n := gw.find("alice-phone", forEvent(string(fromBob))); len(n) != 0 {
			t.Fatalf("pushed an ignored user's message: %+v", n)
		}
		nr := roomsDo(t, alice, "GET", "/_matrix/client/v3/notifications", nil)
		var notified []string
		for _, n := range nr.Body["notifications"].([]any) {
			ev := n.(map[string]any)["event"].(map[string]any)
			notified = append(notified, ev["event_id"].(string))
		}
		if slices.Contains(notified, string(fromBob)) || !slices.Contains(notified, string(fromCarol)) {
			t.Fatalf("/notifications: %v (bob %s, carol %s)", notified, fromBob, fromCarol)
		}

		// Sliding sync timeline.
		sr := roomsDo(t, alice, "POST", "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync", map[string]any{
			"lists": map[string]any{"all": map[string]any{"ranges": [][2]int{{0, 9}}, "timeline_limit": 20}},
		})
		rooms, _ := sr.Body["rooms"].(map[string]any)
		if got := slidingBodies(rooms[room.String()]); slices.Contains(got, "from bob") || !slices.Contains(got, "from carol") {
			t.Fatalf("sliding sync timeline: %v", got)
		}
		if _, ok := rooms[bobRoom.String()]; ok {
			t.Fatalf("sliding sync shows the ignored user's invite")
		}

		// Un-ignore: new messages come back at the next sync.
		since = syncOnce(t, alice, "", 0, "").NextBatch
		setIgnored(t, alice)
		syncSend(t, bob, room, "bob again")
		syncUntil(t, alice, since, 20*time.Second, func(resp *mautrix.RespSync) bool {
			jr := resp.Rooms.Join[room]
			return jr != nil && slices.Contains(syncBodies(jr.Timeline.Events), "bob again")
		})
	})
}

func setIgnored(t testing.TB, c *mautrix.Client, users ...id.UserID) {
	t.Helper()
	ignored := map[string]any{}
	for _, u := range users {
		ignored[u.String()] = map[string]any{}
	}
	if err := c.SetAccountData(syncCtx, "m.ignored_user_list", map[string]any{"ignored_users": ignored}); err != nil {
		t.Fatalf("set ignored users: %v", err)
	}
}

func sendToDevice(t testing.TB, from, to *mautrix.Client, body string) {
	t.Helper()
	_, err := from.SendToDevice(syncCtx, event.NewEventType("org.example.test"), &mautrix.ReqSendToDevice{
		Messages: map[id.UserID]map[id.DeviceID]*event.Content{to.UserID: {to.DeviceID: {Raw: map[string]any{"body": body}}}},
	})
	if err != nil {
		t.Fatalf("send to-device: %v", err)
	}
}

// slidingBodies returns the message bodies of a sliding sync room's timeline.
func slidingBodies(room any) []string {
	rm, _ := room.(map[string]any)
	tl, _ := rm["timeline"].([]any)
	var out []string
	for _, e := range tl {
		ev, _ := e.(map[string]any)
		c, _ := ev["content"].(map[string]any)
		if b, ok := c["body"].(string); ok && ev["type"] == "m.room.message" {
			out = append(out, b)
		}
	}
	return out
}
