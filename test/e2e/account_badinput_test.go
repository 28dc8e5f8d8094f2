package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestBadInputAccount: malformed requests get Matrix errors with the
// right status, never a 500 (acctDo fails the test on any 5xx or
// non-JSON answer).
func TestBadInputAccount(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		c := inst.Register("mallory", "password123")
		tok := c.AccessToken
		v3 := inst.URL + "/_matrix/client/v3"
		me := string(inst.UserID("mallory"))

		acctExpect(t, "malformed JSON", acctDo(t, "POST", v3+"/login", "", `{"type":`), http.StatusBadRequest, "M_NOT_JSON")
		acctExpect(t, "invalid UTF-8", acctDo(t, "POST", v3+"/login", "", []byte("{\"user\":\"\xff\"}")), http.StatusBadRequest, "M_NOT_JSON")
		acctExpect(t, "wrong type", acctDo(t, "POST", v3+"/login", "", `{"type":"m.login.password","password":123}`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "not an object", acctDo(t, "POST", v3+"/login", "", `[]`), http.StatusBadRequest, "M_BAD_JSON")
		huge := `{"type":"m.login.password","password":"` + strings.Repeat("x", 2<<20) + `"}`
		acctExpect(t, "huge body", acctDo(t, "POST", v3+"/login", "", huge), http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
		acctExpect(t, "unknown endpoint", acctDo(t, "GET", v3+"/no/such/endpoint", "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
		acctExpect(t, "wrong method", acctDo(t, "DELETE", v3+"/login", "", nil), http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
		acctExpect(t, "missing token", acctDo(t, "GET", v3+"/account/whoami", "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
		acctExpect(t, "invalid token", acctDo(t, "GET", v3+"/account/whoami", "not-a-token", nil), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		if r := acctDo(t, "GET", v3+"/account/whoami", "not-a-token", nil); r.Body["soft_logout"] == true {
			t.Fatalf("unknown token must not be a soft logout: %s", r.Raw)
		}
		acctExpect(t, "unknown login type", acctDo(t, "POST", v3+"/login", "", `{"type":"m.login.magic"}`), http.StatusBadRequest, "M_UNKNOWN")
		acctExpect(t, "no identifier", acctDo(t, "POST", v3+"/login", "", `{"type":"m.login.password","password":"x"}`), http.StatusBadRequest, "M_MISSING_PARAM")
		acctExpect(t, "remote user login", acctLogin(t, inst.URL, "@mallory:elsewhere.example", "password123", nil), http.StatusForbidden, "M_FORBIDDEN")
		acctExpect(t, "bad device id", acctLogin(t, inst.URL, "mallory", "password123", map[string]any{"device_id": "has space"}), http.StatusBadRequest, "M_INVALID_PARAM")
		acctExpect(t, "refresh without token", acctDo(t, "POST", v3+"/refresh", "", `{}`), http.StatusBadRequest, "M_MISSING_PARAM")
		acctExpect(t, "delete_devices without devices", acctDo(t, "POST", v3+"/delete_devices", tok, `{}`), http.StatusBadRequest, "M_MISSING_PARAM")
		acctExpect(t, "profile of a non-ID", acctDo(t, "GET", v3+"/profile/mallory", "", nil), http.StatusBadRequest, "M_INVALID_PARAM")
		acctExpect(t, "display name not a string", acctDo(t, "PUT", v3+"/profile/"+me+"/displayname", tok, `{"displayname":5}`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "display name missing", acctDo(t, "PUT", v3+"/profile/"+me+"/displayname", tok, `{}`), http.StatusBadRequest, "M_MISSING_PARAM")
		acctExpect(t, "avatar not a string", acctDo(t, "PUT", v3+"/profile/"+me+"/avatar_url", tok, `{"avatar_url":1}`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "avatar too long", acctDo(t, "PUT", v3+"/profile/"+me+"/avatar_url", tok, `{"avatar_url":"mxc://x/`+strings.Repeat("a", 1000)+`"}`), http.StatusBadRequest, "M_INVALID_PARAM")
		acctExpect(t, "bad profile key", acctDo(t, "PUT", v3+"/profile/"+me+"/Bad-Key", tok, `{"Bad-Key":1}`), http.StatusBadRequest, "M_INVALID_PARAM")
		acctExpect(t, "account data null", acctDo(t, "PUT", v3+"/user/"+me+"/account_data/x.y", tok, `null`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "register wrong auth type", acctDo(t, "POST", v3+"/register", "", `{"auth":"dummy"}`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "password wrong type", acctDo(t, "POST", v3+"/account/password", tok, `{"new_password":["x"]}`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "shared secret malformed", acctDo(t, "POST", inst.URL+"/_synapse/admin/v1/register", "", `{"nonce":1}`), http.StatusBadRequest, "M_BAD_JSON")

		// A sweep of garbage bodies over the account endpoints: any 4xx is
		// fine, a 5xx or non-JSON answer fails (inside acctDo).
		bodies := []string{"", "{", "null", "[]", "1", `"x"`, `{"auth":{}}`, `{"auth":{"type":"m.login.password"}}`,
			`{"auth":{"type":"m.login.password","session":"x","identifier":{"type":"m.id.thirdparty"}}}`,
			`{"devices":"x"}`, `{"devices":[1]}`, `{"display_name":null}`, `{"refresh_token":5}`, `{"username":"` + strings.Repeat("é", 300) + `"}`}
		endpoints := []struct{ method, path string }{
			{"POST", "/register"}, {"POST", "/register?kind=guest"}, {"POST", "/login"}, {"POST", "/refresh"},
			{"POST", "/account/password"}, {"POST", "/delete_devices"}, {"PUT", "/devices/NOPE"}, {"DELETE", "/devices/NOPE"},
			{"PUT", "/profile/" + me + "/displayname"}, {"PUT", "/profile/" + me + "/org.example.field"},
			{"PUT", "/user/" + me + "/account_data/x.y"}, {"PUT", "/user/" + me + "/rooms/!r:x/account_data/x.y"},
			{"POST", "/logout/all?x=1"},
		}
		for _, ep := range endpoints {
			for _, b := range bodies {
				url := v3 + ep.path
				if ep.path == "/logout/all?x=1" {
					continue // would log us out; covered above
				}
				r := acctDo(t, ep.method, url, tok, b)
				if r.Status >= 400 && r.errcode() == "" && r.Body["flows"] == nil {
					t.Fatalf("%s %s %q: error without errcode: %s", ep.method, ep.path, b, r.Raw)
				}
			}
		}
		if _, err := c.Whoami(t.Context()); err != nil {
			t.Fatalf("token after garbage: %v", err)
		}
	})
}

// TestRateLimitLogin: repeated bad logins from one IP are limited with
// M_LIMIT_EXCEEDED and retry_after_ms.
func TestRateLimitLogin(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = func(cfg *config.Config) {
			cfg.RateLimits.Enabled = true
			cfg.RateLimits.Login = config.Rate{PerSecond: 0.1, Burst: 3}
			cfg.RateLimits.Registration = config.Rate{PerSecond: 0.1, Burst: 5}
		}
		inst := testserver.Start(t, opts)
		var limited acctResp
		for i := range 10 {
			r := acctLogin(t, inst.URL, "nobody", "wrong-password", nil)
			if r.Status == http.StatusTooManyRequests {
				limited = r
				if i < 3 {
					t.Fatalf("limited after %d attempts, burst is 3", i)
				}
				break
			}
			acctExpect(t, "bad login", r, http.StatusForbidden, "M_FORBIDDEN")
		}
		acctExpect(t, "rate limited login", limited, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
		if ms, _ := limited.Body["retry_after_ms"].(float64); ms <= 0 {
			t.Fatalf("retry_after_ms missing: %s", limited.Raw)
		}
		// Registration is limited per IP as well.
		var regLimited bool
		for range 10 {
			if r := acctDo(t, "POST", inst.URL+"/_matrix/client/v3/register", "", `{}`); r.Status == http.StatusTooManyRequests {
				acctExpect(t, "rate limited register", r, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
				regLimited = true
				break
			}
		}
		if !regLimited {
			t.Fatal("registration was never rate limited")
		}
	})
}

// TestRateLimitExemptIP: exempt IPs are never limited.
func TestRateLimitExemptIP(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.RateLimits.Enabled = true
		cfg.RateLimits.Login = config.Rate{PerSecond: 0.1, Burst: 1}
		cfg.RateLimits.ExemptIPs = []string{"127.0.0.0/8"}
	}})
	for range 5 {
		acctExpect(t, "exempt login", acctLogin(t, inst.URL, "nobody", "wrong-password", nil), http.StatusForbidden, "M_FORBIDDEN")
	}
}
