package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// Alice uploads device keys and one-time keys; Bob, who shares a room
// with her, sees her in device_lists.changed, queries her keys, claims
// her one-time keys until only the fallback key is left.
func TestKeysUploadQueryClaim(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		ctx := context.Background()
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		syncRoom(t, alice, bob)
		_, _, first := keysSyncCounts(t, bob, "")
		bobSince := first.str("next_batch")

		ad := newKeysDevice(t, alice)
		up := keysDo(t, alice, "POST", "/keys/upload", map[string]any{
			"device_keys":   ad.deviceKeys(t),
			"one_time_keys": ad.otks(t, "o", 3, false),
			"fallback_keys": ad.otks(t, "f", 1, true),
		})
		if up.Status != 200 {
			t.Fatalf("upload: %d %s", up.Status, up.Raw)
		}
		if n := up.Body["one_time_key_counts"].(map[string]any)["signed_curve25519"]; n != float64(3) {
			t.Fatalf("one_time_key_counts: %v", up.Raw)
		}

		// Bob's long-poll wakes with Alice in device_lists.changed.
		var r acctResp
		if !testutil.Within(20*time.Second, func() bool {
			r = keysDo(t, bob, "GET", "/sync?timeout=5000&since="+url.QueryEscape(bobSince), nil)
			return keysChanged(r, alice.UserID.String())
		}) {
			t.Fatalf("bob's sync lacks alice in device_lists.changed: %s", r.Raw)
		}
		kc := keysDo(t, bob, "GET", "/keys/changes?from="+url.QueryEscape(bobSince)+"&to="+url.QueryEscape(r.str("next_batch")), nil)
		if !strings.Contains(kc.Raw, alice.UserID.String()) {
			t.Fatalf("/keys/changes: %s", kc.Raw)
		}

		// Bob queries Alice's keys with mautrix: the signature verifies.
		q, err := bob.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{alice.UserID: nil}})
		if err != nil {
			t.Fatal(err)
		}
		dk, ok := q.DeviceKeys[alice.UserID][alice.DeviceID]
		if !ok || dk.Keys.GetEd25519(alice.DeviceID).String() != ad.key.pub {
			t.Fatalf("query: %+v", q.DeviceKeys)
		}
		raw := keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{alice.UserID.String(): []string{}}})
		devJSON, _ := json.Marshal(raw.Body["device_keys"].(map[string]any)[alice.UserID.String()].(map[string]any)[alice.DeviceID.String()])
		pub, err := base64.RawStdEncoding.DecodeString(ad.key.pub)
		must(t, err)
		if err := gomatrixserverlib.VerifyJSON(alice.UserID.String(), gomatrixserverlib.KeyID("ed25519:"+alice.DeviceID.String()), ed25519.PublicKey(pub), devJSON); err != nil {
			t.Fatalf("served device keys do not verify: %v", err)
		}

		// Claims: three one-time keys, in upload order, then the fallback.
		claim := func() (id.KeyID, mautrix.OneTimeKey) {
			t.Helper()
			res, err := bob.ClaimKeys(ctx, &mautrix.ReqClaimKeys{OneTimeKeys: mautrix.OneTimeKeysRequest{alice.UserID: {alice.DeviceID: id.KeyAlgorithmSignedCurve25519}}})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range res.OneTimeKeys[alice.UserID][alice.DeviceID] {
				return k, v
			}
			t.Fatalf("claim returned nothing")
			return "", mautrix.OneTimeKey{}
		}
		seen := map[id.KeyID]bool{}
		for i := range 3 {
			k, _ := claim()
			if seen[k] || strings.Contains(string(k), ":f") {
				t.Fatalf("claim %d gave %s", i, k)
			}
			seen[k] = true
			n, _, _ := keysSyncCounts(t, alice, "")
			if n != 2-i {
				t.Fatalf("after %d claims alice's count is %d", i+1, n)
			}
		}
		_, fb, _ := keysSyncCounts(t, alice, "")
		if len(fb) != 1 || fb[0] != "signed_curve25519" {
			t.Fatalf("unused fallback types before: %v", fb)
		}
		for range 2 { // the fallback key is handed out again and again
			k, v := claim()
			if k != "signed_curve25519:fA" || !v.IsSigned {
				t.Fatalf("exhausted claim gave %s %+v", k, v)
			}
		}
		_, fb, _ = keysSyncCounts(t, alice, "")
		if len(fb) != 0 {
			t.Fatalf("unused fallback types after use: %v", fb)
		}

		// Users of other servers: no federation hook here → failures.
		rq := keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{"@x:elsewhere.example": []string{}}})
		if f, _ := rq.Body["failures"].(map[string]any); f["elsewhere.example"] == nil {
			t.Fatalf("remote query failures: %s", rq.Raw)
		}
	})
}

// Bad uploads get Matrix errors, never a 500.
func TestKeysUploadBadInput(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	ad := newKeysDevice(t, alice)
	bd := newKeysDevice(t, bob)
	acctExpect(t, "someone else's device keys", keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": bd.deviceKeys(t)}), 400, "M_INVALID_PARAM")
	var dk map[string]any
	must(t, json.Unmarshal(ad.deviceKeys(t), &dk))
	dk["device_id"] = "OTHER"
	acctExpect(t, "other device ID", keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": dk}), 400, "M_INVALID_PARAM")
	for _, key := range []string{"algorithms", "keys", "signatures"} {
		var partial map[string]any
		must(t, json.Unmarshal(ad.deviceKeys(t), &partial))
		delete(partial, key)
		acctExpect(t, "device_keys without "+key, keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": partial}), 400, "M_BAD_JSON")
	}
	acctExpect(t, "device_keys not an object", keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": "nope"}), 400, "M_BAD_JSON")
	acctExpect(t, "one_time_keys not a map", keysDo(t, alice, "POST", "/keys/upload", map[string]any{"one_time_keys": []int{1}}), 400, "M_BAD_JSON")
	acctExpect(t, "bad key name", keysDo(t, alice, "POST", "/keys/upload", map[string]any{"one_time_keys": map[string]any{"nocolon": map[string]any{}}}), 400, "M_INVALID_PARAM")
	acctExpect(t, "not JSON", keysDo(t, alice, "POST", "/keys/upload", "{"), 400, "M_NOT_JSON")
	acctExpect(t, "query wrong type", keysDo(t, alice, "POST", "/keys/query", map[string]any{"device_keys": []string{"x"}}), 400, "M_BAD_JSON")
	acctExpect(t, "claim wrong type", keysDo(t, alice, "POST", "/keys/claim", map[string]any{"one_time_keys": map[string]any{"@a:b": "x"}}), 400, "M_BAD_JSON")
	acctExpect(t, "changes without tokens", keysDo(t, alice, "GET", "/keys/changes", nil), 400, "M_MISSING_PARAM")
	acctExpect(t, "changes bad token", keysDo(t, alice, "GET", "/keys/changes?from=x&to=y", nil), 400, "M_INVALID_PARAM")
	acctExpect(t, "signatures not objects", keysDo(t, alice, "POST", "/keys/signatures/upload", map[string]any{"@a:b": map[string]any{"K": 1}}), 400, "M_BAD_JSON")
	// Good upload still works after all that.
	if r := keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": ad.deviceKeys(t)}); r.Status != 200 {
		t.Fatalf("good upload: %s", r.Raw)
	}
}

// The sliding sync e2ee extension carries counts and device lists.
func TestKeysSlidingSyncE2EE(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	ad := newKeysDevice(t, alice)
	keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": ad.deviceKeys(t), "one_time_keys": ad.otks(t, "o", 4, false)})
	r := acctDo(t, "POST", alice.HomeserverURL.String()+"/_matrix/client/unstable/org.matrix.simplified_msc3575/sync?timeout=0", alice.AccessToken,
		map[string]any{"extensions": map[string]any{"e2ee": map[string]any{"enabled": true}}})
	if r.Status != 200 {
		t.Fatalf("sliding sync: %s", r.Raw)
	}
	e2ee, _ := r.Body["extensions"].(map[string]any)["e2ee"].(map[string]any)
	counts, _ := e2ee["device_one_time_keys_count"].(map[string]any)
	if counts["signed_curve25519"] != float64(4) {
		t.Fatalf("e2ee extension: %s", r.Raw)
	}
}
