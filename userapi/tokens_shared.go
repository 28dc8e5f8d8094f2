package userapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
)

// Several userapi processes (docs/scaling.md) each cache resolved access
// tokens. A token revoked through one (logout, device deletion, password
// change, deactivation) must stop working at once at all of them, so each
// invalidation is also published on core NATS (<prefix>.userapi.tokens)
// and applied by the others. One lost in transit (a NATS outage) leaves a
// revoked token usable at another process for at most cacheMaxAge.

// tokenInvalidation names cached tokens to drop: one device's, or (User)
// all the user's except Except's.
type tokenInvalidation struct {
	From      string `json:"from"`
	Localpart string `json:"localpart"`
	Device    string `json:"device,omitempty"`
	User      bool   `json:"user,omitempty"`
	Except    string `json:"except,omitempty"`
}

// shareTokenInvalidations joins the other userapi processes; the
// returned function stops.
func (u *UserAPI) shareTokenInvalidations() (func(), error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	self := hex.EncodeToString(b[:])
	nc := u.base.Bus.Conn()
	subject := u.base.Cfg.NATS.Prefix + ".userapi.tokens"
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var inv tokenInvalidation
		if json.Unmarshal(m.Data, &inv) != nil || inv.From == self || inv.Localpart == "" {
			return
		}
		u.tokens.applyInvalidation(inv)
	})
	if err != nil {
		return nil, fmt.Errorf("userapi token invalidations: %w", err)
	}
	publish := func(inv tokenInvalidation) {
		inv.From = self
		data, err := json.Marshal(inv)
		if err == nil {
			err = nc.Publish(subject, data)
		}
		if err != nil {
			u.base.Log.Warn("publish token invalidation", "error", err)
		}
	}
	u.tokens.publish.Store(&publish)
	return func() {
		u.tokens.publish.Store(nil)
		_ = sub.Unsubscribe()
	}, nil
}
