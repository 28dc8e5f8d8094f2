package e2e

import (
	"encoding/json"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// crossSigningKey builds a cross-signing key of usage for user, signed by
// signer (when given) as user's key signerPub.
func crossSigningKey(t *testing.T, user, usage string, k, signer *keysSigner) json.RawMessage {
	obj := map[string]any{"user_id": user, "usage": []string{usage}, "keys": map[string]string{"ed25519:" + k.pub: k.pub}}
	if signer == nil {
		data, err := json.Marshal(obj)
		must(t, err)
		return data
	}
	return signer.sign(t, user, signer.pub, obj)
}

// Cross-signing: first upload without UIA, replacing the master key needs
// the password, bad signatures are refused, and signatures uploaded on
// devices and master keys are served by /keys/query.
func TestKeysCrossSigning(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		user := alice.UserID.String()
		ad := newKeysDevice(t, alice)
		keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": ad.deviceKeys(t)})

		master, ssk, usk := newKeysSigner(t), newKeysSigner(t), newKeysSigner(t)
		body := map[string]any{
			"master_key":       crossSigningKey(t, user, "master", master, nil),
			"self_signing_key": crossSigningKey(t, user, "self_signing", ssk, master),
			"user_signing_key": crossSigningKey(t, user, "user_signing", usk, master),
		}
		if r := keysDo(t, alice, "POST", "/keys/device_signing/upload", body); r.Status != 200 {
			t.Fatalf("first upload (no UIA): %d %s", r.Status, r.Raw)
		}
		if r := keysDo(t, alice, "POST", "/keys/device_signing/upload", body); r.Status != 200 {
			t.Fatalf("same keys again (no UIA): %d %s", r.Status, r.Raw)
		}

		// A self-signing key not signed by the master key.
		rogue := newKeysSigner(t)
		acctExpect(t, "bad signature", keysDo(t, alice, "POST", "/keys/device_signing/upload", map[string]any{
			"self_signing_key": crossSigningKey(t, user, "self_signing", newKeysSigner(t), rogue),
		}), 401, "")

		// Replacing the master key: UIA challenge, wrong then right password.
		master2 := newKeysSigner(t)
		replace := map[string]any{"master_key": crossSigningKey(t, user, "master", master2, nil)}
		ch := keysDo(t, alice, "POST", "/keys/device_signing/upload", replace)
		if ch.Status != 401 || ch.str("session") == "" {
			t.Fatalf("want UIA challenge: %d %s", ch.Status, ch.Raw)
		}
		replace["auth"] = acctPasswordAuth(user, "wrong-password", ch.str("session"))
		acctExpect(t, "wrong password", keysDo(t, alice, "POST", "/keys/device_signing/upload", replace), 401, "M_FORBIDDEN")
		replace["auth"] = acctPasswordAuth(user, "password123", ch.str("session"))
		if r := keysDo(t, alice, "POST", "/keys/device_signing/upload", replace); r.Status != 200 {
			t.Fatalf("upload with password: %d %s", r.Status, r.Raw)
		}
		// The old self-signing key is no longer signed by the master key.
		ch = keysDo(t, alice, "POST", "/keys/device_signing/upload", map[string]any{
			"self_signing_key": crossSigningKey(t, user, "self_signing", ssk, master)})
		body2 := map[string]any{"self_signing_key": crossSigningKey(t, user, "self_signing", ssk, master),
			"auth": acctPasswordAuth(user, "password123", ch.str("session"))}
		acctExpect(t, "self-signing key signed by the old master", keysDo(t, alice, "POST", "/keys/device_signing/upload", body2), 400, "M_INVALID_SIGNATURE")
		ch = keysDo(t, alice, "POST", "/keys/device_signing/upload", map[string]any{})
		body3 := map[string]any{
			"self_signing_key": crossSigningKey(t, user, "self_signing", ssk, master2),
			"user_signing_key": crossSigningKey(t, user, "user_signing", usk, master2),
			"auth":             acctPasswordAuth(user, "password123", ch.str("session")),
		}
		if r := keysDo(t, alice, "POST", "/keys/device_signing/upload", body3); r.Status != 200 {
			t.Fatalf("new self/user-signing keys: %d %s", r.Status, r.Raw)
		}

		// Alice's self-signing key signs her device; her device signs her master key.
		var dev map[string]any
		must(t, json.Unmarshal(ad.deviceKeys(t), &dev))
		q := keysDo(t, alice, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{user: []string{}}})
		stored := q.Body["device_keys"].(map[string]any)[user].(map[string]any)[alice.DeviceID.String()].(map[string]any)
		delete(stored, "unsigned")
		signedDev := ssk.sign(t, user, ssk.pub, stored)
		var mk map[string]any
		must(t, json.Unmarshal(crossSigningKey(t, user, "master", master2, nil), &mk))
		signedMaster := ad.key.sign(t, user, alice.DeviceID.String(), mk)
		sr := keysDo(t, alice, "POST", "/keys/signatures/upload", map[string]any{user: map[string]any{
			alice.DeviceID.String(): signedDev, master2.pub: signedMaster, "NOSUCHKEY": map[string]any{"x": 1},
		}})
		if sr.Status != 200 {
			t.Fatalf("signatures upload: %s", sr.Raw)
		}
		fails, _ := sr.Body["failures"].(map[string]any)[user].(map[string]any)
		if len(fails) != 1 || fails["NOSUCHKEY"] == nil {
			t.Fatalf("signature failures: %s", sr.Raw)
		}

		// Bob sees the signatures, the master and self-signing keys, but
		// not Alice's user-signing key.
		bq := keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{user: []string{}}})
		devSigs := bq.Body["device_keys"].(map[string]any)[user].(map[string]any)[alice.DeviceID.String()].(map[string]any)["signatures"].(map[string]any)[user].(map[string]any)
		if devSigs["ed25519:"+ssk.pub] == nil {
			t.Fatalf("device lacks the self-signing signature: %s", bq.Raw)
		}
		mSigs := bq.Body["master_keys"].(map[string]any)[user].(map[string]any)["signatures"].(map[string]any)[user].(map[string]any)
		if mSigs["ed25519:"+alice.DeviceID.String()] == nil {
			t.Fatalf("master key lacks the device signature: %s", bq.Raw)
		}
		if bq.Body["self_signing_keys"].(map[string]any)[user] == nil {
			t.Fatalf("no self-signing key: %s", bq.Raw)
		}
		if usks, _ := bq.Body["user_signing_keys"].(map[string]any); usks[user] != nil {
			t.Fatalf("bob sees alice's user-signing key: %s", bq.Raw)
		}
		aq := keysDo(t, alice, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{user: []string{}}})
		if usks, _ := aq.Body["user_signing_keys"].(map[string]any); usks[user] == nil {
			t.Fatalf("alice does not see her user-signing key: %s", aq.Raw)
		}
	})
}
