package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// rawJSON is a hand-made GET's body as gjson.
func rawJSON(t testing.TB, c *mautrix.Client, path string) gjson.Result {
	t.Helper()
	r := roomsDo(t, c, "GET", path, nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %v", path, r.Status, r.Body)
	}
	data, err := json.Marshal(r.Body)
	must(t, err)
	return gjson.ParseBytes(data)
}

// A state event carries what it replaced in unsigned: prev_content,
// prev_sender and replaces_state (spec ClientEvent). A redaction of the
// replaced event empties that prev_content too.
func TestRoomsStatePrevContent(t *testing.T) {
	ctx := context.Background()
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	one, err := alice.SendStateEvent(ctx, room, event.StateTopic, "", map[string]string{"topic": "one"})
	must(t, err)
	two, err := alice.SendStateEvent(ctx, room, event.StateTopic, "", map[string]string{"topic": "two"})
	must(t, err)
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(room.String()) + "/event/" + url.PathEscape(two.EventID.String())
	testutil.Eventually(t, 20*time.Second, "the second topic served", func() bool {
		return roomsDo(t, alice, "GET", path, nil).Status == 200
	})
	ev := rawJSON(t, alice, path)
	if ev.Get("unsigned.prev_content.topic").Str != "one" || ev.Get("unsigned.prev_sender").Str != alice.UserID.String() ||
		ev.Get("unsigned.replaces_state").Str != one.EventID.String() {
		t.Fatalf("second topic's unsigned: %s", ev.Get("unsigned").Raw)
	}
	if _, err := alice.RedactEvent(ctx, room, one.EventID); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "prev_content redacted", func() bool {
		ev = rawJSON(t, alice, path)
		return ev.Get("unsigned.prev_content").IsObject() && !ev.Get("unsigned.prev_content.topic").Exists()
	})
}

// The join of a remote room replaces the invite its server held out of
// band: the join shows it as prev_content, is_direct included
// (Complement TestFederationRoomsInvite "Invited user has 'is_direct'
// flag in prev_content after joining").
func TestFederationJoinPrevContentIsInvite(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	bs := newFedSyncer(t, bob)
	const wait = 20 * time.Second
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}, IsDirect: true})
	bs.until(wait, "bob's invite", func() bool { return bs.invite[room] })
	if _, err := bob.JoinRoom(ctx, room.String(), nil); err != nil {
		t.Fatalf("bob joins: %v", err)
	}
	bs.until(wait, "bob's join", func() bool { return bs.membershipOf(room, bob.UserID) == "join" })
	s := rawJSON(t, bob, "/_matrix/client/v3/sync")
	var r gjson.Result
	s.Get("rooms.join").ForEach(func(k, v gjson.Result) bool {
		if k.Str == room.String() {
			r = v
		}
		return true
	})
	var join gjson.Result
	for _, ev := range append(r.Get("state.events").Array(), r.Get("timeline.events").Array()...) {
		if ev.Get("type").Str == "m.room.member" && ev.Get("state_key").Str == bob.UserID.String() {
			join = ev
		}
	}
	if join.Get("content.membership").Str != "join" || join.Get("unsigned.prev_content.membership").Str != "invite" ||
		!join.Get("unsigned.prev_content.is_direct").Bool() || join.Get("unsigned.prev_sender").Str != alice.UserID.String() {
		t.Fatalf("bob's join: %s", join.Raw)
	}
}
