package e2e

import (
	"context"
	"net/url"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminShadowBan: a shadow-banned user's messages, state, invites
// and room creations are answered as if they succeeded, yet nobody sees
// them and nothing is stored; lifting the ban restores normal sending.
func TestAdminShadowBan(t *testing.T) {
	ctx := context.Background()
	inst := testserver.Start(t, testserver.Options{})
	admin := adminUser(t, inst, "root")
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	carol := inst.Register("carol", "password1")
	room := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	_, err := alice.JoinRoomByID(ctx, room)
	roomsNoErr(t, err)
	u := "/v1/users/" + url.PathEscape(alice.UserID.String()) + "/shadow_ban"

	if got := adminDo(t, bob, "POST", u, nil); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
		t.Fatalf("shadow ban as non-admin: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "POST", "/v1/users/"+url.PathEscape("@nobody:"+inst.Cfg.ServerName)+"/shadow_ban", nil); got.Status != 404 {
		t.Fatalf("shadow ban of an unknown user: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "POST", u, nil); got.Status != 200 {
		t.Fatalf("shadow ban: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "GET", "/v2/users/"+url.PathEscape(alice.UserID.String()), nil); got.Body["shadow_banned"] != true {
		t.Errorf("user shows shadow_banned %v", got.Body["shadow_banned"])
	}

	sent, err := alice.SendText(ctx, room, "hidden message")
	roomsNoErr(t, err)
	if sent.EventID == "" {
		t.Fatal("no event ID for a shadow-banned send")
	}
	_, err = alice.SendStateEvent(ctx, room, event.StateTopic, "", map[string]any{"topic": "hidden topic"})
	roomsNoErr(t, err)
	_, err = alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.UserID})
	roomsNoErr(t, err)
	created, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Invite: []id.UserID{carol.UserID}})
	roomsNoErr(t, err)
	alias := id.RoomAlias("#hidden:" + inst.Cfg.ServerName)
	_, err = alice.CreateAlias(ctx, alias, room)
	roomsNoErr(t, err)
	if _, err := bob.ResolveAlias(ctx, alias); roomsErrCode(err) != "M_NOT_FOUND" {
		t.Errorf("a shadow-banned user's alias exists: %v", err)
	}

	// Nothing of it exists: the event is unknown, the topic unset, carol
	// not invited, the created room unknown.
	if _, err := bob.GetEvent(ctx, room, sent.EventID); roomsErrCode(err) != "M_NOT_FOUND" {
		t.Errorf("the shadow-banned event is readable: %v", err)
	}
	if got := roomsDo(t, bob, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(room.String())+"/state/m.room.topic", nil); got.Status != 404 {
		t.Errorf("the shadow-banned topic is set: %d %v", got.Status, got.Body)
	}
	if got := roomsDo(t, bob, "GET", "/_matrix/client/v3/rooms/"+url.PathEscape(room.String())+"/state/m.room.member/"+url.PathEscape(carol.UserID.String()), nil); got.Status != 404 {
		t.Errorf("carol was invited by a shadow-banned user: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "GET", "/v1/rooms/"+url.PathEscape(created.RoomID.String()), nil); got.Status != 404 {
		t.Errorf("the shadow-banned user's room exists: %d %v", got.Status, got.Body)
	}
	// Bob's marker comes after the hidden message in the same room: once
	// it is there, the hidden message would be too.
	marker, err := bob.SendText(ctx, room, "marker")
	roomsNoErr(t, err)
	msgs, err := bob.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 50)
	roomsNoErr(t, err)
	sawMarker := false
	for _, ev := range msgs.Chunk {
		if ev.ID == marker.EventID {
			sawMarker = true
		}
		if ev.Content.Raw["body"] == "hidden message" {
			t.Errorf("bob sees the shadow-banned message")
		}
	}
	if !sawMarker {
		t.Fatal("bob's /messages lacks his own marker")
	}

	if got := adminDo(t, admin, "DELETE", u, nil); got.Status != 200 {
		t.Fatalf("unban: %d %v", got.Status, got.Body)
	}
	visible, err := alice.SendText(ctx, room, "visible message")
	roomsNoErr(t, err)
	if _, err := bob.GetEvent(ctx, room, visible.EventID); err != nil {
		t.Errorf("after the ban is lifted alice's message is missing: %v", err)
	}
}

// TestAdminRateLimitOverride: GET/POST/DELETE override_ratelimit; the
// message limiter applies the user's own rate (0: no limit) instead of
// the server's, and the server's again once the override is deleted.
func TestAdminRateLimitOverride(t *testing.T) {
	ctx := context.Background()
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.RateLimits.Enabled = true
		// Two messages, then (practically) never again.
		cfg.RateLimits.Messages = config.Rate{PerSecond: 0.0001, Burst: 2}
	}})
	admin := adminUser(t, inst, "root")
	alice := inst.Register("alice", "password1")
	room := roomsCreate(t, alice, nil)
	u := "/v1/users/" + url.PathEscape(alice.UserID.String()) + "/override_ratelimit"

	if got := adminDo(t, alice, "POST", u, map[string]any{"messages_per_second": 0}); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
		t.Fatalf("override as non-admin: %d %v", got.Status, got.Body)
	}
	for i := 0; i < 2; i++ {
		_, err := alice.SendText(ctx, room, "within the limit")
		roomsNoErr(t, err)
	}
	_, err := alice.SendText(ctx, room, "over the limit")
	roomsExpectErr(t, err, "M_LIMIT_EXCEEDED", "the third message under the server's limit")

	if got := adminDo(t, admin, "GET", u, nil); got.Status != 200 || len(got.Body) != 0 {
		t.Fatalf("no override yet: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "POST", u, map[string]any{"messages_per_second": -1}); got.Status != 400 {
		t.Fatalf("negative rate: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "POST", u, map[string]any{"messages_per_second": 0, "burst_count": 0}); got.Status != 200 ||
		got.Body["messages_per_second"] != float64(0) || got.Body["burst_count"] != float64(0) {
		t.Fatalf("set override: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "GET", u, nil); got.Body["messages_per_second"] != float64(0) {
		t.Fatalf("override: %v", got.Body)
	}
	for i := 0; i < 5; i++ {
		_, err := alice.SendText(ctx, room, "unlimited")
		roomsNoErr(t, err)
	}
	if got := adminDo(t, admin, "DELETE", u, nil); got.Status != 200 {
		t.Fatalf("delete override: %d %v", got.Status, got.Body)
	}
	_, err = alice.SendText(ctx, room, "limited again")
	roomsExpectErr(t, err, "M_LIMIT_EXCEEDED", "a message once the override is gone")
}
