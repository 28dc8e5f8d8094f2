package e2e

import (
	"context"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// keysSyncUntil long-polls c from since until cond holds for a response.
func keysSyncUntil(t *testing.T, do func(since string) acctResp, since, what string, cond func(acctResp) bool) acctResp {
	t.Helper()
	var r acctResp
	if !testutil.Within(15*time.Second, func() bool { r = do(since); return cond(r) }) {
		t.Fatalf("%s: never seen; last sync %s", what, r.Raw)
	}
	return r
}

// Leaving the only shared room puts the other user in device_lists.left;
// a logged-out device's keys disappear and its owner shows as changed.
func TestKeysDeviceListsLeftAndDeletedDevice(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		_, _, first := keysSyncCounts(t, alice, "")
		since := first.str("next_batch")
		aliceSync := func(s string) acctResp {
			return keysDo(t, alice, "GET", "/sync?timeout=5000&since="+url.QueryEscape(s), nil)
		}

		// Bob uploads keys on a second device, then logs it out.
		bob2 := inst.Client()
		if _, err := bob2.Login(context.Background(), &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password123",
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "bob"}, StoreCredentials: true}); err != nil {
			t.Fatal(err)
		}
		bd := newKeysDevice(t, bob2)
		keysDo(t, bob2, "POST", "/keys/upload", map[string]any{"device_keys": bd.deviceKeys(t)})
		r := keysSyncUntil(t, aliceSync, since, "bob in changed after upload", func(r acctResp) bool { return keysChanged(r, bob.UserID.String()) })
		since = r.str("next_batch")
		if _, err := bob2.Logout(context.Background()); err != nil {
			t.Fatal(err)
		}
		q := keysDo(t, alice, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{bob.UserID.String(): []string{}}})
		if devs, _ := q.Body["device_keys"].(map[string]any)[bob.UserID.String()].(map[string]any); devs[bob2.DeviceID.String()] != nil {
			t.Fatalf("logged-out device still has keys: %s", q.Raw)
		}
		r = keysSyncUntil(t, aliceSync, since, "bob in changed after logout", func(r acctResp) bool { return keysChanged(r, bob.UserID.String()) })
		since = r.str("next_batch")

		// Bob leaves: Alice sees him in device_lists.left.
		if _, err := bob.LeaveRoom(context.Background(), room); err != nil {
			t.Fatal(err)
		}
		keysSyncUntil(t, aliceSync, since, "bob in left", func(r acctResp) bool {
			dl, _ := r.Body["device_lists"].(map[string]any)
			left, _ := dl["left"].([]any)
			return len(left) == 1 && left[0] == bob.UserID.String()
		})
	})
}

// Deleting a device (DELETE /devices/{id}, with UIA) reaches the
// keyserver through the user_devices stream: bob sees alice in
// device_lists.changed without anyone querying her keys first, and the
// deleted device's keys are gone.
func TestKeysDeletedDeviceAnnounced(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		syncRoom(t, alice, bob)
		user := alice.UserID.String()

		alice2 := inst.Client()
		if _, err := alice2.Login(context.Background(), &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password123",
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, StoreCredentials: true}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*mautrix.Client{alice, alice2} {
			if r := keysDo(t, c, "POST", "/keys/upload", map[string]any{"device_keys": newKeysDevice(t, c).deviceKeys(t)}); r.Status != 200 {
				t.Fatalf("upload: %d %s", r.Status, r.Raw)
			}
		}
		bobSync := func(s string) acctResp {
			return keysDo(t, bob, "GET", "/sync?timeout=5000&since="+url.QueryEscape(s), nil)
		}
		_, _, first := keysSyncCounts(t, bob, "")
		since := first.str("next_batch")

		gone := alice2.DeviceID.String()
		path := "/devices/" + url.PathEscape(gone)
		ch := keysDo(t, alice, "DELETE", path, map[string]any{})
		if ch.Status != 401 || ch.str("session") == "" {
			t.Fatalf("want UIA challenge: %d %s", ch.Status, ch.Raw)
		}
		if r := keysDo(t, alice, "DELETE", path, map[string]any{"auth": acctPasswordAuth(user, "password123", ch.str("session"))}); r.Status != 200 {
			t.Fatalf("delete device: %d %s", r.Status, r.Raw)
		}
		keysSyncUntil(t, bobSync, since, "alice in changed after device deletion", func(r acctResp) bool { return keysChanged(r, user) })

		q := keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{user: []string{}}})
		devs, _ := q.Body["device_keys"].(map[string]any)[user].(map[string]any)
		if devs[gone] != nil || devs[alice.DeviceID.String()] == nil {
			t.Fatalf("want only %s's keys, got %s", alice.DeviceID, q.Raw)
		}
	})
}
