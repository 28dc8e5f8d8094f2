package e2e

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// createRoom's invite list reaches users of other servers: the invite is
// made over federation, not only added to the room (issue 17,
// Complement TestFederationRoomsInvite).
func TestFederationCreateRoomInvitesRemoteUser(t *testing.T) {
	ctx := context.Background()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	as, bs := newFedSyncer(t, alice), newFedSyncer(t, bob)
	const wait = 20 * time.Second

	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}, IsDirect: true})
	bs.until(wait, "bob's invite from createRoom", func() bool { return bs.invite[room] })
	if _, err := bob.JoinRoom(ctx, room.String(), nil); err != nil {
		t.Fatalf("bob accepts: %v", err)
	}
	as.until(wait, "bob's join on A", func() bool { return as.membershipOf(room, bob.UserID) == "join" })
}

// A remote invite can be rejected even when the inviting server has no
// one left in the room (Complement "Invited user can reject invite for
// empty room"): the rejection must not fail with "Unknown room".
func TestFederationRejectInviteToEmptyRoom(t *testing.T) {
	ctx := context.Background()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	bs := newFedSyncer(t, bob)
	const wait = 20 * time.Second

	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if _, err := alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
		t.Fatalf("invite bob: %v", err)
	}
	bs.until(wait, "bob's invite", func() bool { return bs.invite[room] })
	if _, err := alice.LeaveRoom(ctx, room); err != nil {
		t.Fatalf("alice leaves: %v", err)
	}
	if _, err := bob.LeaveRoom(ctx, room); err != nil {
		t.Fatalf("bob rejects the invite to the empty room: %v", err)
	}
	bs.until(wait, "the invite gone from bob's sync", func() bool { return bs.left[room] && !bs.invite[room] })
}
