package e2e

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminForbidden: every admin route refuses a non-admin's token with
// 403 M_FORBIDDEN and a missing token with 401.
func TestAdminForbidden(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	bob := inst.Register("bob", "password1")
	room := roomsCreate(t, bob, nil)
	u := url.PathEscape(bob.UserID.String())
	r := url.PathEscape(room.String())
	routes := [][2]string{
		{"GET", "/v1/server_version"},
		{"GET", "/v2/users"},
		{"GET", "/v2/users/" + u},
		{"PUT", "/v2/users/" + u},
		{"POST", "/v1/deactivate/" + u},
		{"POST", "/v1/reset_password/" + u},
		{"GET", "/v1/whois/" + u},
		{"GET", "/v1/users/" + u + "/admin"},
		{"PUT", "/v1/users/" + u + "/admin"},
		{"POST", "/v1/users/" + u + "/login"},
		{"GET", "/v1/users/" + u + "/joined_rooms"},
		{"GET", "/v2/users/" + u + "/devices"},
		{"POST", "/v2/users/" + u + "/delete_devices"},
		{"GET", "/v2/users/" + u + "/devices/" + bob.DeviceID.String()},
		{"PUT", "/v2/users/" + u + "/devices/" + bob.DeviceID.String()},
		{"DELETE", "/v2/users/" + u + "/devices/" + bob.DeviceID.String()},
		{"GET", "/v1/rooms"},
		{"GET", "/v1/rooms/" + r},
		{"GET", "/v1/rooms/" + r + "/members"},
		{"GET", "/v1/rooms/" + r + "/state"},
		{"POST", "/v1/send_server_notice"},
		{"GET", "/v1/federation/destinations"},
		{"GET", "/v1/federation/destinations/example.org"},
		{"POST", "/v1/federation/destinations/example.org/reset_connection"},
		{"GET", "/v1/registration_tokens"},
		{"POST", "/v1/registration_tokens/new"},
		{"GET", "/v1/registration_tokens/abc"},
		{"PUT", "/v1/registration_tokens/abc"},
		{"DELETE", "/v1/registration_tokens/abc"},
	}
	anon := inst.Client()
	for _, rt := range routes {
		got := adminDo(t, bob, rt[0], rt[1], map[string]any{"admin": true, "new_password": "x"})
		if got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
			t.Errorf("%s %s as non-admin: %d %v, want 403 M_FORBIDDEN", rt[0], rt[1], got.Status, got.Body)
		}
		if got := adminDo(t, anon, rt[0], rt[1], nil); got.Status != 401 {
			t.Errorf("%s %s without token: %d %v, want 401", rt[0], rt[1], got.Status, got.Body)
		}
	}
	// Bob is still not an admin and still logged in.
	if _, err := bob.Whoami(context.Background()); err != nil {
		t.Fatalf("bob after refused admin calls: %v", err)
	}
}

// TestAdminUsers: list with filters and paging, create, modify, reset
// password, make admin, whois, devices, joined rooms, login as user,
// deactivate (leaving rooms), on both engines.
func TestAdminUsers(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "root")
		alice := inst.Register("alice", "password1")
		for i := range 3 {
			inst.Register(fmt.Sprintf("user%d", i), "password1")
		}
		room := syncRoom(t, alice)

		if v := adminDo(t, admin, "GET", "/v1/server_version", nil); v.Status != 200 || v.Body["server_version"] == "" {
			t.Fatalf("server_version: %d %v", v.Status, v.Body)
		}

		// Paging: 5 users, 2 per page.
		page := adminDo(t, admin, "GET", "/v2/users?limit=2&order_by=name", nil)
		if page.Status != 200 || page.Body["total"] != float64(5) || len(adminList(page, "users")) != 2 || page.Body["next_token"] != "2" {
			t.Fatalf("users page 1: %d %v", page.Status, page.Body)
		}
		first := adminList(page, "users")[0].(map[string]any)
		if first["name"] != alice.UserID.String() || first["displayname"] != "alice" {
			t.Fatalf("first user by name: %v", first)
		}
		last := adminDo(t, admin, "GET", "/v2/users?from=4&limit=2&order_by=name", nil)
		if l := adminList(last, "users"); len(l) != 1 || l[0].(map[string]any)["name"] != inst.UserID("user2").String() || last.Body["next_token"] != nil {
			t.Fatalf("users last page: %v", last.Body)
		}
		if f := adminDo(t, admin, "GET", "/v2/users?name=user", nil); f.Body["total"] != float64(3) {
			t.Fatalf("name filter: %v", f.Body)
		}
		if f := adminDo(t, admin, "GET", "/v2/users?admins=true", nil); f.Body["total"] != float64(1) {
			t.Fatalf("admins filter: %v", f.Body)
		}
		if f := adminDo(t, admin, "GET", "/v2/users?limit=-1", nil); f.Status != 400 || f.errcode() != "M_INVALID_PARAM" {
			t.Fatalf("negative limit: %d %v", f.Status, f.Body)
		}
		if f := adminDo(t, admin, "GET", "/v2/users?order_by=nope", nil); f.Status != 400 {
			t.Fatalf("bad order_by: %d %v", f.Status, f.Body)
		}

		// Create a user, then log in with the password set.
		carol := url.PathEscape(inst.UserID("carol").String())
		c := adminDo(t, admin, "PUT", "/v2/users/"+carol, map[string]any{"password": "carolpass1", "displayname": "Carol", "admin": false})
		if c.Status != 201 || c.Body["displayname"] != "Carol" || c.Body["admin"] != false {
			t.Fatalf("create carol: %d %v", c.Status, c.Body)
		}
		if r := acctLogin(t, inst.URL, "carol", "carolpass1", nil); r.Status != 200 {
			t.Fatalf("carol login: %d %v", r.Status, r.Body)
		}
		if g := adminDo(t, admin, "GET", "/v2/users/"+carol, nil); g.Status != 200 || g.Body["name"] != inst.UserID("carol").String() || g.Body["deactivated"] != false {
			t.Fatalf("get carol: %d %v", g.Status, g.Body)
		}
		if g := adminDo(t, admin, "GET", "/v2/users/"+url.PathEscape(inst.UserID("nobody").String()), nil); g.Status != 404 || g.errcode() != "M_NOT_FOUND" {
			t.Fatalf("get unknown: %d %v", g.Status, g.Body)
		}
		// Modify: new password logs out her devices by default.
		m := adminDo(t, admin, "PUT", "/v2/users/"+carol, map[string]any{"password": "carolpass2", "displayname": "Carol C"})
		if m.Status != 200 || m.Body["displayname"] != "Carol C" {
			t.Fatalf("modify carol: %d %v", m.Status, m.Body)
		}
		if r := acctLogin(t, inst.URL, "carol", "carolpass1", nil); r.Status != 403 {
			t.Fatalf("old password still works: %d", r.Status)
		}

		// reset_password logs alice out.
		a := url.PathEscape(alice.UserID.String())
		if r := adminDo(t, admin, "POST", "/v1/reset_password/"+a, map[string]any{"new_password": "newpass12"}); r.Status != 200 {
			t.Fatalf("reset_password: %d %v", r.Status, r.Body)
		}
		if _, err := alice.Whoami(ctx); roomsErrCode(err) != "M_UNKNOWN_TOKEN" {
			t.Fatalf("alice's token after reset: %v", err)
		}
		relog := acctLogin(t, inst.URL, "alice", "newpass12", nil)
		if relog.Status != 200 {
			t.Fatalf("login with reset password: %d %v", relog.Status, relog.Body)
		}
		alice.AccessToken = relog.str("access_token")
		alice.DeviceID = "" // re-read below

		// Make carol admin; her new token can use the admin API.
		if r := adminDo(t, admin, "PUT", "/v1/users/"+carol+"/admin", map[string]any{"admin": true}); r.Status != 200 {
			t.Fatalf("make admin: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "GET", "/v1/users/"+carol+"/admin", nil); r.Body["admin"] != true {
			t.Fatalf("admin flag: %v", r.Body)
		}
		carolLogin := acctLogin(t, inst.URL, "carol", "carolpass2", nil)
		carolC := inst.Client()
		carolC.AccessToken = carolLogin.str("access_token")
		if r := adminDo(t, carolC, "GET", "/v2/users", nil); r.Status != 200 {
			t.Fatalf("new admin lists users: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "PUT", "/v1/users/"+carol+"/admin", map[string]any{"admin": false}); r.Status != 200 {
			t.Fatalf("revoke admin: %d", r.Status)
		}
		if r := adminDo(t, carolC, "GET", "/v2/users", nil); r.Status != 403 {
			t.Fatalf("revoked admin still allowed (cached token?): %d", r.Status)
		}

		// whois and devices.
		w := adminDo(t, admin, "GET", "/v1/whois/"+a, nil)
		devs, _ := w.Body["devices"].(map[string]any)
		if w.Status != 200 || w.Body["user_id"] != alice.UserID.String() || len(devs) != 1 {
			t.Fatalf("whois: %d %v", w.Status, w.Body)
		}
		dl := adminDo(t, admin, "GET", "/v2/users/"+a+"/devices", nil)
		if dl.Body["total"] != float64(1) {
			t.Fatalf("devices: %v", dl.Body)
		}
		devID := adminList(dl, "devices")[0].(map[string]any)["device_id"].(string)
		if r := adminDo(t, admin, "PUT", "/v2/users/"+a+"/devices/"+devID, map[string]any{"display_name": "renamed"}); r.Status != 200 {
			t.Fatalf("rename device: %d", r.Status)
		}
		if r := adminDo(t, admin, "GET", "/v2/users/"+a+"/devices/"+devID, nil); r.Body["display_name"] != "renamed" {
			t.Fatalf("device after rename: %v", r.Body)
		}

		// joined_rooms.
		jr := adminDo(t, admin, "GET", "/v1/users/"+a+"/joined_rooms", nil)
		if l := adminList(jr, "joined_rooms"); len(l) != 1 || l[0] != room.String() {
			t.Fatalf("joined_rooms: %v", jr.Body)
		}

		// Login as alice: a working token for a new device.
		la := adminDo(t, admin, "POST", "/v1/users/"+a+"/login", map[string]any{})
		asAlice := inst.Client()
		asAlice.AccessToken, _ = la.Body["access_token"].(string)
		who, err := asAlice.Whoami(ctx)
		if err != nil || who.UserID != alice.UserID {
			t.Fatalf("login as alice: %v %v (%v)", who, err, la.Body)
		}
		if r := adminDo(t, admin, "POST", "/v1/users/"+url.PathEscape(admin.UserID.String())+"/login", map[string]any{}); r.Status != 400 {
			t.Fatalf("login as self: %d", r.Status)
		}

		// Delete that device: its token stops working.
		if r := adminDo(t, admin, "DELETE", "/v2/users/"+a+"/devices/"+who.DeviceID.String(), nil); r.Status != 200 {
			t.Fatalf("delete device: %d", r.Status)
		}
		if _, err := asAlice.Whoami(ctx); roomsErrCode(err) != "M_UNKNOWN_TOKEN" {
			t.Fatalf("deleted device's token: %v", err)
		}
		if r := adminDo(t, admin, "POST", "/v2/users/"+a+"/delete_devices", map[string]any{"devices": []string{devID}}); r.Status != 200 {
			t.Fatalf("delete_devices: %d", r.Status)
		}
		if dl := adminDo(t, admin, "GET", "/v2/users/"+a+"/devices", nil); dl.Body["total"] != float64(0) {
			t.Fatalf("devices after delete_devices: %v", dl.Body)
		}

		// Deactivate alice: she leaves her room and cannot log in.
		if r := adminDo(t, admin, "POST", "/v1/deactivate/"+a, map[string]any{"erase": true}); r.Status != 200 {
			t.Fatalf("deactivate: %d %v", r.Status, r.Body)
		}
		if mem, _, err := inst.Server.RoomAPI.QueryMembership(ctx, matrixid.RoomID(room.String()), matrixid.UserID(alice.UserID.String())); err != nil || mem != "leave" {
			t.Fatalf("alice's membership after deactivation: %q %v", mem, err)
		}
		if r := acctLogin(t, inst.URL, "alice", "newpass12", nil); r.Status != 403 {
			t.Fatalf("deactivated login: %d", r.Status)
		}
		if f := adminDo(t, admin, "GET", "/v2/users?deactivated=true&name=alice", nil); f.Body["total"] != float64(1) {
			t.Fatalf("deactivated filter: %v", f.Body)
		}
		if f := adminDo(t, admin, "GET", "/v2/users?name=alice", nil); f.Body["total"] != float64(0) {
			t.Fatalf("deactivated users hidden by default: %v", f.Body)
		}
		// Reactivation needs a password.
		if r := adminDo(t, admin, "PUT", "/v2/users/"+a, map[string]any{"deactivated": false}); r.Status != 400 || r.errcode() != "M_MISSING_PARAM" {
			t.Fatalf("reactivate without password: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "PUT", "/v2/users/"+a, map[string]any{"deactivated": false, "password": "back12345"}); r.Status != 200 || r.Body["deactivated"] != false {
			t.Fatalf("reactivate: %d %v", r.Status, r.Body)
		}
		if r := acctLogin(t, inst.URL, "alice", "back12345", nil); r.Status != 200 {
			t.Fatalf("login after reactivation: %d", r.Status)
		}
		// Bad input.
		if r := adminDo(t, admin, "PUT", "/v2/users/"+a, "{nope"); r.Status != 400 || r.errcode() != "M_NOT_JSON" {
			t.Fatalf("bad JSON: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "GET", "/v2/users/"+url.PathEscape("@x:elsewhere.org"), nil); r.Status != 400 {
			t.Fatalf("remote user: %d", r.Status)
		}
	})
}

// TestAdminRooms: room list (paging, search, order), details, members
// and state.
func TestAdminRooms(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "root")
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		big := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Name: "Big room", Preset: "public_chat", Visibility: "public"})
		_, err := bob.JoinRoomByID(context.Background(), big)
		must(t, err)
		small := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Name: "Small room"})

		l := adminDo(t, admin, "GET", "/v1/rooms", nil)
		rooms := adminList(l, "rooms")
		if l.Status != 200 || l.Body["total_rooms"] != float64(2) || len(rooms) != 2 {
			t.Fatalf("rooms: %d %v", l.Status, l.Body)
		}
		top := rooms[0].(map[string]any)
		if top["room_id"] != big.String() || top["joined_members"] != float64(2) || top["joined_local_members"] != float64(2) ||
			top["name"] != "Big room" || top["public"] != true || top["creator"] != alice.UserID.String() || top["join_rules"] != "public" {
			t.Fatalf("largest room first: %v", top)
		}
		if p := adminDo(t, admin, "GET", "/v1/rooms?limit=1&from=1", nil); len(adminList(p, "rooms")) != 1 ||
			adminList(p, "rooms")[0].(map[string]any)["room_id"] != small.String() || p.Body["prev_batch"] != float64(0) {
			t.Fatalf("second page: %v", p.Body)
		}
		if s := adminDo(t, admin, "GET", "/v1/rooms?search_term=small", nil); s.Body["total_rooms"] != float64(1) {
			t.Fatalf("search: %v", s.Body)
		}
		if s := adminDo(t, admin, "GET", "/v1/rooms?order_by=name&dir=b", nil); adminList(s, "rooms")[0].(map[string]any)["room_id"] != small.String() {
			t.Fatalf("order by name desc: %v", s.Body)
		}
		d := adminDo(t, admin, "GET", "/v1/rooms/"+url.PathEscape(small.String()), nil)
		if d.Status != 200 || d.Body["name"] != "Small room" || d.Body["joined_members"] != float64(1) || d.Body["public"] != false {
			t.Fatalf("details: %d %v", d.Status, d.Body)
		}
		m := adminDo(t, admin, "GET", "/v1/rooms/"+url.PathEscape(big.String())+"/members", nil)
		if m.Body["total"] != float64(2) {
			t.Fatalf("members: %v", m.Body)
		}
		st := adminDo(t, admin, "GET", "/v1/rooms/"+url.PathEscape(big.String())+"/state", nil)
		if len(adminList(st, "state")) < 5 {
			t.Fatalf("state: %v", st.Body)
		}
		if r := adminDo(t, admin, "GET", "/v1/rooms/"+url.PathEscape("!nope:example.org"), nil); r.Status != 404 {
			t.Fatalf("unknown room: %d", r.Status)
		}
	})
}

// TestAdminRegistrationTokens: tokens made with the admin API are used
// for registration, counted exactly once under concurrent registrations,
// limited, expired, deleted; the config list seeds the database.
func TestAdminRegistrationTokens(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = func(cfg *config.Config) {
			cfg.Registration.Mode = "token"
			cfg.Registration.Tokens = []string{"from-config"}
		}
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "root")

		l := adminDo(t, admin, "GET", "/v1/registration_tokens", nil)
		if toks := adminList(l, "registration_tokens"); len(toks) != 1 || toks[0].(map[string]any)["token"] != "from-config" ||
			toks[0].(map[string]any)["uses_allowed"] != nil {
			t.Fatalf("seeded tokens: %v", l.Body)
		}
		c := adminDo(t, admin, "POST", "/v1/registration_tokens/new", map[string]any{"token": "three", "uses_allowed": 3})
		if c.Status != 200 || c.Body["token"] != "three" || c.Body["uses_allowed"] != float64(3) || c.Body["completed"] != float64(0) {
			t.Fatalf("create: %d %v", c.Status, c.Body)
		}
		if r := adminDo(t, admin, "POST", "/v1/registration_tokens/new", map[string]any{"token": "three"}); r.Status != 400 || r.errcode() != "M_INVALID_PARAM" {
			t.Fatalf("duplicate: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "POST", "/v1/registration_tokens/new", map[string]any{"token": "bad token!"}); r.Status != 400 {
			t.Fatalf("bad characters: %d", r.Status)
		}
		if r := adminDo(t, admin, "POST", "/v1/registration_tokens/new", map[string]any{"uses_allowed": -1}); r.Status != 400 {
			t.Fatalf("negative uses: %d", r.Status)
		}
		gen := adminDo(t, admin, "POST", "/v1/registration_tokens/new", map[string]any{"length": 20})
		if tok, _ := gen.Body["token"].(string); len(tok) != 20 {
			t.Fatalf("generated token: %v", gen.Body)
		}

		validity := func(tok string) any {
			r := acctDo(t, "GET", inst.URL+"/_matrix/client/v1/register/m.login.registration_token/validity?token="+url.QueryEscape(tok), "", nil)
			return r.Body["valid"]
		}
		if validity("three") != true || validity("unknown") != false {
			t.Fatal("validity before use")
		}

		// Eight concurrent registrations with a 3-use token: exactly 3 succeed.
		var wg sync.WaitGroup
		results := make([]int, 8)
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r, err := registerWithToken(inst.URL, fmt.Sprintf("racer%d", i), "three")
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = r.Status
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, s := range results {
			if s == 200 {
				ok++
			}
		}
		if ok != 3 {
			t.Fatalf("registrations with a 3-use token: %d succeeded (%v)", ok, results)
		}
		g := adminDo(t, admin, "GET", "/v1/registration_tokens/three", nil)
		if g.Body["completed"] != float64(3) || validity("three") != false {
			t.Fatalf("used up token: %v", g.Body)
		}
		if v := adminDo(t, admin, "GET", "/v1/registration_tokens?valid=false", nil); len(adminList(v, "registration_tokens")) != 1 {
			t.Fatalf("invalid tokens: %v", v.Body)
		}
		// Lift the limit: usable again.
		u := adminDo(t, admin, "PUT", "/v1/registration_tokens/three", map[string]any{"uses_allowed": nil})
		if u.Status != 200 || u.Body["uses_allowed"] != nil || validity("three") != true {
			t.Fatalf("unlimit: %d %v", u.Status, u.Body)
		}
		if r := adminDo(t, admin, "PUT", "/v1/registration_tokens/three", map[string]any{"expiry_time": 1}); r.Status != 400 {
			t.Fatalf("past expiry: %d", r.Status)
		}
		if r := adminDo(t, admin, "DELETE", "/v1/registration_tokens/three", nil); r.Status != 200 {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := adminDo(t, admin, "GET", "/v1/registration_tokens/three", nil); r.Status != 404 {
			t.Fatalf("deleted token: %d", r.Status)
		}
		if r, err := registerWithToken(inst.URL, "late", "three"); err != nil || r.Status != 401 {
			t.Fatalf("registration with a deleted token: %v %v", r, err)
		}
		// The deleted config token is not re-seeded over an edited row, but
		// a restart keeps the database's tokens.
		inst = inst.Restart()
		admin = adminUser(t, inst, "root2")
		if g := adminDo(t, admin, "GET", "/v1/registration_tokens/"+gen.Body["token"].(string), nil); g.Status != 200 {
			t.Fatalf("token after restart: %d", g.Status)
		}
	})
}

// registerWithToken runs the m.login.registration_token UIA flow.
func registerWithToken(base, user, token string) (acctResp, error) {
	body := map[string]any{"username": user, "password": "password1"}
	first, err := acctTry("POST", base+"/_matrix/client/v3/register", "", body)
	if err != nil {
		return first, err
	}
	if first.Status != 401 || first.str("session") == "" {
		return first, fmt.Errorf("register %s: first step %d %v", user, first.Status, first.Body)
	}
	body["auth"] = map[string]any{"type": "m.login.registration_token", "token": token, "session": first.str("session")}
	return acctTry("POST", base+"/_matrix/client/v3/register", "", body)
}
