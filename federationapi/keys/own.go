// Package keys publishes this server's signing keys, acts as a notary for
// other servers' keys, and verifies signatures with a key ring that
// fetches remote keys directly or through trusted notaries and caches them
// in federationapi_server_keys.
package keys

import (
	"crypto/ed25519"
	"encoding/json"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
)

// Validity is how long our published keys may be cached. The spec asks
// for at least an hour; a day keeps notaries from asking too often while
// a key rotation still propagates the same day.
const Validity = 24 * time.Hour

// Identity is this server's name and signing key.
type Identity struct {
	ServerName spec.ServerName
	KeyID      gomatrixserverlib.KeyID
	PrivateKey ed25519.PrivateKey
	// OldKeys are retired keys still published for old signatures.
	OldKeys map[gomatrixserverlib.KeyID]gomatrixserverlib.OldVerifyKey
}

// PublicKey is the current verify key.
func (id *Identity) PublicKey() ed25519.PublicKey { return id.PrivateKey.Public().(ed25519.PublicKey) }

// ServerKeys is our signed /_matrix/key/v2/server response, valid until
// now+Validity.
func (id *Identity) ServerKeys(now time.Time) (json.RawMessage, error) {
	old := id.OldKeys
	if old == nil {
		old = map[gomatrixserverlib.KeyID]gomatrixserverlib.OldVerifyKey{}
	}
	fields := gomatrixserverlib.ServerKeyFields{
		ServerName:    id.ServerName,
		VerifyKeys:    map[gomatrixserverlib.KeyID]gomatrixserverlib.VerifyKey{id.KeyID: {Key: spec.Base64Bytes(id.PublicKey())}},
		ValidUntilTS:  spec.AsTimestamp(now.Add(Validity)),
		OldVerifyKeys: old,
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	return id.Sign(raw)
}

// Sign adds our signature to a JSON object, keeping the others.
func (id *Identity) Sign(message []byte) ([]byte, error) {
	return gomatrixserverlib.SignJSON(string(id.ServerName), id.KeyID, id.PrivateKey, message)
}
