package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// End-to-end encryption across servers: bob on B reads alice's keys on A
// through federation (/user/keys/query), claims her one-time keys
// (/user/keys/claim), fetches her device list (/user/devices), and sees
// her new device and cross-signing keys in device_lists.changed on B
// after A's m.device_list_update and m.signing_key_update EDUs. Runs on
// SQLite and PostgreSQL.
func TestFederationKeys(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) { federationKeys(t, opts) })
}

func federationKeys(t *testing.T, opts testserver.Options) {
	ctx := context.Background()
	a, b := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	aliceID := alice.UserID.String()
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins over federation: %v", err)
	}
	as := newFedSyncer(t, alice)
	as.until(20*time.Second, "bob's join on A", func() bool { return as.membershipOf(room, bob.UserID) == "join" })

	ad := newKeysDevice(t, alice)
	devKeys := ad.deviceKeys(t)
	up := keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": devKeys, "one_time_keys": ad.otks(t, "k", 2, false)})
	if up.Status != 200 {
		t.Fatalf("upload: %d %s", up.Status, up.Raw)
	}

	// Query over federation: alice's signed keys, byte for byte.
	q := keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{aliceID: []string{}}})
	if q.Status != 200 || len(q.Body["failures"].(map[string]any)) != 0 {
		t.Fatalf("query: %d %s", q.Status, q.Raw)
	}
	got, _ := json.Marshal(q.Body["device_keys"].(map[string]any)[aliceID].(map[string]any)[alice.DeviceID.String()])
	if !sameJSONKeys(t, got, devKeys) {
		t.Fatalf("alice's keys via federation: %s, want %s", got, devKeys)
	}

	// Claim over federation: each claim hands out a different key.
	claimed := map[string]bool{}
	for range 2 {
		c := keysDo(t, bob, "POST", "/keys/claim", map[string]any{"one_time_keys": map[string]any{aliceID: map[string]string{alice.DeviceID.String(): "signed_curve25519"}}})
		keys, _ := c.Body["one_time_keys"].(map[string]any)[aliceID].(map[string]any)[alice.DeviceID.String()].(map[string]any)
		if c.Status != 200 || len(keys) != 1 {
			t.Fatalf("claim: %d %s", c.Status, c.Raw)
		}
		for k := range keys {
			claimed[k] = true
		}
	}
	if len(claimed) != 2 {
		t.Fatalf("claims returned the same key: %v", claimed)
	}

	// B's federation client reads alice's device list from A.
	devs, err := b.Server.Fed.Client.GetUserDevices(ctx, spec.ServerName(b.Cfg.ServerName), spec.ServerName(a.Cfg.ServerName), aliceID)
	if err != nil || len(devs.Devices) != 1 || devs.Devices[0].DeviceID != alice.DeviceID.String() || devs.StreamID == 0 {
		t.Fatalf("user devices: %+v %v", devs, err)
	}

	// A new device of alice's reaches bob's /sync on B as a change.
	_, _, first := keysSyncCounts(t, bob, "")
	bobSync := func(s string) acctResp {
		return keysDo(t, bob, "GET", "/sync?timeout=5000&since="+url.QueryEscape(s), nil)
	}
	alice2 := a.Client()
	if _, err := alice2.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password123",
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, StoreCredentials: true}); err != nil {
		t.Fatal(err)
	}
	keysDo(t, alice2, "POST", "/keys/upload", map[string]any{"device_keys": newKeysDevice(t, alice2).deviceKeys(t)})
	r := keysSyncUntil(t, bobSync, first.str("next_batch"), "alice in changed on B", func(r acctResp) bool { return keysChanged(r, aliceID) })
	q = keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{aliceID: []string{}}})
	if n := len(q.Body["device_keys"].(map[string]any)[aliceID].(map[string]any)); n != 2 {
		t.Fatalf("alice's devices after the change: %s", q.Raw)
	}

	// Cross-signing keys: m.signing_key_update marks alice changed on B;
	// bob reads her master and self-signing keys but never her
	// user-signing key.
	master, ssk, usk := newKeysSigner(t), newKeysSigner(t), newKeysSigner(t)
	if cs := keysDo(t, alice, "POST", "/keys/device_signing/upload", map[string]any{
		"master_key":       crossSigningKey(t, aliceID, "master", master, nil),
		"self_signing_key": crossSigningKey(t, aliceID, "self_signing", ssk, master),
		"user_signing_key": crossSigningKey(t, aliceID, "user_signing", usk, master),
	}); cs.Status != 200 {
		t.Fatalf("cross-signing upload: %d %s", cs.Status, cs.Raw)
	}
	r = keysSyncUntil(t, bobSync, r.str("next_batch"), "alice changed on B after cross-signing", func(r acctResp) bool { return keysChanged(r, aliceID) })
	q = keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{aliceID: []string{}}})
	mk, _ := q.Body["master_keys"].(map[string]any)
	sk, _ := q.Body["self_signing_keys"].(map[string]any)
	uk, _ := q.Body["user_signing_keys"].(map[string]any)
	if mk[aliceID] == nil || sk[aliceID] == nil || uk[aliceID] != nil {
		t.Fatalf("alice's cross-signing keys via federation: %s", q.Raw)
	}

	// Renaming a device with keys is a device list change: B marks alice
	// changed and shows the new name with her keys.
	if rn := keysDo(t, alice, "PUT", "/devices/"+alice.DeviceID.String(), map[string]any{"display_name": "My new name"}); rn.Status != 200 {
		t.Fatalf("rename: %d %s", rn.Status, rn.Raw)
	}
	keysSyncUntil(t, bobSync, r.str("next_batch"), "alice changed on B after the rename", func(r acctResp) bool { return keysChanged(r, aliceID) })
	q = keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{aliceID: []string{}}})
	dev, _ := q.Body["device_keys"].(map[string]any)[aliceID].(map[string]any)[alice.DeviceID.String()].(map[string]any)
	if unsigned, _ := dev["unsigned"].(map[string]any); unsigned["device_display_name"] != "My new name" {
		t.Fatalf("alice's device name via federation after the rename: %s", q.Raw)
	}
}

// sameJSONKeys compares two key objects by value, ignoring "unsigned"
// (servers may add to it; signatures do not cover it).
func sameJSONKeys(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y map[string]any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	delete(x, "unsigned")
	delete(y, "unsigned")
	xa, err := json.Marshal(x)
	must(t, err)
	ya, err := json.Marshal(y)
	must(t, err)
	return string(xa) == string(ya)
}
