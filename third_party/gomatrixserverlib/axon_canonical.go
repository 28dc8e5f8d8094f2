package gomatrixserverlib

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Axon patch 8: Build canonicalised the whole event three times (for the
// content hash, after adding the hash, and the signed result). Here the
// event is made canonical once, and every later edit keeps it canonical:
// deleting a key keeps the others in order, and the hashes and
// signatures are inserted at their place in key order. Only the small
// redacted copy that is signed is canonicalised again (signNewEvent).
// TestBuildNamesEventByReferenceHash checks the result is canonical and
// hashes, names and verifies as before.

// hashAndSignCanonical adds the content hash and this server's signature
// to a new event (which has neither) and returns it in canonical form,
// with its ID as signNewEvent names it.
func hashAndSignCanonical(origin string, keyID KeyID, key ed25519.PrivateKey, eventJSON []byte, ver IRoomVersion) ([]byte, string, bool, error) {
	if err := ver.CheckCanonicalJSON(eventJSON); err != nil {
		return nil, "", false, BadJSONError{err}
	}
	canonical, err := CanonicalJSON(eventJSON)
	if err != nil {
		return nil, "", false, err
	}
	hashable := canonical
	if gjson.GetBytes(hashable, "unsigned").Exists() {
		if hashable, err = sjson.DeleteBytes(hashable, "unsigned"); err != nil {
			return nil, "", false, err
		}
	}
	sum := sha256.Sum256(hashable)
	hashes := make([]byte, 0, 64)
	hashes = append(hashes, `{"sha256":"`...)
	hashes = base64.RawStdEncoding.AppendEncode(hashes, sum[:])
	hashes = append(hashes, `"}`...)
	withHash, ok := insertSortedKey(canonical, "hashes", hashes)
	if !ok {
		return nil, "", false, BadJSONError{errorf("event JSON is not an object")}
	}
	return signNewEvent(origin, keyID, key, withHash, ver, true)
}

// insertSortedKey adds key (absent from obj, a compact JSON object) with
// a compact value before the first key that sorts after it. false if obj
// is not an object.
func insertSortedKey(obj []byte, key string, value []byte) ([]byte, bool) {
	root := parseNoCopy(obj)
	if !root.IsObject() || len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, false
	}
	at, found := len(obj)-1, false
	root.ForEach(func(k, _ gjson.Result) bool {
		if k.Str > key {
			at, found = k.Index, true
			return false
		}
		return true
	})
	if found && (at <= 0 || at >= len(obj) || obj[at] != '"') {
		return nil, false
	}
	out := make([]byte, 0, len(obj)+len(key)+len(value)+4)
	out = append(out, obj[:at]...)
	if !found && len(obj) > 2 {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, key...)
	out = append(out, `":`...)
	out = append(out, value...)
	if found {
		out = append(out, ',')
	}
	return append(out, obj[at:]...), true
}
