package e2e

import (
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// Joining a room one is already joined to with the same content sends no
// new member event; custom keys of the /join body are kept in the member
// event, by room ID and by alias, and a join with other content is a new
// event.
func TestRoomsJoinIdempotentAndCustomContent(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "joinme"})
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(roomID.String()) + "/state/m.room.member/" + url.PathEscape(bob.UserID.String())

	if r := roomsDo(t, bob, "POST", "/_matrix/client/v3/join/"+url.PathEscape(roomID.String()), map[string]any{}); r.Status != 200 || r.Body["room_id"] != roomID.String() {
		t.Fatalf("join: %d %v", r.Status, r.Body)
	}
	first := roomsMemberEventID(t, alice, roomID, bob.UserID.String())
	if r := roomsDo(t, bob, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID.String())+"/join", map[string]any{}); r.Status != 200 {
		t.Fatalf("join again: %d %v", r.Status, r.Body)
	}
	if again := roomsMemberEventID(t, alice, roomID, bob.UserID.String()); again != first {
		t.Fatalf("second identical join sent a new event: %s then %s", first, again)
	}

	// Custom content by alias: a new event that keeps the custom key;
	// the server's own keys (membership, displayname) are not taken from the body.
	if r := roomsDo(t, bob, "POST", "/_matrix/client/v3/join/"+url.PathEscape("#joinme:"+inst.Cfg.ServerName), map[string]any{
		"foo": "bar", "membership": "leave", "displayname": "Not Bob"}); r.Status != 200 || r.Body["room_id"] != roomID.String() {
		t.Fatalf("join by alias with content: %d %v", r.Status, r.Body)
	}
	c := roomsDo(t, alice, "GET", path, nil)
	if c.Body["foo"] != "bar" || c.Body["membership"] != "join" || c.Body["displayname"] != "bob" {
		t.Fatalf("custom join content: %v", c.Body)
	}
	if again := roomsMemberEventID(t, alice, roomID, bob.UserID.String()); again == first {
		t.Fatal("join with new content sent no event")
	}

	// A malformed reason is refused.
	if r := roomsDo(t, bob, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID.String())+"/join", `{"reason":5}`); r.Status != 400 || r.errcode() != "M_BAD_JSON" {
		t.Fatalf("bad reason: %d %v", r.Status, r.Body)
	}
}

// roomsMemberEventID is the event ID of user's current member event, from /state.
func roomsMemberEventID(t *testing.T, c *mautrix.Client, roomID id.RoomID, user string) string {
	t.Helper()
	state, err := c.State(roomsCtx, roomID)
	roomsNoErr(t, err)
	ev := state[event.StateMember][user]
	if ev == nil {
		t.Fatalf("no member event for %s", user)
	}
	return ev.ID.String()
}

// /joined_members lists display_name and avatar_url for every joined
// member (null when unset) and is only for current members.
func TestRoomsJoinedMembers(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	roomsNoErr(t, alice.SetAvatarURL(roomsCtx, id.ContentURI{Homeserver: "example.org", FileID: "pic"}))
	_, err := bob.JoinRoomByID(roomsCtx, roomID)
	roomsNoErr(t, err)
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(roomID.String()) + "/joined_members"
	var r roomsRaw
	testutil.Eventually(t, 10*time.Second, "alice's avatar in the room", func() bool {
		r = roomsDo(t, bob, "GET", path, nil)
		a, _ := r.Body["joined"].(map[string]any)[alice.UserID.String()].(map[string]any)
		return a["avatar_url"] == "mxc://example.org/pic"
	})
	b, ok := r.Body["joined"].(map[string]any)[bob.UserID.String()].(map[string]any)
	if av, has := b["avatar_url"]; !ok || !has || av != nil || b["display_name"] != "bob" {
		t.Fatalf("bob without avatar: %v", r.Body)
	}
	_, err = bob.LeaveRoom(roomsCtx, roomID)
	roomsNoErr(t, err)
	if r := roomsDo(t, bob, "GET", path, nil); r.Status != 403 || r.errcode() != "M_FORBIDDEN" {
		t.Fatalf("joined_members after leaving: %d %v", r.Status, r.Body)
	}
}

// An invite to a room of this server whose members have all left can
// still be rejected: the leave is a local event, seen in the invitee's
// /sync, and the invite is gone.
func TestRoomsRejectInviteToEmptyRoom(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	_, err := alice.InviteUser(roomsCtx, roomID, &mautrix.ReqInviteUser{UserID: bob.UserID})
	roomsNoErr(t, err)
	since := syncUntil(t, bob, "", 10*time.Second, func(r *mautrix.RespSync) bool { _, ok := r.Rooms.Invite[roomID]; return ok })
	_, err = alice.LeaveRoom(roomsCtx, roomID)
	roomsNoErr(t, err)
	_, err = bob.LeaveRoom(roomsCtx, roomID)
	roomsNoErr(t, err)
	syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
		left, ok := r.Rooms.Leave[roomID]
		if !ok {
			return false
		}
		for _, ev := range append(left.Timeline.Events, left.State.Events...) {
			if ev.Type == event.StateMember && ev.GetStateKey() == bob.UserID.String() && ev.Content.Raw["membership"] == "leave" {
				return true
			}
		}
		return false
	})
	if _, ok := syncOnce(t, bob, "", 0, "").Rooms.Invite[roomID]; ok {
		t.Fatal("rejected invite still in an initial sync")
	}
}
