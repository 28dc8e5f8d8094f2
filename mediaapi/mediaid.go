package mediaapi

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/axon-hs/axon/mediaapi/api"
)

// newMediaID is 24 random bytes (192 bits) in URL-safe base64: unguessable,
// and only the characters the spec allows in a media ID.
func newMediaID() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validMediaID(id string) bool   { return api.ValidMediaID(id) }
func validServerName(s string) bool { return api.ValidServerName(s) }
