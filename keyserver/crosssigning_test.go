package keyserver

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/matrix-org/gomatrixserverlib"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// must fails the test on a set-up error.
var must = testutil.Must

// testKey is an ed25519 key pair as cross-signing and device keys use.
type testKey struct {
	pub  string // unpadded base64, also the key's ID after "ed25519:"
	priv ed25519.PrivateKey
}

func newTestKey(t *testing.T) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	must(t, err)
	return testKey{pub: base64.RawStdEncoding.EncodeToString(pub), priv: priv}
}

func (k testKey) id() string { return "ed25519:" + k.pub }

// sign returns obj as JSON signed by user's key k (key ID keyID, or k's own
// ID when empty).
func (k testKey) sign(t *testing.T, user, keyID string, obj any) json.RawMessage {
	t.Helper()
	raw, ok := obj.(json.RawMessage)
	if !ok {
		var err error
		raw, err = json.Marshal(obj)
		must(t, err)
	}
	if keyID == "" {
		keyID = k.id()
	}
	signed, err := gomatrixserverlib.SignJSON(user, gomatrixserverlib.KeyID(keyID), k.priv, raw)
	must(t, err)
	return signed
}

// csKey is a cross-signing key object for user with one usage.
func csKey(user, usage string, k testKey) map[string]any {
	return map[string]any{"user_id": user, "usage": []string{usage}, "keys": map[string]string{k.id(): k.pub}}
}

func rawJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

// devicesOf answers QueryDevices with a fixed list.
type devicesOf struct {
	noDevices
	devices []uapi.DeviceInfo
}

func (d devicesOf) QueryDevices(context.Context, matrixid.UserID) ([]uapi.DeviceInfo, error) {
	return d.devices, nil
}

func forEachKeyserver(t *testing.T, fn func(t *testing.T, k *Keyserver, log *flakyLog)) {
	storagetest.ForEachBackend(t, "keyserver", storage.Migrations, func(t *testing.T, db *istorage.DB) {
		log := &flakyLog{}
		k := testKeyserver(t, db, log)
		t.Cleanup(k.Close)
		k.users = devicesOf{}
		fn(t, k, log)
	})
}

// The shape and signature rules of cross-signing keys: the master key is
// the user's own, with usage "master" and exactly one key whose ID is its
// public key; self- and user-signing keys must be signed by the master key
// (given in the same upload or stored before).
func TestUploadCrossSigningKeys(t *testing.T) {
	forEachKeyserver(t, func(t *testing.T, k *Keyserver, log *flakyLog) {
		ctx := context.Background()
		const alice = "@alice:test"
		master, ssk, usk, other := newTestKey(t), newTestKey(t), newTestKey(t), newTestKey(t)
		masterJSON := rawJSON(t, csKey(alice, "master", master))
		signedSSK := master.sign(t, alice, "", csKey(alice, "self_signing", ssk))
		signedUSK := master.sign(t, alice, "", csKey(alice, "user_signing", usk))

		twoKeys := csKey(alice, "master", master)
		twoKeys["keys"] = map[string]string{master.id(): master.pub, other.id(): other.pub}
		wrongID := csKey(alice, "master", master)
		wrongID["keys"] = map[string]string{other.id(): master.pub}
		bad := []struct {
			name string
			in   api.CrossSigningKeys
			want error
		}{
			{"self-signing key and no master key", api.CrossSigningKeys{SelfSigning: signedSSK}, api.ErrMissingMasterKey},
			{"master key of another user", api.CrossSigningKeys{Master: rawJSON(t, csKey("@bob:test", "master", master))}, api.ErrInvalidKeys},
			{"master key with the wrong usage", api.CrossSigningKeys{Master: rawJSON(t, csKey(alice, "self_signing", master))}, api.ErrInvalidKeys},
			{"master key with two keys", api.CrossSigningKeys{Master: rawJSON(t, twoKeys)}, api.ErrInvalidKeys},
			{"key ID not its public key", api.CrossSigningKeys{Master: rawJSON(t, wrongID)}, api.ErrInvalidKeys},
			{"self-signing key not signed by the master key", api.CrossSigningKeys{Master: masterJSON,
				SelfSigning: other.sign(t, alice, "", csKey(alice, "self_signing", ssk))}, api.ErrInvalidSignature},
			{"self-signing key signed under another key ID", api.CrossSigningKeys{Master: masterJSON,
				SelfSigning: master.sign(t, alice, other.id(), csKey(alice, "self_signing", ssk))}, api.ErrInvalidSignature},
			{"not JSON", api.CrossSigningKeys{Master: json.RawMessage(`"x"`)}, api.ErrInvalidKeys},
		}
		for _, c := range bad {
			if err := k.UploadCrossSigningKeys(ctx, alice, &c.in); !errors.Is(err, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			}
		}
		if stored, err := k.CrossSigningKeys(ctx, alice); err != nil || stored.Master != nil || stored.SelfSigning != nil {
			t.Fatalf("a refused upload stored keys: %+v %v", stored, err)
		}
		if n := len(log.updates()); n != 0 {
			t.Fatalf("refused uploads announced %d updates", n)
		}

		// A key whose ID is one of the user's device IDs would be ambiguous.
		k.users = devicesOf{devices: []uapi.DeviceInfo{{UserID: alice, DeviceID: master.pub}}}
		if err := k.UploadCrossSigningKeys(ctx, alice, &api.CrossSigningKeys{Master: masterJSON}); !errors.Is(err, api.ErrKeyInUse) {
			t.Fatalf("master key named like a device: %v, want ErrKeyInUse", err)
		}
		k.users = devicesOf{}

		must(t, k.UploadCrossSigningKeys(ctx, alice, &api.CrossSigningKeys{Master: masterJSON, SelfSigning: signedSSK}))
		// The stored master key signs a later upload.
		must(t, k.UploadCrossSigningKeys(ctx, alice, &api.CrossSigningKeys{UserSigning: signedUSK}))
		stored, err := k.CrossSigningKeys(ctx, alice)
		must(t, err)
		if !sameKey(stored.Master, masterJSON) || !sameKey(stored.SelfSigning, signedSSK) || !sameKey(stored.UserSigning, signedUSK) {
			t.Fatalf("stored keys: %+v", stored)
		}
		// Each accepted upload is announced; the user-signing key is private
		// to its owner, so it is not in the update.
		ups := log.updates()
		if len(ups) != 2 || ups[0].UserID != alice || len(ups[0].MasterKey) == 0 || len(ups[0].SelfSigningKey) == 0 ||
			ups[1].StreamID <= ups[0].StreamID || len(ups[1].MasterKey) != 0 {
			t.Fatalf("device list updates: %+v", ups)
		}
	})
}

// Signature uploads: the user's self-signing key on their own device, the
// user's device on their own master key, and their user-signing key on
// another user's master key are stored; anything else is a per-key failure.
func TestUploadSignatures(t *testing.T) {
	forEachKeyserver(t, func(t *testing.T, k *Keyserver, log *flakyLog) {
		ctx := context.Background()
		const alice, bob = "@alice:test", "@bob:test"
		master, ssk, usk, device := newTestKey(t), newTestKey(t), newTestKey(t), newTestKey(t)
		bobMaster := newTestKey(t)
		must(t, k.UploadCrossSigningKeys(ctx, alice, &api.CrossSigningKeys{
			Master:      rawJSON(t, csKey(alice, "master", master)),
			SelfSigning: master.sign(t, alice, "", csKey(alice, "self_signing", ssk)),
			UserSigning: master.sign(t, alice, "", csKey(alice, "user_signing", usk)),
		}))
		bobMasterJSON := rawJSON(t, csKey(bob, "master", bobMaster))
		must(t, k.UploadCrossSigningKeys(ctx, bob, &api.CrossSigningKeys{Master: bobMasterJSON}))
		deviceKeys := rawJSON(t, map[string]any{"user_id": alice, "device_id": "DEV", "algorithms": []string{"m.olm.v1.curve25519-aes-sha2"},
			"keys": map[string]string{"ed25519:DEV": device.pub, "curve25519:DEV": "curve"}})
		if _, err := k.UploadKeys(ctx, &api.UploadKeysRequest{UserID: alice, DeviceID: "DEV", DeviceKeys: device.sign(t, alice, "ed25519:DEV", deviceKeys)}); err != nil {
			t.Fatal(err)
		}

		tampered := map[string]any{}
		must(t, json.Unmarshal(deviceKeys, &tampered))
		tampered["keys"] = map[string]string{"ed25519:DEV": device.pub, "curve25519:DEV": "other"}
		failures, err := k.UploadSignatures(ctx, alice, map[string]map[string]json.RawMessage{
			alice: {
				"DEV":      ssk.sign(t, alice, "", deviceKeys),                                   // good: self-signing key on own device
				master.pub: device.sign(t, alice, "ed25519:DEV", csKey(alice, "master", master)), // good: own device on own master
				"NODEV":    ssk.sign(t, alice, "", deviceKeys),                                   // no such key
			},
			bob: {bobMaster.pub: usk.sign(t, alice, "", bobMasterJSON)}, // good: user-signing key on bob's master
		})
		must(t, err)
		if len(failures) != 1 || failures[alice]["NODEV"] == nil || failures[alice]["NODEV"].ErrCode != "M_NOT_FOUND" {
			t.Fatalf("failures %+v, want only NODEV not found", failures)
		}
		signedBy := func(target, targetKey, originKey string) bool {
			t.Helper()
			sigs, err := k.db.Signatures(ctx, target)
			must(t, err)
			for _, s := range sigs {
				if s.OriginUserID == alice && s.TargetKeyID == targetKey && s.OriginKeyID == originKey && s.Signature != "" {
					return true
				}
			}
			return false
		}
		if !signedBy(alice, "DEV", ssk.id()) || !signedBy(alice, master.pub, "ed25519:DEV") || !signedBy(bob, bobMaster.pub, usk.id()) {
			t.Fatal("an accepted signature was not stored")
		}

		failures, err = k.UploadSignatures(ctx, alice, map[string]map[string]json.RawMessage{
			alice: {"DEV": usk.sign(t, alice, "", deviceKeys)}, // the user-signing key may not sign devices
			bob:   {bobMaster.pub: ssk.sign(t, alice, "", bobMasterJSON)},
		})
		must(t, err)
		for _, f := range []*api.KeyError{failures[alice]["DEV"], failures[bob][bobMaster.pub]} {
			if f == nil || f.ErrCode != "M_INVALID_SIGNATURE" {
				t.Fatalf("signature by a key that may not sign: %+v", failures)
			}
		}
		failures, err = k.UploadSignatures(ctx, alice, map[string]map[string]json.RawMessage{
			alice: {"DEV": ssk.sign(t, alice, "", tampered)},
		})
		must(t, err)
		if f := failures[alice]["DEV"]; f == nil || f.ErrCode != "M_INVALID_SIGNATURE" {
			t.Fatalf("signature over a key that differs from the stored one: %+v", failures)
		}
	})
}

func TestKeyJSONHelpers(t *testing.T) {
	a := json.RawMessage(`{"user_id":"@a:x","keys":{"ed25519:K":"pub"},"signatures":{"@a:x":{"ed25519:K":"s1"}},"unsigned":{"n":1}}`)
	b := json.RawMessage(`{"keys": {"ed25519:K": "pub"}, "user_id": "@a:x"}`)
	if !sameKey(a, b) {
		t.Fatal("same key with signatures, unsigned data and other formatting not the same")
	}
	if sameKey(a, json.RawMessage(`{"user_id":"@a:x","keys":{"ed25519:K":"other"}}`)) || sameKey(a, json.RawMessage(`nope`)) {
		t.Fatal("different keys reported the same")
	}

	merged := withSignatures(a, map[string]map[string]string{"@a:x": {"ed25519:L": "s2"}, "@b:x": {"ed25519:M": "s3"}}, map[string]any{"device_display_name": "phone"})
	var got struct {
		Signatures map[string]map[string]string `json:"signatures"`
		Unsigned   map[string]any               `json:"unsigned"`
	}
	must(t, json.Unmarshal(merged, &got))
	if got.Signatures["@a:x"]["ed25519:K"] != "s1" || got.Signatures["@a:x"]["ed25519:L"] != "s2" || got.Signatures["@b:x"]["ed25519:M"] != "s3" {
		t.Fatalf("merged signatures %v", got.Signatures)
	}
	if len(got.Unsigned) != 1 || got.Unsigned["device_display_name"] != "phone" {
		t.Fatalf("unsigned %v, want it replaced", got.Unsigned)
	}
	if !sameKey(merged, a) {
		t.Fatal("adding signatures changed the key")
	}
	if string(withSignatures(a, nil, nil)) != string(a) {
		t.Fatal("nothing to add changed the JSON")
	}

	key := newTestKey(t)
	signed := key.sign(t, "@a:x", "", map[string]string{"hello": "world"})
	if err := verify(signed, "@a:x", key.id(), key.pub); err != nil {
		t.Fatalf("valid signature: %v", err)
	}
	if verify(signed, "@b:x", key.id(), key.pub) == nil || verify(signed, "@a:x", key.id(), newTestKey(t).pub) == nil || verify(signed, "@a:x", key.id(), "!!") == nil {
		t.Fatal("signature accepted for the wrong signer or key")
	}
}
