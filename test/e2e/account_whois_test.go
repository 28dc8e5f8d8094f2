package e2e

import (
	"net/url"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestClientWhois: GET /_matrix/client/v3/admin/whois/{userId} shows a
// user's devices and last connection to the user and to server admins,
// and is refused to anyone else.
func TestClientWhois(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "admin")
		alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
		path := "/_matrix/client/v3/admin/whois/" + url.PathEscape(string(alice.UserID))
		for who, c := range map[string]*mautrix.Client{"alice": alice, "admin": admin} {
			r := roomsDo(t, c, "GET", path, nil)
			devs, _ := r.Body["devices"].(map[string]any)
			dev, _ := devs[string(alice.DeviceID)].(map[string]any)
			sessions, _ := dev["sessions"].([]any)
			if r.Status != 200 || r.Body["user_id"] != string(alice.UserID) || len(devs) != 1 || len(sessions) != 1 {
				t.Fatalf("whois as %s: %d %v", who, r.Status, r.Body)
			}
		}
		if r := roomsDo(t, bob, "GET", path, nil); r.Status != 403 || r.errcode() != "M_FORBIDDEN" {
			t.Fatalf("whois of another user: %d %v", r.Status, r.Body)
		}
	})
}
