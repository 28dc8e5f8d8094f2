package e2e

import (
	"net/url"
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// membersAt is the sorted joined user IDs of /members?at=at ("" for now),
// and the response status.
func membersAt(t *testing.T, c *mautrix.Client, room id.RoomID, at string) ([]string, int) {
	t.Helper()
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(room.String()) + "/members?membership=join"
	if at != "" {
		path += "&at=" + url.QueryEscape(at)
	}
	r := roomsDo(t, c, "GET", path, nil)
	var users []string
	chunk, _ := r.Body["chunk"].([]any)
	for _, ev := range chunk {
		if m, ok := ev.(map[string]any); ok {
			sk, _ := m["state_key"].(string)
			users = append(users, sk)
		}
	}
	slices.Sort(users)
	return users, r.Status
}

// /members?at= takes a /sync token (what clients keep), a /messages
// token or an event ID, and answers the members at that point; a former
// member sees no further than their leave, and a point hidden by history
// visibility is refused.
func TestRoomsMembersAt(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	carol := inst.Register("carol", "password123")
	a, b, c := alice.UserID.String(), bob.UserID.String(), carol.UserID.String()
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	hello := syncSend(t, alice, room, "hello")
	first := syncOnce(t, alice, "", 0, "")
	aliceOnly := first.NextBatch
	// The timeline of that sync starts at the create event.
	roomStart := first.Rooms.Join[room].Timeline.PrevBatch

	_, err := bob.JoinRoomByID(roomsCtx, room)
	roomsNoErr(t, err)
	syncSend(t, bob, room, "hi")
	both := syncOnce(t, bob, "", 0, "").NextBatch

	check := func(who *mautrix.Client, at string, want ...string) {
		t.Helper()
		got, status := membersAt(t, who, room, at)
		if status != 200 || !slices.Equal(got, want) {
			t.Fatalf("members at %q for %s: %d %v, want %v", at, who.UserID, status, got, want)
		}
	}
	check(alice, "", a, b)
	check(alice, aliceOnly, a)
	check(bob, aliceOnly, a) // shared history: bob may look before his join
	check(alice, hello.String(), a)
	check(alice, "t1", a) // before anyone joined: the room as it began
	check(alice, roomStart, a)
	check(alice, both, a, b)

	if _, s := membersAt(t, alice, room, "garbage"); s != 400 {
		t.Fatalf("bad at: %d", s)
	}
	if _, s := membersAt(t, alice, room, "$nope"); s != 404 {
		t.Fatalf("unknown event: %d", s)
	}

	// Bob leaves, carol joins: bob sees the room as he left it.
	_, err = bob.LeaveRoom(roomsCtx, room)
	roomsNoErr(t, err)
	_, err = carol.JoinRoomByID(roomsCtx, room)
	roomsNoErr(t, err)
	now := syncOnce(t, alice, "", 0, "").NextBatch
	check(alice, now, a, c)
	check(bob, "", a)
	check(bob, now, a)
	check(bob, both, a, b)

	// With "joined" history visibility, a point before one's join is hidden.
	private := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat",
		InitialState: []*event.Event{{Type: event.StateHistoryVisibility, Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityJoined}}}}})
	syncSend(t, alice, private, "before carol")
	before := syncOnce(t, alice, "", 0, "").NextBatch
	_, err = carol.JoinRoomByID(roomsCtx, private)
	roomsNoErr(t, err)
	if _, s := membersAt(t, carol, private, before); s != 403 {
		t.Fatalf("members before joining a joined-visibility room: %d", s)
	}
	if got, s := membersAt(t, carol, private, ""); s != 200 || len(got) != 2 {
		t.Fatalf("current members of the joined-visibility room: %d %v", s, got)
	}
}
