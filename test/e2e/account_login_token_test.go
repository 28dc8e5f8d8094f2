package e2e

import (
	"net/http"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestLoginToken: POST /login/get_token asks for the password every time
// and mints a token that logs one other client in as the same user
// (m.login.token), once; GET /login and /capabilities advertise it.
func TestLoginToken(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := acctRegister(t, inst.URL, map[string]any{"username": "alice", "password": "password123", "auth": map[string]any{"type": "m.login.dummy"}})
		acctExpect(t, "register alice", alice, http.StatusOK, "")
		bob := acctRegister(t, inst.URL, map[string]any{"username": "bob", "password": "password123", "auth": map[string]any{"type": "m.login.dummy"}})
		acctExpect(t, "register bob", bob, http.StatusOK, "")
		tok := alice.str("access_token")
		getToken := inst.URL + "/_matrix/client/v1/login/get_token"
		login := inst.URL + "/_matrix/client/v3/login"

		flows := acctDo(t, "GET", login, "", nil)
		if !flowsHaveLoginToken(flows) {
			t.Fatalf("GET /login does not offer m.login.token with get_login_token: %s", flows.Raw)
		}
		caps := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/capabilities", tok, nil)
		if c, _ := caps.Body["capabilities"].(map[string]any); c == nil || c["m.get_login_token"].(map[string]any)["enabled"] != true {
			t.Fatalf("capabilities: %s", caps.Raw)
		}

		// UIA: a challenge, a wrong password, then the right one.
		first := acctDo(t, "POST", getToken, tok, map[string]any{})
		acctExpect(t, "get_token without auth", first, http.StatusUnauthorized, "")
		session := first.str("session")
		if session == "" {
			t.Fatalf("no UIA session: %s", first.Raw)
		}
		acctExpect(t, "get_token wrong password", acctDo(t, "POST", getToken, tok,
			map[string]any{"auth": acctPasswordAuth("alice", "wrong-password", session)}), http.StatusUnauthorized, "M_FORBIDDEN")
		minted := acctDo(t, "POST", getToken, tok, map[string]any{"auth": acctPasswordAuth("alice", "password123", session)})
		acctExpect(t, "get_token", minted, http.StatusOK, "")
		loginToken := minted.str("login_token")
		if loginToken == "" || minted.Body["expires_in_ms"] != float64(120000) {
			t.Fatalf("get_token response: %s", minted.Raw)
		}
		// The completed session does not mint a second token.
		if again := acctDo(t, "POST", getToken, tok, map[string]any{"auth": map[string]any{"type": "m.login.password", "session": session}}); again.Status == http.StatusOK {
			t.Fatalf("a finished UIA session minted another token: %s", again.Raw)
		}

		// The token logs a new device in as alice, once.
		in := acctDo(t, "POST", login, "", map[string]any{"type": "m.login.token", "token": loginToken, "initial_device_display_name": "Second"})
		acctExpect(t, "m.login.token", in, http.StatusOK, "")
		if in.str("user_id") != string(inst.UserID("alice")) || in.str("access_token") == "" || in.str("device_id") == alice.str("device_id") {
			t.Fatalf("token login: %s", in.Raw)
		}
		who := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/account/whoami", in.str("access_token"), nil)
		if who.str("user_id") != string(inst.UserID("alice")) {
			t.Fatalf("whoami with the new token: %s", who.Raw)
		}
		acctExpect(t, "token used twice", acctDo(t, "POST", login, "", map[string]any{"type": "m.login.token", "token": loginToken}),
			http.StatusForbidden, "M_FORBIDDEN")
		acctExpect(t, "unknown token", acctDo(t, "POST", login, "", map[string]any{"type": "m.login.token", "token": "axl_nope"}),
			http.StatusForbidden, "M_FORBIDDEN")
		acctExpect(t, "no token", acctDo(t, "POST", login, "", map[string]any{"type": "m.login.token"}),
			http.StatusBadRequest, "M_MISSING_PARAM")

		// Bound to the user: naming another user is refused.
		mint := func() string {
			t.Helper()
			c := acctDo(t, "POST", getToken, tok, map[string]any{})
			r := acctDo(t, "POST", getToken, tok, map[string]any{"auth": acctPasswordAuth("alice", "password123", c.str("session"))})
			acctExpect(t, "get_token", r, http.StatusOK, "")
			return r.str("login_token")
		}
		acctExpect(t, "token for another user", acctDo(t, "POST", login, "", map[string]any{"type": "m.login.token", "token": mint(),
			"identifier": map[string]any{"type": "m.id.user", "user": "bob"}}), http.StatusForbidden, "M_FORBIDDEN")
		named := acctDo(t, "POST", login, "", map[string]any{"type": "m.login.token", "token": mint(),
			"identifier": map[string]any{"type": "m.id.user", "user": "alice"}})
		acctExpect(t, "token with its own user named", named, http.StatusOK, "")

		// A token minted before deactivation no longer logs in.
		pending := mint()
		deact := acctDo(t, "POST", inst.URL+"/_matrix/client/v3/account/deactivate", named.str("access_token"), map[string]any{})
		deact = acctDo(t, "POST", inst.URL+"/_matrix/client/v3/account/deactivate", named.str("access_token"),
			map[string]any{"auth": acctPasswordAuth("alice", "password123", deact.str("session"))})
		acctExpect(t, "deactivate", deact, http.StatusOK, "")
		acctExpect(t, "token after deactivation", acctDo(t, "POST", login, "", map[string]any{"type": "m.login.token", "token": pending}),
			http.StatusForbidden, "M_FORBIDDEN")
	})
}

// TestLoginTokenDisabled: registration.get_login_token: false removes
// the endpoint, the login flow and the capability.
func TestLoginTokenDisabled(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.Registration.GetLoginToken = false }})
	reg := acctRegister(t, inst.URL, map[string]any{"username": "alice", "password": "password123", "auth": map[string]any{"type": "m.login.dummy"}})
	acctExpect(t, "register", reg, http.StatusOK, "")
	if flows := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/login", "", nil); flowsHaveLoginToken(flows) {
		t.Fatalf("GET /login offers m.login.token while disabled: %s", flows.Raw)
	}
	caps := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/capabilities", reg.str("access_token"), nil)
	if c, _ := caps.Body["capabilities"].(map[string]any); c == nil || c["m.get_login_token"].(map[string]any)["enabled"] != false {
		t.Fatalf("capabilities: %s", caps.Raw)
	}
	acctExpect(t, "get_token disabled", acctDo(t, "POST", inst.URL+"/_matrix/client/v1/login/get_token", reg.str("access_token"), map[string]any{}),
		http.StatusNotFound, "M_UNRECOGNIZED")
	acctExpect(t, "m.login.token disabled", acctDo(t, "POST", inst.URL+"/_matrix/client/v3/login", "", map[string]any{"type": "m.login.token", "token": "x"}),
		http.StatusBadRequest, "M_UNKNOWN")
}

func flowsHaveLoginToken(r acctResp) bool {
	flows, _ := r.Body["flows"].([]any)
	for _, f := range flows {
		if m, _ := f.(map[string]any); m["type"] == "m.login.token" && m["get_login_token"] == true {
			return true
		}
	}
	return false
}
