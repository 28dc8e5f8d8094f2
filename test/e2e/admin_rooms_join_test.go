package e2e

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminForceJoin: POST /v1/join/{roomIdOrAlias} joins a local user to
// a public room directly and to an invite-only room through a local
// member who may invite; without one it is 403. Non-admins get 403.
func TestAdminForceJoin(t *testing.T) {
	ctx := context.Background()
	inst := testserver.Start(t, testserver.Options{})
	admin := adminUser(t, inst, "root")
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	public := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "pub"})
	private := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	body := map[string]any{"user_id": bob.UserID.String()}

	if got := adminDo(t, bob, "POST", "/v1/join/"+url.PathEscape(public.String()), body); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
		t.Fatalf("force-join as non-admin: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "POST", "/v1/join/"+url.PathEscape("#pub:"+inst.Cfg.ServerName), body); got.Status != 200 || got.Body["room_id"] != public.String() {
		t.Fatalf("force-join by alias: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "POST", "/v1/join/"+url.PathEscape(private.String()), body); got.Status != 200 || got.Body["room_id"] != private.String() {
		t.Fatalf("force-join invite-only: %d %v", got.Status, got.Body)
	}
	joined, err := bob.JoinedRooms(ctx)
	roomsNoErr(t, err)
	if !slices.Contains(joined.JoinedRooms, public) || !slices.Contains(joined.JoinedRooms, private) {
		t.Fatalf("bob's rooms: %v", joined.JoinedRooms)
	}
	// Alice leaves her invite-only room: nobody local may invite now.
	lonely := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	_, err = alice.LeaveRoom(ctx, lonely)
	roomsNoErr(t, err)
	if got := adminDo(t, admin, "POST", "/v1/join/"+url.PathEscape(lonely.String()), body); got.Status != 403 {
		t.Errorf("force-join with no local inviter: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "POST", "/v1/join/"+url.PathEscape(public.String()), map[string]any{"user_id": "@x:elsewhere.example"}); got.Status != 400 {
		t.Errorf("force-join of a remote user: %d", got.Status)
	}
	if got := adminDo(t, admin, "POST", "/v1/join/"+url.PathEscape("!unknown:"+inst.Cfg.ServerName), body); got.Status != 404 {
		t.Errorf("force-join of an unknown room: %d", got.Status)
	}
}

// TestAdminMakeRoomAdmin: the room's most powerful local member gives
// the caller (or user_id) the same power level, inviting them into an
// invite-only room.
func TestAdminMakeRoomAdmin(t *testing.T) {
	ctx := context.Background()
	for _, version := range []string{"10", "12"} {
		t.Run("v"+version, func(t *testing.T) {
			inst := testserver.Start(t, testserver.Options{})
			admin := adminUser(t, inst, "root")
			alice := inst.Register("alice", "password1")
			bob := inst.Register("bob", "password1")
			room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: id.RoomVersion(version)})
			r := url.PathEscape(room.String())
			if got := adminDo(t, bob, "POST", "/v1/rooms/"+r+"/make_room_admin", map[string]any{}); got.Status != 403 {
				t.Fatalf("as non-admin: %d", got.Status)
			}
			if got := adminDo(t, admin, "POST", "/v1/rooms/"+r+"/make_room_admin", map[string]any{"user_id": bob.UserID.String()}); got.Status != 200 {
				t.Fatalf("make_room_admin: %d %v", got.Status, got.Body)
			}
			pl := roomsStateContent(t, alice, room, "m.room.power_levels", "")
			users, _ := pl["users"].(map[string]any)
			if users[bob.UserID.String()] != float64(100) {
				t.Fatalf("bob's level: %v", pl)
			}
			// Bob was invited; joined, he can use his power.
			_, err := bob.JoinRoomByID(ctx, room)
			roomsNoErr(t, err)
			_, err = bob.SendStateEvent(ctx, room, event.StateRoomName, "", map[string]any{"name": "bob's now"})
			roomsNoErr(t, err)
		})
	}
}

// TestAdminRoomMessages: GET /_synapse/admin/v1/rooms/{roomId}/messages
// reads a room the admin is not in, forwards by default, with paging and
// filters; non-admins get 403.
func TestAdminRoomMessages(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	admin := adminUser(t, inst, "root")
	alice := inst.Register("alice", "password1")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	for _, b := range []string{"one", "two", "three"} {
		syncSend(t, alice, room, b)
	}
	p := "/_synapse/admin/v1/rooms/" + url.PathEscape(room.String()) + "/messages"
	if got := roomsDo(t, alice, "GET", p, nil); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
		t.Fatalf("as non-admin: %d %v", got.Status, got.Body)
	}
	bodies := func(r roomsRaw) (out []string) {
		for _, e := range adminList(r, "chunk") {
			ev := e.(map[string]any)
			if ev["type"] == "m.room.message" {
				out = append(out, ev["content"].(map[string]any)["body"].(string))
			}
		}
		return out
	}
	all := roomsDo(t, admin, "GET", p+"?limit=100", nil)
	if all.Status != 200 || !slices.Equal(bodies(all), []string{"one", "two", "three"}) {
		t.Fatalf("forward: %d %v", all.Status, bodies(all))
	}
	first := roomsDo(t, admin, "GET", p+"?dir=b&limit=1&filter="+url.QueryEscape(`{"types":["m.room.message"]}`), nil)
	if !slices.Equal(bodies(first), []string{"three"}) || first.Body["end"] == nil {
		t.Fatalf("backward page: %v", first.Body)
	}
	next := roomsDo(t, admin, "GET", p+"?dir=b&limit=1&filter="+url.QueryEscape(`{"types":["m.room.message"]}`)+"&from="+url.QueryEscape(first.Body["end"].(string)), nil)
	if !slices.Equal(bodies(next), []string{"two"}) {
		t.Fatalf("second page: %v", next.Body)
	}
	if got := roomsDo(t, admin, "GET", "/_synapse/admin/v1/rooms/"+url.PathEscape("!nope:"+inst.Cfg.ServerName)+"/messages", nil); got.Status != 404 {
		t.Errorf("unknown room: %d", got.Status)
	}
}

// TestAdminForceJoinRemote: force-join into a public room of another
// server joins over federation.
func TestAdminForceJoinRemote(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	admin := adminUser(t, a, "root")
	alice := a.Register("alice", "password1")
	bob := b.Register("bob", "password1")
	room := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	got := adminDo(t, admin, "POST", "/v1/join/"+url.PathEscape(room.String()), map[string]any{"user_id": alice.UserID.String()})
	if got.Status != 200 || got.Body["room_id"] != room.String() {
		t.Fatalf("remote force-join: %d %v", got.Status, got.Body)
	}
	joined, err := alice.JoinedRooms(ctx)
	roomsNoErr(t, err)
	if !slices.Contains(joined.JoinedRooms, room) {
		t.Fatalf("alice's rooms: %v", joined.JoinedRooms)
	}
}

// TestAdminRoomsForbidden: every route added for rooms, reports and
// moderation refuses a non-admin (403 M_FORBIDDEN) and no token (401).
func TestAdminRoomsForbidden(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	bob := inst.Register("bob", "password1")
	room := roomsCreate(t, bob, nil)
	r := url.PathEscape(room.String())
	u := url.PathEscape(bob.UserID.String())
	routes := [][2]string{
		{"DELETE", "/_synapse/admin/v1/rooms/" + r},
		{"DELETE", "/_synapse/admin/v2/rooms/" + r},
		{"GET", "/_synapse/admin/v2/rooms/" + r + "/delete_status"},
		{"GET", "/_synapse/admin/v2/rooms/delete_status/abc"},
		{"GET", "/_synapse/admin/v1/rooms/" + r + "/block"},
		{"PUT", "/_synapse/admin/v1/rooms/" + r + "/block"},
		{"POST", "/_synapse/admin/v1/join/" + r},
		{"POST", "/_synapse/admin/v1/rooms/" + r + "/make_room_admin"},
		{"GET", "/_synapse/admin/v1/rooms/" + r + "/messages"},
		{"GET", "/_synapse/admin/v1/event_reports"},
		{"GET", "/_synapse/admin/v1/event_reports/1"},
		{"DELETE", "/_synapse/admin/v1/event_reports/1"},
		{"POST", "/_synapse/admin/v1/users/" + u + "/shadow_ban"},
		{"DELETE", "/_synapse/admin/v1/users/" + u + "/shadow_ban"},
		{"GET", "/_synapse/admin/v1/users/" + u + "/override_ratelimit"},
		{"POST", "/_synapse/admin/v1/users/" + u + "/override_ratelimit"},
		{"DELETE", "/_synapse/admin/v1/users/" + u + "/override_ratelimit"},
	}
	anon := inst.Client()
	for _, rt := range routes {
		got := roomsDo(t, bob, rt[0], rt[1], map[string]any{"block": true, "user_id": bob.UserID.String()})
		if got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
			t.Errorf("%s %s as non-admin: %d %v, want 403 M_FORBIDDEN", rt[0], rt[1], got.Status, got.Body)
		}
		if got := roomsDo(t, anon, rt[0], rt[1], nil); got.Status != 401 {
			t.Errorf("%s %s without token: %d %v, want 401", rt[0], rt[1], got.Status, got.Body)
		}
	}
	// Nothing happened: the room is neither blocked nor gone.
	if _, err := bob.SendText(context.Background(), room, "still here"); err != nil {
		t.Fatalf("after refused admin calls: %v", err)
	}
}
