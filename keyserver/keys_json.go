package keyserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
)

// keyObject is the part of a device or cross-signing key the server
// checks; the stored form is always the uploaded JSON.
type keyObject struct {
	UserID     string                       `json:"user_id"`
	DeviceID   string                       `json:"device_id"`
	Usage      []string                     `json:"usage"`
	Keys       map[string]string            `json:"keys"`
	Signatures map[string]map[string]string `json:"signatures"`
}

func parseKeyObject(raw json.RawMessage) (*keyObject, error) {
	var o keyObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// ed25519Key returns the single "ed25519:<id>" entry of keys.
func (o *keyObject) ed25519Key(id string) (string, bool) {
	v, ok := o.Keys["ed25519:"+id]
	return v, ok
}

// crossSigningPublic returns a cross-signing key's public key (the
// single entry of its keys map).
func (o *keyObject) crossSigningPublic() (string, error) {
	if len(o.Keys) != 1 {
		return "", fmt.Errorf("cross-signing key must have exactly one key")
	}
	for id, pub := range o.Keys {
		if id != "ed25519:"+pub {
			return "", fmt.Errorf("key ID %q does not match its public key", id)
		}
		return pub, nil
	}
	return "", nil
}

// verify checks signer's signature by keyID ("ed25519:...") with public
// key pub on raw.
func verify(raw json.RawMessage, signer, keyID, pub string) error {
	key, err := decodeBase64(pub)
	if err != nil || len(key) != 32 {
		return fmt.Errorf("bad public key")
	}
	return gomatrixserverlib.VerifyJSON(signer, gomatrixserverlib.KeyID(keyID), key, raw)
}

func decodeBase64(s string) ([]byte, error) {
	var b spec.Base64Bytes
	err := b.Decode(s)
	return b, err
}

// sameKey reports whether a and b are the same key once signatures and
// unsigned data are ignored.
func sameKey(a, b json.RawMessage) bool {
	ca, errA := strippedCanonical(a)
	cb, errB := strippedCanonical(b)
	return errA == nil && errB == nil && bytes.Equal(ca, cb)
}

func strippedCanonical(raw json.RawMessage) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "signatures")
	delete(m, "unsigned")
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return gomatrixserverlib.CanonicalJSON(b)
}

// withSignatures returns raw with extra signatures (user → key ID →
// signature) merged in, and unsigned replaced when given.
func withSignatures(raw json.RawMessage, extra map[string]map[string]string, unsigned map[string]any) json.RawMessage {
	if len(extra) == 0 && unsigned == nil {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	if len(extra) > 0 {
		sigs := map[string]map[string]string{}
		_ = json.Unmarshal(m["signatures"], &sigs)
		for u, byKey := range extra {
			if sigs[u] == nil {
				sigs[u] = map[string]string{}
			}
			maps.Copy(sigs[u], byKey)
		}
		m["signatures"], _ = json.Marshal(sigs)
	}
	if unsigned != nil {
		m["unsigned"], _ = json.Marshal(unsigned)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}
