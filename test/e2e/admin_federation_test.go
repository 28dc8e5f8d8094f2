package e2e

import (
	"net/url"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminFederationDestinations: a destination that is down shows in
// the destinations list with its failures; reset_connection clears it and,
// with the server back, the queued event arrives.
func TestAdminFederationDestinations(t *testing.T) {
	opts := testserver.Options{}
	a, b, alice, bob, room := fedJoinedPair(t, opts)
	admin := adminUser(t, a, "root")
	if r := adminDo(t, bob, "GET", "/v1/federation/destinations", nil); r.Status != 401 && r.Status != 403 {
		t.Fatalf("remote user's token on A: %d", r.Status)
	}
	if r := adminDo(t, alice, "GET", "/v1/federation/destinations", nil); r.Status != 403 {
		t.Fatalf("non-admin: %d", r.Status)
	}
	bServer := b.Cfg.ServerName
	b.Stop()
	syncSend(t, alice, room, "while B is down")

	testutil.Eventually(t, 30*time.Second, "B listed as failing", func() bool {
		r := adminDo(t, admin, "GET", "/v1/federation/destinations", nil)
		for _, d := range adminList(r, "destinations") {
			m := d.(map[string]any)
			if m["destination"] == bServer && m["failures"].(float64) >= 1 && m["failure_ts"] != nil {
				return true
			}
		}
		return false
	})
	one := adminDo(t, admin, "GET", "/v1/federation/destinations/"+url.PathEscape(bServer), nil)
	if one.Status != 200 || one.Body["destination"] != bServer || one.Body["failures"].(float64) < 1 {
		t.Fatalf("one destination: %d %v", one.Status, one.Body)
	}

	b = b.Restart()
	if r := adminDo(t, admin, "POST", "/v1/federation/destinations/"+url.PathEscape(bServer)+"/reset_connection", map[string]any{}); r.Status != 200 {
		t.Fatalf("reset: %d %v", r.Status, r.Body)
	}
	testutil.Eventually(t, 30*time.Second, "B healthy again", func() bool {
		r := adminDo(t, admin, "GET", "/v1/federation/destinations", nil)
		return r.Body["total"] == float64(0)
	})
	bob2 := b.Client()
	bob2.UserID, bob2.AccessToken, bob2.DeviceID = bob.UserID, bob.AccessToken, bob.DeviceID
	s := newFedSyncer(t, bob2)
	s.until(30*time.Second, "the queued message on B", func() bool { return s.hasBody(room, "while B is down") })
	if r := adminDo(t, admin, "POST", "/v1/federation/destinations/"+url.PathEscape(a.Cfg.ServerName)+"/reset_connection", map[string]any{}); r.Status != 400 {
		t.Fatalf("reset of ourselves: %d", r.Status)
	}
}
