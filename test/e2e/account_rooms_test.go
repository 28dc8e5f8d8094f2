package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// acctMember is c's view of user's current m.room.member content in room.
func acctMember(t *testing.T, c *mautrix.Client, room id.RoomID, user string) map[string]any {
	t.Helper()
	r := roomsDo(t, c, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(room.String())+"/members", nil)
	chunk, _ := r.Body["chunk"].([]any)
	for _, ev := range chunk {
		e, _ := ev.(map[string]any)
		if e["state_key"] == user {
			content, _ := e["content"].(map[string]any)
			return content
		}
	}
	return nil
}

// acctMemberUntil polls until cond holds for user's member content.
func acctMemberUntil(t *testing.T, c *mautrix.Client, room id.RoomID, user, what string, cond func(map[string]any) bool) {
	t.Helper()
	var content map[string]any
	if !testutil.Within(15*time.Second, func() bool { content = acctMember(t, c, room, user); return cond(content) }) {
		t.Fatalf("%s: member content is %v", what, content)
	}
}

// A display name or avatar change is sent into every joined room as a new
// join, keeping the rest of the member event's content.
func TestAccountProfileUpdatesRooms(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		user := alice.UserID.String()
		room1 := syncRoom(t, alice, bob)
		room2 := syncRoom(t, bob, alice)

		// A custom field on alice's member event must survive.
		member := acctMember(t, alice, room1, user)
		member["org.example.custom"] = "kept"
		if r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(room1.String())+"/state/m.room.member/"+url.PathEscape(user), member); r.Status != 200 {
			t.Fatalf("custom member content: %d %v", r.Status, r.Body)
		}

		if r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/profile/"+url.PathEscape(user)+"/displayname", map[string]any{"displayname": "Alice Liddell"}); r.Status != 200 {
			t.Fatalf("set displayname: %d %v", r.Status, r.Body)
		}
		for _, room := range []id.RoomID{room1, room2} {
			acctMemberUntil(t, bob, room, user, "new displayname in "+room.String(), func(c map[string]any) bool {
				return c["displayname"] == "Alice Liddell" && c["membership"] == "join"
			})
		}
		if c := acctMember(t, bob, room1, user); c["org.example.custom"] != "kept" {
			t.Fatalf("other content lost: %v", c)
		}

		if r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/profile/"+url.PathEscape(user)+"/avatar_url", map[string]any{"avatar_url": "mxc://example.org/abc"}); r.Status != 200 {
			t.Fatalf("set avatar: %d %v", r.Status, r.Body)
		}
		acctMemberUntil(t, bob, room2, user, "new avatar", func(c map[string]any) bool {
			return c["avatar_url"] == "mxc://example.org/abc" && c["displayname"] == "Alice Liddell"
		})
		if r := roomsDo(t, alice, "DELETE", "/_matrix/client/v3/profile/"+url.PathEscape(user)+"/displayname", nil); r.Status != 200 {
			t.Fatalf("delete displayname: %d %v", r.Status, r.Body)
		}
		acctMemberUntil(t, bob, room1, user, "displayname removed", func(c map[string]any) bool {
			_, has := c["displayname"]
			return !has && c["avatar_url"] == "mxc://example.org/abc"
		})
		// Any string is accepted as an avatar and reaches the rooms as sent.
		if r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/profile/"+url.PathEscape(user)+"/avatar_url", map[string]any{"avatar_url": "LemurLover"}); r.Status != 200 {
			t.Fatalf("set non-mxc avatar: %d %v", r.Status, r.Body)
		}
		acctMemberUntil(t, bob, room2, user, "non-mxc avatar", func(c map[string]any) bool {
			return c["avatar_url"] == "LemurLover"
		})
	})
}

// Deactivation leaves every joined room and rejects pending invites.
func TestAccountDeactivateLeavesRooms(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		user := alice.UserID.String()
		joined := syncRoom(t, bob, alice)
		invited := syncRoom(t, bob)
		if _, err := bob.InviteUser(syncCtx, invited, &mautrix.ReqInviteUser{UserID: alice.UserID}); err != nil {
			t.Fatal(err)
		}

		deactivate := inst.URL + "/_matrix/client/v3/account/deactivate"
		first := acctDo(t, "POST", deactivate, alice.AccessToken, map[string]any{})
		r := acctDo(t, "POST", deactivate, alice.AccessToken, map[string]any{"auth": acctPasswordAuth("alice", "password123", first.str("session"))})
		acctExpect(t, "deactivate", r, http.StatusOK, "")

		for _, room := range []id.RoomID{joined, invited} {
			acctMemberUntil(t, bob, room, user, "alice left "+room.String(), func(c map[string]any) bool { return c["membership"] == "leave" })
		}
		jm, err := bob.JoinedMembers(syncCtx, joined)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := jm.Joined[alice.UserID]; ok || len(jm.Joined) != 1 {
			t.Fatalf("joined members after deactivation: %v", jm.Joined)
		}
	})
}
