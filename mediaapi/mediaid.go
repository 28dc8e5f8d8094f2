package mediaapi

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// newMediaID is 24 random bytes (192 bits) in URL-safe base64: unguessable,
// and only the characters the spec allows in a media ID.
func newMediaID() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validMediaID: 1-255 of A-Z a-z 0-9 _ - (the spec's rule against path
// tricks).
func validMediaID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validServerName(s string) bool {
	_, _, ok := spec.ParseAndValidateServerName(spec.ServerName(s))
	return ok && len(s) <= 255
}
