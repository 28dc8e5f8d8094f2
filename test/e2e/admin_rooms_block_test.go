package e2e

import (
	"context"
	"net/url"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminRoomBlock: PUT/GET /v1/rooms/{roomId}/block; in a blocked room
// local users can neither join nor be invited (403), and unblocking
// lets them in again. Non-admins get 403.
func TestAdminRoomBlock(t *testing.T) {
	ctx := context.Background()
	inst := testserver.Start(t, testserver.Options{})
	admin := adminUser(t, inst, "root")
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	carol := inst.Register("carol", "password1")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	r := url.PathEscape(room.String())

	if got := adminDo(t, bob, "PUT", "/v1/rooms/"+r+"/block", map[string]any{"block": true}); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
		t.Fatalf("block as non-admin: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, bob, "GET", "/v1/rooms/"+r+"/block", nil); got.Status != 403 {
		t.Fatalf("block status as non-admin: %d", got.Status)
	}
	if got := adminDo(t, admin, "PUT", "/v1/rooms/"+r+"/block", map[string]any{}); got.Status != 400 {
		t.Fatalf("block without block: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "GET", "/v1/rooms/"+r+"/block", nil); got.Body["block"] != false || got.Body["user_id"] != nil {
		t.Fatalf("before blocking: %v", got.Body)
	}
	if got := adminDo(t, admin, "PUT", "/v1/rooms/"+r+"/block", map[string]any{"block": true}); got.Status != 200 || got.Body["block"] != true {
		t.Fatalf("block: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "GET", "/v1/rooms/"+r+"/block", nil); got.Body["block"] != true || got.Body["user_id"] != admin.UserID.String() {
		t.Fatalf("after blocking: %v", got.Body)
	}
	_, err := bob.JoinRoomByID(ctx, room)
	roomsExpectErr(t, err, "M_FORBIDDEN", "joining a blocked room")
	_, err = alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.UserID})
	roomsExpectErr(t, err, "M_FORBIDDEN", "inviting to a blocked room")
	// Members already in it still talk and may leave.
	_, err = alice.SendText(ctx, room, "still here")
	roomsNoErr(t, err)

	// A room unknown here can be blocked too.
	unknown := "!nowhere:" + inst.Cfg.ServerName
	if got := adminDo(t, admin, "PUT", "/v1/rooms/"+url.PathEscape(unknown)+"/block", map[string]any{"block": true}); got.Status != 200 {
		t.Fatalf("block an unknown room: %d %v", got.Status, got.Body)
	}
	_, err = bob.JoinRoom(ctx, unknown, nil)
	roomsExpectErr(t, err, "M_FORBIDDEN", "joining a blocked unknown room")

	if got := adminDo(t, admin, "PUT", "/v1/rooms/"+r+"/block", map[string]any{"block": false}); got.Status != 200 || got.Body["block"] != false {
		t.Fatalf("unblock: %d %v", got.Status, got.Body)
	}
	_, err = bob.JoinRoomByID(ctx, room)
	roomsNoErr(t, err)
}

// TestAdminRoomBlockFederation: a room blocked on A refuses another
// server's user (make_join), and A's users cannot join a blocked room
// that lives on another server.
func TestAdminRoomBlockFederation(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	admin := adminUser(t, a, "root")
	alice := a.Register("alice", "password1")
	bob := b.Register("bob", "password1")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if got := adminDo(t, admin, "PUT", "/v1/rooms/"+url.PathEscape(room.String())+"/block", map[string]any{"block": true}); got.Status != 200 {
		t.Fatalf("block: %d %v", got.Status, got.Body)
	}
	_, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}})
	roomsExpectErr(t, err, "M_FORBIDDEN", "a remote user joining a room blocked by its server")

	// B's room, blocked on A: alice may not join it through B.
	broom := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if got := adminDo(t, admin, "PUT", "/v1/rooms/"+url.PathEscape(broom.String())+"/block", map[string]any{"block": true}); got.Status != 200 {
		t.Fatalf("block remote room: %d %v", got.Status, got.Body)
	}
	_, err = alice.JoinRoom(ctx, broom.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName}})
	roomsExpectErr(t, err, "M_FORBIDDEN", "joining a blocked remote room")
	// Unblocked, the same join works (the refusal was the block).
	if got := adminDo(t, admin, "PUT", "/v1/rooms/"+url.PathEscape(broom.String())+"/block", map[string]any{"block": false}); got.Status != 200 {
		t.Fatalf("unblock: %d", got.Status)
	}
	_, err = alice.JoinRoom(ctx, broom.String(), &mautrix.ReqJoinRoom{Via: []string{b.Cfg.ServerName}})
	roomsNoErr(t, err)
}
