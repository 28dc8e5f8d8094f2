package userapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// bcryptCost trades login latency (~50ms at 10) against offline cracking.
// It comes from registration.password_hash_cost; it is process-wide
// because the timing-equaliser hash below is too.
var bcryptCost atomic.Int32

func init() { bcryptCost.Store(10) }

func cost() int { return int(bcryptCost.Load()) }

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

// bcryptSlots bounds concurrent hashing to the CPUs: a burst of logins
// then completes first-come first-served instead of all slowing down
// together, and requests abandoned while queued skip the work.
var bcryptSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func withBcryptSlot(ctx context.Context, fn func()) error {
	select {
	case bcryptSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-bcryptSlots }()
	fn()
	return nil
}

func hashPassword(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", nil // no password: password login impossible
	}
	var h []byte
	var err error
	if slotErr := withBcryptSlot(ctx, func() { h, err = bcrypt.GenerateFromPassword(passwordInput(password), cost()) }); slotErr != nil {
		return "", slotErr
	}
	return string(h), err
}

var (
	dummyOnce sync.Once
	dummyHash []byte
)

// passwordMatches compares in constant time per hash. With no hash (no
// such user, or no password) it still spends a bcrypt comparison so the
// response time does not reveal which users exist.
func passwordMatches(ctx context.Context, hash, password string) (bool, error) {
	ok := false
	err := withBcryptSlot(ctx, func() {
		if hash == "" {
			dummyOnce.Do(func() { dummyHash, _ = bcrypt.GenerateFromPassword([]byte("dummy password"), cost()) })
			_ = bcrypt.CompareHashAndPassword(dummyHash, passwordInput(password))
			return
		}
		ok = bcrypt.CompareHashAndPassword([]byte(hash), passwordInput(password)) == nil
	})
	return ok, err
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
