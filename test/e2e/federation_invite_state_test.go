package e2e

import (
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// A remote invite shows the room's stripped state the inviting server
// sent, the create event included (required in invite_state since
// Matrix 1.16, MSC4311), in the stripped form: type, state_key, sender
// and content only.
func TestFederationInviteState(t *testing.T) {
	a, b := fedPair(t)
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	bs := newFedSyncer(t, bob)
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "Invites room", Invite: []id.UserID{bob.UserID}})
	bs.until(20*time.Second, "bob's invite", func() bool { return bs.invite[room] })
	s := rawJSON(t, bob, "/_matrix/client/v3/sync")
	var events []gjson.Result
	s.Get("rooms.invite").ForEach(func(k, v gjson.Result) bool {
		if k.Str == room.String() {
			events = v.Get("invite_state.events").Array()
		}
		return true
	})
	got := map[string]gjson.Result{}
	for _, ev := range events {
		got[ev.Get("type").Str] = ev
		for _, k := range []string{"event_id", "origin_server_ts", "signatures", "auth_events"} {
			if ev.Get(k).Exists() {
				t.Errorf("stripped %s has %s: %s", ev.Get("type").Str, k, ev.Raw)
			}
		}
	}
	if got["m.room.create"].Get("sender").Str != alice.UserID.String() || got["m.room.name"].Get("content.name").Str != "Invites room" ||
		got["m.room.member"].Get("content.membership").Str != "invite" {
		t.Fatalf("invite_state: %v", events)
	}
}
