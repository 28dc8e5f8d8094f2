package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// versionEndpoints names, for every Client-Server API version Axon may
// list in /versions, endpoints that version requires: for r0 the core
// API, for each v1.x what it added (the spec's x-addedInMatrixVersion
// and changelog; a version that added none has an empty list). Optional
// modules Axon does not implement (SSO login, peeking with GET /events),
// and OpenID (optional, off without federation as in
// this test server), are not listed. {room}, {user} and {server} are
// replaced.
var versionEndpoints = map[string][]string{
	"r0": {
		"GET /_matrix/client/v3/sync", "GET /_matrix/client/v3/login", "POST /_matrix/client/v3/register",
		"GET /_matrix/client/v3/account/whoami", "POST /_matrix/client/v3/account/password", "GET /_matrix/client/v3/account/3pid",
		"POST /_matrix/client/v3/account/3pid/add", "POST /_matrix/client/v3/account/3pid/delete", "POST /_matrix/client/v3/register/email/requestToken",
		"POST /_matrix/client/v3/account/password/email/requestToken", "POST /_matrix/client/v3/createRoom",
		"GET /_matrix/client/v3/rooms/{room}/messages", "GET /_matrix/client/v3/rooms/{room}/initialSync",
		"GET /_matrix/client/v3/rooms/{room}/event/$e", "GET /_matrix/client/v3/rooms/{room}/context/$e",
		"GET /_matrix/client/v3/rooms/{room}/state", "GET /_matrix/client/v3/rooms/{room}/members",
		"POST /_matrix/client/v3/rooms/{room}/invite", "POST /_matrix/client/v3/rooms/{room}/forget",
		"GET /_matrix/client/v3/publicRooms", "POST /_matrix/client/v3/user_directory/search",
		"GET /_matrix/client/v3/pushrules/", "GET /_matrix/client/v3/pushers", "GET /_matrix/client/v3/notifications",
		"GET /_matrix/client/v3/devices", "POST /_matrix/client/v3/keys/upload", "POST /_matrix/client/v3/keys/query",
		"GET /_matrix/client/v3/presence/{user}/status", "PUT /_matrix/client/v3/sendToDevice/m.test/t1",
		"POST /_matrix/client/v3/search", "GET /_matrix/client/v3/admin/whois/{user}", "GET /_matrix/client/v3/voip/turnServer", "GET /_matrix/client/v3/thirdparty/protocols",
		"GET /_matrix/media/v3/config",
	},
	"v1.1": {
		"POST /_matrix/client/v3/keys/device_signing/upload", "POST /_matrix/client/v3/keys/signatures/upload",
		"POST /_matrix/client/v3/knock/{room}", "GET /_matrix/client/v3/room_keys/version",
	},
	"v1.2": {"GET /_matrix/client/v1/rooms/{room}/hierarchy", "GET /_matrix/client/v1/register/m.login.registration_token/validity"},
	"v1.3": {"POST /_matrix/client/v3/refresh", "GET /_matrix/client/v1/rooms/{room}/relations/$e"},
	"v1.4": {"GET /_matrix/client/v1/rooms/{room}/threads"},
	"v1.5": {},
	"v1.6": {"GET /_matrix/client/v1/rooms/{room}/timestamp_to_event"},
	"v1.7": {
		"POST /_matrix/client/v1/login/get_token", "POST /_matrix/client/v1/appservice/x/ping",
		"POST /_matrix/media/v1/create", "PUT /_matrix/media/v3/upload/{server}/x",
	},
	"v1.8":  {},
	"v1.9":  {},
	"v1.10": {"GET /.well-known/matrix/support"},
	"v1.11": {
		"GET /_matrix/client/v1/media/config", "GET /_matrix/client/v1/media/download/{server}/x",
		"GET /_matrix/client/v1/media/thumbnail/{server}/x", "GET /_matrix/client/v1/media/preview_url",
	},
	"v1.12": {},
}

// versionOrder is the order versions were published in.
var versionOrder = []string{"r0", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12"}

// TestVersionsEndpointsRouted: every version /versions lists is one this
// table knows, and every endpoint that version (or an earlier one)
// requires is routed: none answers 404/405 M_UNRECOGNIZED.
func TestVersionsEndpointsRouted(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	r := roomsDo(t, alice, "GET", "/_matrix/client/versions", nil)
	listed, _ := r.Body["versions"].([]any)
	newest := -1
	for _, v := range listed {
		s := v.(string)
		if strings.HasPrefix(s, "r0.") {
			s = "r0"
		}
		i := slices.Index(versionOrder, s)
		if i < 0 {
			t.Fatalf("/versions lists %q, which this test has no endpoints for: add them to versionEndpoints", v)
		}
		newest = max(newest, i)
	}
	if newest < 0 {
		t.Fatalf("/versions lists nothing: %v", r.Body)
	}
	room := url.PathEscape("!x:" + inst.Cfg.ServerName)
	user := url.PathEscape(string(alice.UserID))
	for _, v := range versionOrder[:newest+1] {
		for _, ep := range versionEndpoints[v] {
			method, path, _ := strings.Cut(ep, " ")
			path = strings.NewReplacer("{room}", room, "{user}", user, "{server}", inst.Cfg.ServerName, "$e", url.PathEscape("$e")).Replace(path)
			var body any
			if method == "POST" || method == "PUT" {
				body = map[string]any{}
			}
			got := roomsDo(t, alice, method, path, body)
			if (got.Status == 404 || got.Status == 405) && got.errcode() == "M_UNRECOGNIZED" {
				t.Errorf("%s is listed in /versions but %s is not routed (%d %v)", v, ep, got.Status, got.Body)
			}
		}
	}
}
