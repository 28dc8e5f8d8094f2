package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestGuestRules: when a room's guest_access becomes forbidden its joined
// guests are made to leave (spec MUST), members who are not guests stay;
// guests may create neither room aliases nor key backups.
func TestGuestRules(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = func(cfg *config.Config) { cfg.Registration.AllowGuests = true }
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		guestID, token := registerGuest(t, inst)
		roomID := guestRoom(t, alice)
		_, err := bob.JoinRoomByID(roomsCtx, roomID)
		roomsNoErr(t, err)
		join := acctDo(t, "POST", inst.URL+"/_matrix/client/v3/rooms/"+url.PathEscape(string(roomID))+"/join", token, map[string]any{})
		acctExpect(t, "guest join", join, http.StatusOK, "")

		// Guests create no aliases and no key backups.
		alias := "#guest-alias:" + inst.Cfg.ServerName
		acctExpect(t, "guest alias",
			acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/directory/room/"+url.PathEscape(alias), token, map[string]any{"room_id": roomID}),
			http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN")
		acctExpect(t, "guest key backup",
			acctDo(t, "POST", inst.URL+"/_matrix/client/v3/room_keys/version", token, map[string]any{
				"algorithm": "m.megolm_backup.v1.curve25519-aes-sha2", "auth_data": map[string]any{"public_key": "abc"}}),
			http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN")

		_, err = alice.SendStateEvent(roomsCtx, roomID, event.StateGuestAccess, "", map[string]any{"guest_access": "forbidden"})
		roomsNoErr(t, err)
		membership := func(userID id.UserID) string {
			c := roomsStateContent(t, alice, roomID, "m.room.member", string(userID))
			m, _ := c["membership"].(string)
			return m
		}
		testutil.Eventually(t, 10*time.Second, "guest removed", func() bool { return membership(id.UserID(guestID)) == "leave" })
		if m := membership(bob.UserID); m != "join" {
			t.Fatalf("bob (not a guest) was removed too: %q", m)
		}
	})
}

// registerGuest registers a guest on inst (guests allowed there): its
// user ID and access token.
func registerGuest(t *testing.T, inst *testserver.Instance) (userID, token string) {
	t.Helper()
	reg := acctDo(t, "POST", inst.URL+"/_matrix/client/v3/register?kind=guest", "", map[string]any{})
	acctExpect(t, "guest", reg, http.StatusOK, "")
	return reg.str("user_id"), reg.str("access_token")
}

// guestRoom creates a public room guests can join.
func guestRoom(t *testing.T, creator *mautrix.Client) id.RoomID {
	t.Helper()
	return roomsCreate(t, creator, &mautrix.ReqCreateRoom{Preset: "public_chat",
		InitialState: []*event.Event{{Type: event.StateGuestAccess, StateKey: new(string),
			Content: event.Content{Raw: map[string]any{"guest_access": "can_join"}}}}})
}
