package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestGuestsLeaveWhenGuestAccessRevokedOverFederation: server B's guest
// joined a room of server A; when A's user sets guest_access to
// forbidden, the change reaches B over federation and B makes its guest
// leave (the spec's MUST applies to every server with joined guests),
// while B's ordinary member stays.
func TestGuestsLeaveWhenGuestAccessRevokedOverFederation(t *testing.T) {
	a := fedStart(t, testserver.Options{}, "127.0.0.1")
	federated := testserver.FederatedAt(t, "127.0.0.2")
	b := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		federated(cfg)
		cfg.Registration.AllowGuests = true
	}})
	alice := a.Register("alice", "password123")
	bob := b.Register("bob", "password123")
	guestID, token := registerGuest(t, b)
	roomID := guestRoom(t, alice)
	_, err := bob.JoinRoom(roomsCtx, roomID.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}})
	roomsNoErr(t, err)
	join := acctDo(t, "POST", b.URL+"/_matrix/client/v3/join/"+url.PathEscape(string(roomID))+"?server_name="+url.QueryEscape(a.Cfg.ServerName), token, map[string]any{})
	acctExpect(t, "guest join over federation", join, http.StatusOK, "")
	membership := func(userID string) string { // "" while A has no member event for userID
		r := roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/m.room.member/"+userID, nil)
		m, _ := r.Body["membership"].(string)
		return m
	}
	testutil.Eventually(t, 20*time.Second, "the guest's join reaching A", func() bool { return membership(guestID) == "join" })

	_, err = alice.SendStateEvent(roomsCtx, roomID, event.StateGuestAccess, "", map[string]any{"guest_access": "forbidden"})
	roomsNoErr(t, err)
	testutil.Eventually(t, 30*time.Second, "B's guest made to leave", func() bool { return membership(guestID) == "leave" })
	if m := membership(string(bob.UserID)); m != "join" {
		t.Fatalf("bob (not a guest) left too: %q", m)
	}
}
