package e2e

import (
	"context"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestKeyserverReplicas runs the keyserver as two processes (ks-1, ks-2;
// docs/scaling.md) beside a core on PostgreSQL and an external NATS.
// Key uploads and queries are served by either process; device
// deletions reach the keyserver through the user_devices stream, which
// only the writer consumes. Alice deletes devices while the writer dies,
// its lease frozen as after a crash: the survivor takes over, every
// deleted device's keys are gone, the others' kept, and each deletion
// moved alice's device list stream once (none lost, none applied twice);
// bob sees her in device_lists.changed.
func TestKeyserverReplicas(t *testing.T) {
	wc := startWriterCluster(t, writerClusterOpts{
		name: "ksrep", component: "keyserver",
		core:   []string{"clientapi", "userapi", "roomserver", "syncapi"},
		held:   func(i *testserver.Instance) bool { return i.Server.Keys.Writer() },
		leases: func(i *testserver.Instance) *lease.Manager { return i.Server.Keys.Leases() },
	})
	wc.writer()
	ctx := context.Background()
	alice := wc.core.Register("alice", "password123")
	bob := wc.core.Register("bob", "password123")
	syncRoom(t, alice, bob)
	user := alice.UserID.String()
	devices := []*mautrix.Client{alice}
	for i := 0; i < 6; i++ {
		c := wc.core.Client()
		_, err := c.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password123",
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, StoreCredentials: true})
		must(t, err)
		devices = append(devices, c)
	}
	for _, c := range devices {
		if r := keysDo(t, c, "POST", "/keys/upload", map[string]any{"device_keys": newKeysDevice(t, c).deviceKeys(t)}); r.Status != 200 {
			t.Fatalf("upload: %d %s", r.Status, r.Raw)
		}
	}
	query := func() map[string]any {
		q := keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{user: []string{}}})
		if q.Status != 200 {
			t.Fatalf("query: %d %s", q.Status, q.Raw)
		}
		devs, _ := q.Body["device_keys"].(map[string]any)[user].(map[string]any)
		return devs
	}
	if n := len(query()); n != len(devices) {
		t.Fatalf("alice has keys for %d devices, want %d", n, len(devices))
	}
	ksDB := openComponentDB(t, wc.core, "keyserver")
	streamID := func() int64 {
		var id int64
		must(t, ksDB.QueryRowContext(ctx, `SELECT stream_id FROM keyserver_device_list_streams WHERE user_id = $1`, user).Scan(&id))
		return id
	}
	before := streamID()
	_, _, first := keysSyncCounts(t, bob, "")
	since := first.str("next_batch")

	del := func(c *mautrix.Client) {
		path := "/devices/" + url.PathEscape(c.DeviceID.String())
		ch := keysDo(t, alice, "DELETE", path, map[string]any{})
		if ch.Status != 401 || ch.str("session") == "" {
			t.Fatalf("want UIA challenge: %d %s", ch.Status, ch.Raw)
		}
		if r := keysDo(t, alice, "DELETE", path, map[string]any{"auth": acctPasswordAuth(user, "password123", ch.str("session"))}); r.Status != 200 {
			t.Fatalf("delete device: %d %s", r.Status, r.Raw)
		}
	}
	del(devices[1])
	del(devices[2])
	survivor, killed := wc.killWriter()
	del(devices[3])
	del(devices[4])
	wc.awaitTakeover(survivor, killed)
	del(devices[5])
	del(devices[6])

	bobSync := func(s string) acctResp {
		return keysDo(t, bob, "GET", "/sync?timeout=5000&since="+url.QueryEscape(s), nil)
	}
	keysSyncUntil(t, bobSync, since, "alice in changed after the deletions", func(r acctResp) bool { return keysChanged(r, user) })
	testutil.Eventually(t, 30*time.Second, "every deleted device's keys gone", func() bool { return len(query()) == 1 })
	if devs := query(); devs[alice.DeviceID.String()] == nil {
		t.Fatalf("alice's remaining device lost its keys: %v", devs)
	}
	if got := streamID(); got != before+6 {
		t.Fatalf("alice's device list stream moved %d times for 6 deletions", got-before)
	}
}
