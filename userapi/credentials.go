package userapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// bcryptCost trades login latency (~50ms at 10) against offline cracking.
const bcryptCost = 10

// passwordInput is what bcrypt sees: bcrypt reads at most 72 bytes, so
// longer passwords are first reduced to a SHA-256 digest that keeps all
// of their entropy.
func passwordInput(password string) []byte {
	if len(password) <= 72 {
		return []byte(password)
	}
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func hashPassword(password string) (string, error) {
	if password == "" {
		return "", nil // no password: password login impossible
	}
	h, err := bcrypt.GenerateFromPassword(passwordInput(password), bcryptCost)
	return string(h), err
}

var (
	dummyOnce sync.Once
	dummyHash []byte
)

// passwordMatches compares in constant time per hash. With no hash (no
// such user, or no password) it still spends a bcrypt comparison so the
// response time does not reveal which users exist.
func passwordMatches(hash, password string) bool {
	if hash == "" {
		dummyOnce.Do(func() { dummyHash, _ = bcrypt.GenerateFromPassword([]byte("dummy password"), bcryptCost) })
		_ = bcrypt.CompareHashAndPassword(dummyHash, passwordInput(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), passwordInput(password)) == nil
}

// newToken returns a random opaque token with a recognisable prefix.
func newToken(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is how tokens are stored and looked up.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newDeviceID returns ten random capital letters.
func newDeviceID() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [10]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b[:])
}
