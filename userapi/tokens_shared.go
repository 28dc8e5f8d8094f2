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
// and applied by the others. A process applies what it has received
// before each token lookup (catchUp), and NATS delivers the invalidation
// to it before any request the revoking response can have caused, so the
// next request after a logout is refused everywhere. One lost in transit
// (a NATS outage, or more than tokenInvalidationBuffer unapplied) leaves
// a revoked token usable at another process for at most cacheMaxAge.

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
	received := make(chan *nats.Msg, tokenInvalidationBuffer)
	sub, err := nc.ChanSubscribe(subject, received)
	if err != nil {
		return nil, fmt.Errorf("userapi token invalidations: %w", err)
	}
	u.tokens.self = self
	u.tokens.received.Store(&received)
	// Applied as they come too, not only on lookups.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case m := <-received:
				u.tokens.applyMsg(m)
			case <-stop:
				return
			}
		}
	}()
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
		u.tokens.received.Store(nil)
		_ = sub.Unsubscribe()
		close(stop)
	}, nil
}

// tokenInvalidationBuffer is how many received invalidations may wait.
const tokenInvalidationBuffer = 4096

// catchUp applies the invalidations received and not yet applied.
func (c *tokenCache) catchUp() {
	ch := c.received.Load()
	if ch == nil {
		return
	}
	for {
		select {
		case m := <-*ch:
			c.applyMsg(m)
		default:
			return
		}
	}
}

func (c *tokenCache) applyMsg(m *nats.Msg) {
	var inv tokenInvalidation
	if json.Unmarshal(m.Data, &inv) != nil || inv.From == c.self || inv.Localpart == "" {
		return
	}
	c.applyInvalidation(inv)
}
