package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/matrix-org/gomatrixserverlib"
	"maunium.net/go/mautrix"
)

// keysURL is a client-server v3 URL on c's server.
func keysURL(c *mautrix.Client, path string) string {
	return c.HomeserverURL.String() + "/_matrix/client/v3" + path
}

// keysDo sends a JSON request as c (never a 5xx, always JSON).
func keysDo(t testing.TB, c *mautrix.Client, method, path string, body any) acctResp {
	t.Helper()
	return acctDo(t, method, keysURL(c, path), c.AccessToken, body)
}

// keysSigner is an ed25519 key that signs Matrix JSON.
type keysSigner struct {
	pub  string // unpadded base64
	priv ed25519.PrivateKey
}

func newKeysSigner(t testing.TB) *keysSigner {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &keysSigner{pub: base64.RawStdEncoding.EncodeToString(pub), priv: priv}
}

// sign signs obj as userID with key ID "ed25519:"+keyName.
func (s *keysSigner) sign(t testing.TB, userID, keyName string, obj any) json.RawMessage {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := gomatrixserverlib.SignJSON(userID, gomatrixserverlib.KeyID("ed25519:"+keyName), s.priv, data)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// keysDevice is a client device with its signing key.
type keysDevice struct {
	c   *mautrix.Client
	key *keysSigner
}

func newKeysDevice(t testing.TB, c *mautrix.Client) *keysDevice {
	return &keysDevice{c: c, key: newKeysSigner(t)}
}

// deviceKeys is the device's signed identity keys.
func (d *keysDevice) deviceKeys(t testing.TB) json.RawMessage {
	user, dev := d.c.UserID.String(), d.c.DeviceID.String()
	return d.key.sign(t, user, dev, map[string]any{
		"user_id": user, "device_id": dev,
		"algorithms": []string{"m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"},
		"keys":       map[string]string{"ed25519:" + dev: d.key.pub, "curve25519:" + dev: newKeysSigner(t).pub},
	})
}

// otks returns n signed one-time keys named prefix0..n-1.
func (d *keysDevice) otks(t testing.TB, prefix string, n int, fallback bool) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for i := range n {
		obj := map[string]any{"key": newKeysSigner(t).pub}
		if fallback {
			obj["fallback"] = true
		}
		out["signed_curve25519:"+prefix+string(rune('A'+i))] = d.key.sign(t, d.c.UserID.String(), d.c.DeviceID.String(), obj)
	}
	return out
}

// keysSyncCounts reads a /sync response's OTK count and fallback types.
func keysSyncCounts(t testing.TB, c *mautrix.Client, since string) (int, []any, acctResp) {
	t.Helper()
	path := "/sync?timeout=0"
	if since != "" {
		path += "&since=" + since
	}
	r := keysDo(t, c, "GET", path, nil)
	if r.Status != 200 {
		t.Fatalf("sync: %d %s", r.Status, r.Raw)
	}
	counts, _ := r.Body["device_one_time_keys_count"].(map[string]any)
	n, _ := counts["signed_curve25519"].(float64)
	fb, _ := r.Body["device_unused_fallback_key_types"].([]any)
	return int(n), fb, r
}

// keysChanged reports whether a /sync response lists user in device_lists.changed.
func keysChanged(r acctResp, user string) bool {
	dl, _ := r.Body["device_lists"].(map[string]any)
	changed, _ := dl["changed"].([]any)
	for _, u := range changed {
		if u == user {
			return true
		}
	}
	return false
}
