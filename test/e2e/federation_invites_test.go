package e2e

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// createRoom's invite list reaches users of other servers: the invite is
// made over federation, not only added to the room (issue 17,
// Complement TestFederationRoomsInvite).
func TestFederationCreateRoomInvitesRemoteUser(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
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
	a, b := fedPair(t)
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

// An invite the inviter rescinds (kicks the invitee) disappears for an
// invitee whose server is not in the room (Complement
// TestFederationRoomsInvite "Inviter user can rescind invite over
// federation").
func TestFederationRescindInvite(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	bs := newFedSyncer(t, bob)
	const wait = 20 * time.Second

	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}})
	bs.until(wait, "bob's invite", func() bool { return bs.invite[room] })
	if _, err := alice.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: bob.UserID, Reason: "changed my mind"}); err != nil {
		t.Fatalf("alice rescinds: %v", err)
	}
	bs.until(wait, "the rescinded invite gone from bob's sync", func() bool { return bs.left[room] && !bs.invite[room] })
}

// Someone other than the inviter cannot rescind a remote invite for the
// invitee's server: it cannot check their power without the room
// (Complement "Non-invitee user cannot rescind invite over federation").
func TestFederationNonInviterCannotRescind(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	alice, carol, bob := a.Register("alice", "password123"), a.Register("carol", "password123"), b.Register("bob", "password123")
	bs := newFedSyncer(t, bob)
	const wait = 20 * time.Second

	shared := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}})
	bs.until(wait, "bob's invite to the shared room", func() bool { return bs.invite[shared] })
	if _, err := bob.JoinRoom(ctx, shared.String(), nil); err != nil {
		t.Fatalf("bob joins: %v", err)
	}
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{carol.UserID}})
	if _, err := carol.JoinRoom(ctx, room.String(), nil); err != nil {
		t.Fatalf("carol joins: %v", err)
	}
	if _, err := carol.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
		t.Fatalf("carol invites bob: %v", err)
	}
	bs.until(wait, "carol's invite", func() bool { return bs.invite[room] })
	if _, err := alice.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: bob.UserID}); err != nil {
		t.Fatalf("alice kicks bob: %v", err)
	}
	syncSend(t, alice, shared, "after the kick")
	bs.until(wait, "the marker message", func() bool { return bs.hasBody(shared, "after the kick") })
	if !bs.invite[room] || bs.left[room] {
		t.Fatalf("bob's invite was rescinded by someone other than the inviter (invite %v, left %v)", bs.invite[room], bs.left[room])
	}
}
