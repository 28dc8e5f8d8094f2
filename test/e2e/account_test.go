package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAccountLifecycle drives one account through the CS API with the
// mautrix client: register, login, whoami, devices, profile, account
// data, capabilities, logout.
func TestAccountLifecycle(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password456")

		versions, err := alice.Versions(ctx)
		if err != nil || !versions.ContainsGreaterOrEqual(mautrix.SpecV112) {
			t.Fatalf("versions: %v %+v", err, versions)
		}

		who, err := alice.Whoami(ctx)
		if err != nil || who.UserID != inst.UserID("alice") || who.DeviceID != alice.DeviceID {
			t.Fatalf("whoami: %v %+v", err, who)
		}

		// A second device by password login with a full user ID.
		phone := inst.Client()
		login, err := phone.Login(ctx, &mautrix.ReqLogin{
			Type:                     mautrix.AuthTypePassword,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(inst.UserID("alice"))},
			Password:                 "password123",
			InitialDeviceDisplayName: "Alice's phone",
			StoreCredentials:         true,
		})
		if err != nil || login.UserID != inst.UserID("alice") || login.DeviceID == alice.DeviceID {
			t.Fatalf("login: %v %+v", err, login)
		}
		// Wrong password, unknown user: the same M_FORBIDDEN.
		_, err = inst.Client().Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, Password: "wrong-password"})
		acctMatrixErr(t, "wrong password", err, "M_FORBIDDEN")
		_, err = inst.Client().Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "nobody"}, Password: "password123"})
		acctMatrixErr(t, "unknown user", err, "M_FORBIDDEN")
		// The deprecated top-level "user" field still works.
		legacy := acctDo(t, "POST", inst.URL+"/_matrix/client/r0/login", "", map[string]any{
			"type": "m.login.password", "user": "alice", "password": "password123"})
		acctExpect(t, "legacy login", legacy, http.StatusOK, "")

		// Devices: list, rename, get.
		devs, err := alice.GetDevicesInfo(ctx)
		if err != nil || len(devs.Devices) != 3 {
			t.Fatalf("devices: %v %+v", err, devs)
		}
		if err := alice.SetDeviceInfo(ctx, login.DeviceID, &mautrix.ReqDeviceInfo{DisplayName: "Renamed phone"}); err != nil {
			t.Fatal(err)
		}
		dev, err := alice.GetDeviceInfo(ctx, login.DeviceID)
		if err != nil || dev.DisplayName != "Renamed phone" {
			t.Fatalf("renamed device: %v %+v", err, dev)
		}
		_, err = alice.GetDeviceInfo(ctx, "NOSUCHDEVICE")
		acctMatrixErr(t, "unknown device", err, "M_NOT_FOUND")

		// Deleting a device needs UIA by password.
		err = alice.DeleteDevice(ctx, login.DeviceID, &mautrix.ReqDeleteDevice{})
		r := acctDo(t, "DELETE", inst.URL+"/_matrix/client/v3/devices/"+string(login.DeviceID), alice.AccessToken, map[string]any{})
		if err == nil || r.Status != http.StatusUnauthorized || r.str("session") == "" {
			t.Fatalf("delete device without auth: %v %s", err, r.Raw)
		}
		bad := acctDo(t, "DELETE", inst.URL+"/_matrix/client/v3/devices/"+string(login.DeviceID), alice.AccessToken,
			map[string]any{"auth": acctPasswordAuth("alice", "wrong-password", r.str("session"))})
		acctExpect(t, "delete device with wrong password", bad, http.StatusUnauthorized, "M_FORBIDDEN")
		// Another user's (right) password is no authority over alice's device: 403.
		other := acctDo(t, "DELETE", inst.URL+"/_matrix/client/v3/devices/"+string(login.DeviceID), alice.AccessToken,
			map[string]any{"auth": acctPasswordAuth(bob.UserID.String(), "password456", r.str("session"))})
		acctExpect(t, "delete device with another user's password", other, http.StatusForbidden, "M_FORBIDDEN")
		if _, err := alice.GetDeviceInfo(ctx, login.DeviceID); err != nil {
			t.Fatalf("device gone after another user's auth: %v", err)
		}
		if err := alice.DeleteDevice(ctx, login.DeviceID, &mautrix.ReqDeleteDevice{Auth: &mautrix.ReqUIAuthLogin{
			BaseAuthData: mautrix.BaseAuthData{Type: mautrix.AuthTypePassword, Session: r.str("session")},
			User:         "alice", Password: "password123",
		}}); err != nil {
			t.Fatalf("delete device: %v", err)
		}
		_, err = phone.Whoami(ctx)
		acctMatrixErr(t, "deleted device's token", err, "M_UNKNOWN_TOKEN")

		// Profile.
		if err := alice.SetDisplayName(ctx, "Alice A."); err != nil {
			t.Fatal(err)
		}
		if err := alice.SetAvatarURL(ctx, id.ContentURI{Homeserver: "example.org", FileID: "abc"}); err != nil {
			t.Fatal(err)
		}
		prof, err := bob.GetProfile(ctx, inst.UserID("alice"))
		if err != nil || prof.DisplayName != "Alice A." || prof.AvatarURL.String() != "mxc://example.org/abc" {
			t.Fatalf("profile: %v %+v", err, prof)
		}
		name, err := bob.GetDisplayName(ctx, inst.UserID("bob"))
		if err != nil || name.DisplayName != "bob" {
			t.Fatalf("default display name: %v %+v", err, name)
		}
		r = acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/profile/"+string(inst.UserID("alice"))+"/displayname", bob.AccessToken,
			map[string]any{"displayname": "Mallory"})
		acctExpect(t, "set someone else's name", r, http.StatusForbidden, "M_FORBIDDEN")
		r = acctDo(t, "GET", inst.URL+"/_matrix/client/v3/profile/"+string(inst.UserID("nobody")), "", nil)
		acctExpect(t, "unknown user's profile", r, http.StatusNotFound, "M_NOT_FOUND")

		// Account data, global and per room.
		type direct struct {
			Rooms []string `json:"rooms"`
		}
		if err := alice.SetAccountData(ctx, "org.example.test", direct{Rooms: []string{"!a:b"}}); err != nil {
			t.Fatal(err)
		}
		var got direct
		if err := alice.GetAccountData(ctx, "org.example.test", &got); err != nil || len(got.Rooms) != 1 {
			t.Fatalf("account data: %v %+v", err, got)
		}
		room := id.RoomID("!room:" + inst.Cfg.ServerName)
		if err := alice.SetRoomAccountData(ctx, room, "m.tag", map[string]any{"tags": map[string]any{"u.work": map[string]any{}}}); err != nil {
			t.Fatal(err)
		}
		var tags map[string]any
		if err := alice.GetRoomAccountData(ctx, room, "m.tag", &tags); err != nil || tags["tags"] == nil {
			t.Fatalf("room account data: %v %+v", err, tags)
		}
		err = bob.GetAccountData(ctx, "org.example.test", &got)
		acctMatrixErr(t, "unset account data", err, "M_NOT_FOUND")
		r = acctDo(t, "GET", inst.URL+"/_matrix/client/v3/user/"+string(inst.UserID("alice"))+"/account_data/org.example.test", bob.AccessToken, nil)
		acctExpect(t, "someone else's account data", r, http.StatusForbidden, "M_FORBIDDEN")
		r = acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/user/"+string(inst.UserID("alice"))+"/account_data/m.push_rules", alice.AccessToken, map[string]any{})
		acctExpect(t, "m.push_rules via account data", r, http.StatusMethodNotAllowed, "M_BAD_JSON")
		r = acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/user/"+string(inst.UserID("alice"))+"/rooms/"+string(room)+"/account_data/m.fully_read", alice.AccessToken, map[string]any{})
		acctExpect(t, "m.fully_read via account data", r, http.StatusMethodNotAllowed, "M_BAD_JSON")
		r = acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/user/"+string(inst.UserID("alice"))+"/rooms/notaroom/account_data/m.tag", alice.AccessToken, map[string]any{})
		acctExpect(t, "bad room ID", r, http.StatusBadRequest, "M_INVALID_PARAM")
		r = acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/user/"+string(inst.UserID("alice"))+"/account_data/x.y", alice.AccessToken, "[1,2]")
		acctExpect(t, "account data not an object", r, http.StatusBadRequest, "M_BAD_JSON")

		caps, err := alice.Capabilities(ctx)
		if err != nil || caps.RoomVersions == nil || caps.RoomVersions.Default != inst.Cfg.Rooms.DefaultVersion ||
			caps.ChangePassword == nil || !caps.ChangePassword.Enabled {
			t.Fatalf("capabilities: %v %+v", err, caps)
		}

		// Logout revokes the token.
		if _, err := alice.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = alice.Whoami(ctx)
		acctMatrixErr(t, "token after logout", err, "M_UNKNOWN_TOKEN")
		if _, err := bob.Whoami(ctx); err != nil {
			t.Fatalf("other user's token after logout: %v", err)
		}
		if _, err := bob.LogoutAll(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = bob.Whoami(ctx)
		acctMatrixErr(t, "token after logout/all", err, "M_UNKNOWN_TOKEN")
	})
}

// TestAccountPasswordChange: a password change logs out the other devices
// (unless asked not to) and the old password stops working.
func TestAccountPasswordChange(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		main := inst.Register("carol", "password123")
		other := acctLogin(t, inst.URL, "carol", "password123", nil)
		acctExpect(t, "second login", other, http.StatusOK, "")
		url := inst.URL + "/_matrix/client/v3/account/password"

		first := acctDo(t, "POST", url, main.AccessToken, map[string]any{"new_password": "newpassword1"})
		acctExpect(t, "password without auth", first, http.StatusUnauthorized, "")
		short := acctDo(t, "POST", url, main.AccessToken, map[string]any{"new_password": "short",
			"auth": acctPasswordAuth("carol", "password123", first.str("session"))})
		acctExpect(t, "weak password", short, http.StatusBadRequest, "M_WEAK_PASSWORD")
		ok := acctDo(t, "POST", url, main.AccessToken, map[string]any{"new_password": "newpassword1",
			"auth": acctPasswordAuth("@carol:"+inst.Cfg.ServerName, "password123", first.str("session"))})
		acctExpect(t, "change password", ok, http.StatusOK, "")

		r := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/account/whoami", other.str("access_token"), nil)
		acctExpect(t, "other device after password change", r, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		r = acctDo(t, "GET", inst.URL+"/_matrix/client/v3/account/whoami", main.AccessToken, nil)
		acctExpect(t, "own device after password change", r, http.StatusOK, "")
		acctExpect(t, "old password", acctLogin(t, inst.URL, "carol", "password123", nil), http.StatusForbidden, "M_FORBIDDEN")

		// logout_devices: false keeps the other devices.
		keep := acctLogin(t, inst.URL, "carol", "newpassword1", nil)
		acctExpect(t, "new password", keep, http.StatusOK, "")
		first = acctDo(t, "POST", url, main.AccessToken, map[string]any{})
		ok = acctDo(t, "POST", url, main.AccessToken, map[string]any{"new_password": "newpassword2", "logout_devices": false,
			"auth": acctPasswordAuth("carol", "newpassword1", first.str("session"))})
		acctExpect(t, "change password keeping devices", ok, http.StatusOK, "")
		r = acctDo(t, "GET", inst.URL+"/_matrix/client/v3/account/whoami", keep.str("access_token"), nil)
		acctExpect(t, "kept device", r, http.StatusOK, "")
		// A completed session cannot be replayed.
		replay := acctDo(t, "POST", url, main.AccessToken, map[string]any{"new_password": "newpassword3",
			"auth": map[string]any{"session": first.str("session")}})
		acctExpect(t, "replayed UIA session", replay, http.StatusBadRequest, "M_UNKNOWN")
	})
}

// TestAccountDeactivate: deactivation revokes tokens, forbids login and
// keeps the name taken.
func TestAccountDeactivate(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		dave := inst.Register("dave", "password123")
		url := inst.URL + "/_matrix/client/v3/account/deactivate"
		first := acctDo(t, "POST", url, dave.AccessToken, map[string]any{})
		acctExpect(t, "deactivate without auth", first, http.StatusUnauthorized, "")
		flows, _ := first.Body["flows"].([]any)
		if len(flows) != 1 {
			t.Fatalf("flows: %s", first.Raw)
		}
		r := acctDo(t, "POST", url, dave.AccessToken, map[string]any{"auth": acctPasswordAuth("dave", "password123", first.str("session"))})
		acctExpect(t, "deactivate", r, http.StatusOK, "")
		if r.str("id_server_unbind_result") != "no-support" {
			t.Fatalf("deactivate response: %s", r.Raw)
		}
		r = acctDo(t, "GET", inst.URL+"/_matrix/client/v3/account/whoami", dave.AccessToken, nil)
		acctExpect(t, "token after deactivation", r, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		acctExpect(t, "login after deactivation", acctLogin(t, inst.URL, "dave", "password123", nil), http.StatusForbidden, "M_USER_DEACTIVATED")
		acctExpect(t, "re-register", acctRegister(t, inst.URL, map[string]any{"username": "dave", "password": "password123"}),
			http.StatusBadRequest, "M_USER_IN_USE")
	})
}

// TestAccountRefreshTokens: expiring access tokens and /refresh rotation.
func TestAccountRefreshTokens(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		const lifetime = 3 * time.Second
		opts.Configure = func(cfg *config.Config) { cfg.Registration.AccessTokenLifetime = lifetime }
		inst := testserver.Start(t, opts)
		whoami := func(token string) acctResp {
			return acctDo(t, "GET", inst.URL+"/_matrix/client/v3/account/whoami", token, nil)
		}
		refresh := func(token string) acctResp {
			return acctDo(t, "POST", inst.URL+"/_matrix/client/v3/refresh", "", map[string]any{"refresh_token": token})
		}

		reg := acctRegister(t, inst.URL, map[string]any{"username": "erin", "password": "password123", "refresh_token": true})
		acctExpect(t, "register with refresh token", reg, http.StatusOK, "")
		if reg.str("refresh_token") == "" || reg.Body["expires_in_ms"] != float64(lifetime.Milliseconds()) {
			t.Fatalf("register response: %s", reg.Raw)
		}
		// Clients that do not support refresh tokens get non-expiring ones.
		plain := acctLogin(t, inst.URL, "erin", "password123", nil)
		if plain.str("refresh_token") != "" || plain.Body["expires_in_ms"] != nil {
			t.Fatalf("login without refresh_token: %s", plain.Raw)
		}

		login := acctLogin(t, inst.URL, "erin", "password123", map[string]any{"refresh_token": true})
		acctExpect(t, "login", login, http.StatusOK, "")
		r1 := refresh(login.str("refresh_token"))
		acctExpect(t, "refresh", r1, http.StatusOK, "")
		if r1.str("access_token") == "" || r1.str("refresh_token") == "" || r1.str("refresh_token") == login.str("refresh_token") {
			t.Fatalf("refresh response: %s", r1.Raw)
		}
		acctExpect(t, "old access token", whoami(login.str("access_token")), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		// The response may have been lost: the old refresh token still
		// works until the new tokens are used.
		r2 := refresh(login.str("refresh_token"))
		acctExpect(t, "refresh again with the old token", r2, http.StatusOK, "")
		acctExpect(t, "superseded unused access token", whoami(r1.str("access_token")), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		me := whoami(r2.str("access_token"))
		acctExpect(t, "new access token", me, http.StatusOK, "")
		if me.str("user_id") != string(inst.UserID("erin")) || me.str("device_id") != login.str("device_id") {
			t.Fatalf("whoami after refresh: %s", me.Raw)
		}
		acctExpect(t, "old refresh token after new one used", refresh(login.str("refresh_token")), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		acctExpect(t, "unknown refresh token", refresh("nope"), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")

		// Valid until it expires (3 s after it was issued), then refused.
		var expired acctResp
		testutil.Eventually(t, lifetime+10*time.Second, "the access token to expire", func() bool {
			expired = whoami(r2.str("access_token"))
			return expired.Status != http.StatusOK
		})
		acctExpect(t, "expired access token", expired, http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		if expired.Body["soft_logout"] != true {
			t.Fatalf("expired token should be a soft logout: %s", expired.Raw)
		}
		r3 := refresh(r2.str("refresh_token"))
		acctExpect(t, "refresh after expiry", r3, http.StatusOK, "")
		acctExpect(t, "refreshed token", whoami(r3.str("access_token")), http.StatusOK, "")
		acctExpect(t, "non-expiring token", whoami(plain.str("access_token")), http.StatusOK, "")
	})
}

// TestRestartKeepsAccounts: accounts and tokens survive a restart.
func TestRestartKeepsAccounts(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		inst := testserver.Start(t, opts)
		frank := inst.Register("frank", "password123")
		if err := frank.SetDisplayName(ctx, "Frank"); err != nil {
			t.Fatal(err)
		}
		inst = inst.Restart()
		if _, err := frank.Whoami(ctx); err != nil {
			t.Fatalf("old token after restart: %v", err)
		}
		acctExpect(t, "login after restart", acctLogin(t, inst.URL, "frank", "password123", nil), http.StatusOK, "")
		name, err := frank.GetDisplayName(ctx, inst.UserID("frank"))
		if err != nil || name.DisplayName != "Frank" {
			t.Fatalf("display name after restart: %v %+v", err, name)
		}
	})
}
