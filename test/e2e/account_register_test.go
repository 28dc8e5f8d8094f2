package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/server/testserver"
)

// TestRegisterOpen: UIA flows, validation and options of open registration.
func TestRegisterOpen(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		url := inst.URL + "/_matrix/client/v3/register"

		first := acctDo(t, "POST", url, "", map[string]any{})
		acctExpect(t, "register without auth", first, http.StatusUnauthorized, "")
		if !strings.Contains(first.Raw, `"stages":["m.login.dummy"]`) || first.str("session") == "" {
			t.Fatalf("flows: %s", first.Raw)
		}
		for _, name := range []string{"al ice", "al:ice", "ümlaut", "12345", strings.Repeat("a", 250)} {
			r := acctDo(t, "POST", url, "", map[string]any{"username": name, "password": "password123"})
			acctExpect(t, "username "+name, r, http.StatusBadRequest, "M_INVALID_USERNAME")
		}
		acctExpect(t, "weak password", acctDo(t, "POST", url, "", map[string]any{"username": "gina", "password": "short"}),
			http.StatusBadRequest, "M_WEAK_PASSWORD")
		acctExpect(t, "unknown kind", acctDo(t, "POST", url+"?kind=robot", "", map[string]any{}), http.StatusBadRequest, "M_INVALID_PARAM")
		acctExpect(t, "guests disabled", acctDo(t, "POST", url+"?kind=guest", "", map[string]any{}), http.StatusForbidden, "M_FORBIDDEN")

		reg := acctRegister(t, inst.URL, map[string]any{"username": "gina", "password": "password123",
			"device_id": "GINADEVICE", "initial_device_display_name": "Gina's laptop"})
		acctExpect(t, "register", reg, http.StatusOK, "")
		if reg.str("user_id") != string(inst.UserID("gina")) || reg.str("device_id") != "GINADEVICE" || reg.str("access_token") == "" {
			t.Fatalf("register response: %s", reg.Raw)
		}
		dev := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/devices/GINADEVICE", reg.str("access_token"), nil)
		if dev.str("display_name") != "Gina's laptop" || dev.str("last_seen_ip") != "127.0.0.1" || dev.Body["last_seen_ts"] == nil {
			t.Fatalf("device: %s", dev.Raw)
		}
		acctExpect(t, "taken", acctRegister(t, inst.URL, map[string]any{"username": "gina", "password": "password123"}),
			http.StatusBadRequest, "M_USER_IN_USE")
		r := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/register/available?username=gina", "", nil)
		acctExpect(t, "available (taken)", r, http.StatusBadRequest, "M_USER_IN_USE")
		// Usernames are downcased: "Ivy" registers @ivy, and "GINA" is taken.
		acctExpect(t, "available (taken, other case)", acctDo(t, "GET", inst.URL+"/_matrix/client/v3/register/available?username=GINA", "", nil),
			http.StatusBadRequest, "M_USER_IN_USE")
		if up := acctRegister(t, inst.URL, map[string]any{"username": "Ivy", "password": "password123"}); up.str("user_id") != string(inst.UserID("ivy")) {
			t.Fatalf("register with capitals: %s", up.Raw)
		}
		r = acctDo(t, "GET", inst.URL+"/_matrix/client/v3/register/available?username=hank", "", nil)
		if r.Status != http.StatusOK || r.Body["available"] != true {
			t.Fatalf("available: %s", r.Raw)
		}
		acctExpect(t, "available (invalid)", acctDo(t, "GET", inst.URL+"/_matrix/client/v3/register/available?username=H%20K", "", nil),
			http.StatusBadRequest, "M_INVALID_USERNAME")

		inhibit := acctRegister(t, inst.URL, map[string]any{"username": "hank", "password": "password123", "inhibit_login": true})
		acctExpect(t, "inhibit_login", inhibit, http.StatusOK, "")
		if inhibit.str("user_id") != string(inst.UserID("hank")) || inhibit.str("access_token") != "" {
			t.Fatalf("inhibit_login response: %s", inhibit.Raw)
		}
		generated := acctRegister(t, inst.URL, map[string]any{"password": "password123"})
		acctExpect(t, "register without username", generated, http.StatusOK, "")
		if !strings.HasPrefix(generated.str("user_id"), "@user-") {
			t.Fatalf("generated user ID: %s", generated.Raw)
		}
		// Flows and session are per request kind: a registration session
		// cannot be used with another stage.
		wrong := acctDo(t, "POST", url, "", map[string]any{"username": "ivan", "password": "password123",
			"auth": map[string]any{"type": "m.login.registration_token", "token": "x", "session": first.str("session")}})
		acctExpect(t, "unexpected stage", wrong, http.StatusUnauthorized, "M_UNKNOWN")
		unknown := acctDo(t, "POST", url, "", map[string]any{"username": "ivan", "password": "password123",
			"auth": map[string]any{"type": "m.login.dummy", "session": "nosuchsession"}})
		acctExpect(t, "unknown session", unknown, http.StatusBadRequest, "M_UNKNOWN")

		r = acctDo(t, "GET", inst.URL+"/_matrix/client/v1/register/m.login.registration_token/validity?token=x", "", nil)
		acctExpect(t, "token validity when not in token mode", r, http.StatusForbidden, "M_FORBIDDEN")
		acctExpect(t, "well-known client unset", acctDo(t, "GET", inst.URL+"/.well-known/matrix/client", "", nil), http.StatusNotFound, "M_NOT_FOUND")
		flows := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/login", "", nil)
		if !strings.Contains(flows.Raw, `"m.login.password"`) {
			t.Fatalf("login flows: %s", flows.Raw)
		}
	})
}

// TestRegisterTokenGuestAndSharedSecret: token mode, guests and the
// Synapse shared-secret admin API.
func TestRegisterTokenGuestAndSharedSecret(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = func(cfg *config.Config) {
			cfg.Registration.Mode = "token"
			cfg.Registration.Tokens = []string{"let-me-in"}
			cfg.Registration.AllowGuests = true
			cfg.PublicBaseURL = "https://matrix.example.org"
			cfg.WellKnownServer = "matrix.example.org:443"
		}
		inst := testserver.Start(t, opts)
		url := inst.URL + "/_matrix/client/v3/register"
		validity := inst.URL + "/_matrix/client/v1/register/m.login.registration_token/validity?token="

		if r := acctDo(t, "GET", validity+"let-me-in", "", nil); r.Body["valid"] != true {
			t.Fatalf("valid token: %s", r.Raw)
		}
		if r := acctDo(t, "GET", validity+"nope", "", nil); r.Body["valid"] != false {
			t.Fatalf("invalid token: %s", r.Raw)
		}
		first := acctDo(t, "POST", url, "", map[string]any{"username": "judy", "password": "password123"})
		if first.Status != http.StatusUnauthorized || !strings.Contains(first.Raw, `"stages":["m.login.registration_token"]`) {
			t.Fatalf("token flows: %s", first.Raw)
		}
		dummy := acctDo(t, "POST", url, "", map[string]any{"username": "judy", "password": "password123",
			"auth": map[string]any{"type": "m.login.dummy", "session": first.str("session")}})
		acctExpect(t, "dummy in token mode", dummy, http.StatusUnauthorized, "M_UNKNOWN")
		bad := acctDo(t, "POST", url, "", map[string]any{"username": "judy", "password": "password123",
			"auth": map[string]any{"type": "m.login.registration_token", "token": "nope", "session": first.str("session")}})
		acctExpect(t, "bad token", bad, http.StatusUnauthorized, "M_FORBIDDEN")
		ok := acctDo(t, "POST", url, "", map[string]any{"username": "judy", "password": "password123",
			"auth": map[string]any{"type": "m.login.registration_token", "token": "let-me-in", "session": first.str("session")}})
		acctExpect(t, "good token", ok, http.StatusOK, "")

		guest := acctDo(t, "POST", url+"?kind=guest", "", map[string]any{})
		acctExpect(t, "guest", guest, http.StatusOK, "")
		who := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/account/whoami", guest.str("access_token"), nil)
		if who.Body["is_guest"] != true {
			t.Fatalf("guest whoami: %s", who.Raw)
		}
		acctExpect(t, "guest account data",
			acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/user/"+guest.str("user_id")+"/account_data/x.y", guest.str("access_token"), map[string]any{}),
			http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN")
		acctExpect(t, "guest display name",
			acctDo(t, "PUT", inst.URL+"/_matrix/client/v3/profile/"+guest.str("user_id")+"/displayname", guest.str("access_token"), map[string]any{"displayname": "Guest"}),
			http.StatusOK, "")

		// Shared-secret registration.
		nonce := func() string {
			r := acctDo(t, "GET", inst.URL+"/_synapse/admin/v1/register", "", nil)
			acctExpect(t, "nonce", r, http.StatusOK, "")
			return r.str("nonce")
		}
		n := nonce()
		admin := acctDo(t, "POST", inst.URL+"/_synapse/admin/v1/register", "", map[string]any{
			"nonce": n, "username": "kate", "password": "password123", "admin": true,
			"mac": acctSharedSecretMAC(inst.Cfg.Registration.SharedSecret, n, "kate", "password123", true)})
		acctExpect(t, "shared-secret register", admin, http.StatusOK, "")
		if admin.str("user_id") != string(inst.UserID("kate")) || admin.str("access_token") == "" {
			t.Fatalf("shared-secret response: %s", admin.Raw)
		}
		replay := acctDo(t, "POST", inst.URL+"/_synapse/admin/v1/register", "", map[string]any{
			"nonce": n, "username": "kate2", "password": "password123", "admin": true,
			"mac": acctSharedSecretMAC(inst.Cfg.Registration.SharedSecret, n, "kate2", "password123", true)})
		acctExpect(t, "reused nonce", replay, http.StatusBadRequest, "M_UNKNOWN")
		n = nonce()
		forged := acctDo(t, "POST", inst.URL+"/_synapse/admin/v1/register", "", map[string]any{
			"nonce": n, "username": "kate2", "password": "password123", "admin": true,
			"mac": acctSharedSecretMAC("wrong secret", n, "kate2", "password123", true)})
		acctExpect(t, "bad mac", forged, http.StatusForbidden, "M_FORBIDDEN")
		n = nonce()
		capitals := acctDo(t, "POST", inst.URL+"/_synapse/admin/v1/register", "", map[string]any{
			"nonce": n, "username": "Kate3", "password": "password123", "admin": false,
			"mac": acctSharedSecretMAC(inst.Cfg.Registration.SharedSecret, n, "Kate3", "password123", false)})
		if capitals.Status != http.StatusOK || capitals.str("user_id") != string(inst.UserID("kate3")) {
			t.Fatalf("shared-secret register with capitals: %s", capitals.Raw)
		}

		if login := acctLogin(t, inst.URL, "judy", "password123", nil); !strings.Contains(login.Raw, `"well_known":{"m.homeserver"`) {
			t.Fatalf("login well_known: %s", login.Raw)
		}
		wk := acctDo(t, "GET", inst.URL+"/.well-known/matrix/client", "", nil)
		if !strings.Contains(wk.Raw, `"base_url":"https://matrix.example.org"`) {
			t.Fatalf("well-known client: %s", wk.Raw)
		}
		if wk := acctDo(t, "GET", inst.URL+"/.well-known/matrix/server", "", nil); wk.str("m.server") != "matrix.example.org:443" {
			t.Fatalf("well-known server: %s", wk.Raw)
		}
	})
}

// TestRegisterClosed: closed registration, and no shared secret.
func TestRegisterClosed(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Registration.Mode = "closed"
		cfg.Registration.SharedSecret = ""
	}})
	acctExpect(t, "closed", acctDo(t, "POST", inst.URL+"/_matrix/client/v3/register", "", map[string]any{}), http.StatusForbidden, "M_FORBIDDEN")
	acctExpect(t, "no shared secret", acctDo(t, "GET", inst.URL+"/_synapse/admin/v1/register", "", nil), http.StatusBadRequest, "M_UNKNOWN")
	userID, err := inst.Server.Users.CreateAccount(context.Background(), "admin", "password123", true)
	if err != nil || userID != matrixid.UserID(inst.UserID("admin")) {
		t.Fatalf("create-account: %v %s", err, userID)
	}
	acctExpect(t, "login created account", acctLogin(t, inst.URL, "admin", "password123", nil), http.StatusOK, "")
}

// TestRegisterConcurrent: 200 parallel registrations on SQLite all
// succeed (writes queue on the single writer rather than failing with
// "database is locked").
func TestRegisterConcurrent(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Backend: "sqlite"})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := acctTryRegister(inst.URL, map[string]any{"username": fmt.Sprintf("user%03d", i), "password": "password123"})
			if err != nil {
				errs <- err.Error()
			} else if r.Status != http.StatusOK || r.str("access_token") == "" {
				errs <- fmt.Sprintf("user%03d: %d %s", i, r.Status, r.Raw)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func acctSharedSecretMAC(secret, nonce, user, password string, admin bool) string {
	m := hmac.New(sha1.New, []byte(secret))
	role := "notadmin"
	if admin {
		role = "admin"
	}
	m.Write([]byte(nonce + "\x00" + user + "\x00" + password + "\x00" + role))
	return hex.EncodeToString(m.Sum(nil))
}
