package e2e

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/server/testserver"
)

// Three servers in one room: B joins through A, C through B. Messages
// from each reach the others; invites (to a room B is in, and to rooms B
// is not in, accepted and rejected), a leave, a kick and a ban cross
// servers.
func TestFederationThreeServersMembership(t *testing.T) {
	ctx := context.Background()
	opts := testserver.Options{}
	a, b, c := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2"), fedStart(t, opts, "127.0.0.3")
	alice, bob, carol := a.Register("alice", "password123"), b.Register("bob", "password123"), c.Register("carol", "password123")
	dave, erin := b.Register("dave", "password123"), b.Register("erin", "password123")
	as, bs, cs, ds, es := newFedSyncer(t, alice), newFedSyncer(t, bob), newFedSyncer(t, carol), newFedSyncer(t, dave), newFedSyncer(t, erin)
	const wait = 20 * time.Second

	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins via A: %v", err)
	}
	if _, err := carol.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName}}); err != nil {
		t.Fatalf("carol joins via B: %v", err)
	}
	for _, s := range []*fedSyncer{as, bs, cs} {
		s.until(wait, "carol's join", func() bool { return s.membershipOf(room, carol.UserID) == "join" })
	}
	syncSend(t, alice, room, "from alice")
	syncSend(t, bob, room, "from bob")
	syncSend(t, carol, room, "from carol")
	for _, s := range []*fedSyncer{as, bs, cs} {
		for _, body := range []string{"from alice", "from bob", "from carol"} {
			s.until(wait, body, func() bool { return s.hasBody(room, body) })
		}
	}

	// Invite to a room B is in: arrives through /send.
	if _, err := alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: dave.UserID}); err != nil {
		t.Fatalf("invite dave: %v", err)
	}
	ds.until(wait, "dave's invite", func() bool { return ds.invite[room] })
	if _, err := dave.JoinRoom(ctx, room.String(), nil); err != nil {
		t.Fatalf("dave joins: %v", err)
	}
	as.until(wait, "dave's join on A", func() bool { return as.membershipOf(room, dave.UserID) == "join" })

	// Invite to a room B is not in: stored out of band, joined through
	// the inviter's server.
	private := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if _, err := alice.InviteUser(ctx, private, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
		t.Fatalf("invite bob to a room B is not in: %v", err)
	}
	bs.until(wait, "bob's invite", func() bool { return bs.invite[private] })
	if _, err := bob.JoinRoom(ctx, private.String(), nil); err != nil {
		t.Fatalf("bob accepts the remote invite: %v", err)
	}
	as.until(wait, "bob's join of the private room", func() bool { return as.membershipOf(private, bob.UserID) == "join" })
	syncSend(t, bob, private, "private hello")
	as.until(wait, "bob's private message", func() bool { return as.hasBody(private, "private hello") })

	// A rejected invite: make_leave/send_leave.
	other := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if _, err := alice.InviteUser(ctx, other, &mautrix.ReqInviteUser{UserID: erin.UserID}); err != nil {
		t.Fatalf("invite erin: %v", err)
	}
	es.until(wait, "erin's invite", func() bool { return es.invite[other] })
	if _, err := erin.LeaveRoom(ctx, other); err != nil {
		t.Fatalf("erin rejects: %v", err)
	}
	as.until(wait, "erin's rejection on A", func() bool { return as.membershipOf(other, erin.UserID) == "leave" })
	es.until(wait, "erin's invite gone", func() bool { return !es.invite[other] })

	// Leave, kick and ban across servers.
	if _, err := carol.LeaveRoom(ctx, room); err != nil {
		t.Fatalf("carol leaves: %v", err)
	}
	as.until(wait, "carol's leave on A", func() bool { return as.membershipOf(room, carol.UserID) == "leave" })
	bs.until(wait, "carol's leave on B", func() bool { return bs.membershipOf(room, carol.UserID) == "leave" })
	if _, err := alice.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: bob.UserID, Reason: "bye"}); err != nil {
		t.Fatalf("kick bob: %v", err)
	}
	// (syncapi's leave section omits the user's own leave event from its
	// timeline, so the section itself is what is checked.)
	bs.until(wait, "bob's kick on B", func() bool { return bs.left[room] })
	if m, _, err := b.Server.Rooms.QueryMembership(ctx, matrixid.RoomID(room.String()), matrixid.UserID(bob.UserID.String())); err != nil || m != "leave" {
		t.Fatalf("B has bob as %q after the kick", m)
	}
	if _, err := bob.SendText(ctx, room, "still here?"); err == nil {
		t.Fatal("a kicked user could still send")
	}
	if _, err := alice.BanUser(ctx, room, &mautrix.ReqBanUser{UserID: dave.UserID}); err != nil {
		t.Fatalf("ban dave: %v", err)
	}
	ds.until(wait, "dave's ban on B", func() bool { return ds.left[room] })
	if m, _, err := b.Server.Rooms.QueryMembership(ctx, matrixid.RoomID(room.String()), matrixid.UserID(dave.UserID.String())); err != nil || m != "ban" {
		t.Fatalf("B has dave as %q after the ban", m)
	}
}
