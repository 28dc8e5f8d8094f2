package e2e

import (
	"net/http"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// TestThreepidsNotAccepted: Axon accepts no email or phone number:
// accounts list none, validation requests are denied as the spec says a
// server that does not allow them answers, nothing can be added, and
// removing one succeeds without an identity server.
func TestThreepidsNotAccepted(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	reg := acctRegister(t, inst.URL, map[string]any{"username": "alice", "password": "password123", "auth": map[string]any{"type": "m.login.dummy"}})
	acctExpect(t, "register", reg, http.StatusOK, "")
	tok := reg.str("access_token")
	base := inst.URL + "/_matrix/client/v3"

	list := acctDo(t, "GET", base+"/account/3pid", tok, nil)
	if ids, ok := list.Body["threepids"].([]any); list.Status != 200 || !ok || len(ids) != 0 {
		t.Fatalf("GET /account/3pid: %s", list.Raw)
	}
	acctExpect(t, "3pid list without token", acctDo(t, "GET", base+"/account/3pid", "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
	email := map[string]any{"client_secret": "s3cret", "email": "alice@example.org", "send_attempt": 1}
	for _, path := range []string{"/register/email/requestToken", "/register/msisdn/requestToken", "/account/password/email/requestToken",
		"/account/password/msisdn/requestToken", "/account/3pid/email/requestToken", "/account/3pid/msisdn/requestToken"} {
		acctExpect(t, path, acctDo(t, "POST", base+path, "", email), http.StatusForbidden, "M_THREEPID_DENIED")
		acctExpect(t, path+" without client_secret", acctDo(t, "POST", base+path, "", map[string]any{}), http.StatusBadRequest, "M_MISSING_PARAM")
	}
	acctExpect(t, "requestToken, bad JSON", acctDo(t, "POST", base+"/register/email/requestToken", "", "{"), http.StatusBadRequest, "M_NOT_JSON")
	for _, path := range []string{"/account/3pid/add", "/account/3pid/bind"} {
		acctExpect(t, path, acctDo(t, "POST", base+path, tok, map[string]any{"client_secret": "s3cret", "sid": "1", "id_server": "id.example.org"}),
			http.StatusForbidden, "M_THREEPID_DENIED")
		acctExpect(t, path+" without sid", acctDo(t, "POST", base+path, tok, map[string]any{"client_secret": "s3cret"}), http.StatusBadRequest, "M_MISSING_PARAM")
	}
	for _, path := range []string{"/account/3pid/delete", "/account/3pid/unbind"} {
		r := acctDo(t, "POST", base+path, tok, map[string]any{"medium": "email", "address": "alice@example.org"})
		if r.Status != 200 || r.str("id_server_unbind_result") != "no-support" {
			t.Fatalf("%s: %s", path, r.Raw)
		}
		acctExpect(t, path+" without address", acctDo(t, "POST", base+path, tok, map[string]any{"medium": "email"}), http.StatusBadRequest, "M_MISSING_PARAM")
	}
}
