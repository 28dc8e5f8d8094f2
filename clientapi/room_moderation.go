package clientapi

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// What the admin API's moderation changes for a user's own requests:
// shadow bans and per-user message rate limits.

// shadowBanned answers a shadow-banned user's send, state change,
// redaction or invite as if it had succeeded, with an event ID nobody
// will ever see (nil for everyone else): nothing is stored or sent.
func shadowBanned(dev *uapi.Device, withEventID bool) *httputil.JSONResponse {
	if !dev.ShadowBanned {
		return nil
	}
	r := httputil.Empty()
	if withEventID {
		r = httputil.OK(map[string]string{"event_id": "$" + randomToken(32)})
	}
	return &r
}

// fakeRoomID is what a shadow-banned user's createRoom is answered.
func (h *roomRoutes) fakeRoomID() string { return "!" + randomToken(18) + ":" + h.server }

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxOverrideLimiters bounds the limiters kept for distinct override rates.
const maxOverrideLimiters = 1000

// overrideLimiters holds one limiter per override rate in use (users
// sharing a rate share its limiter, each with their own bucket).
type overrideLimiters struct {
	cfg config.RateLimits
	mu  sync.Mutex
	m   map[uapi.RateLimitOverride]*httputil.Limiter
}

// check applies a user's own rate: nil when allowed (always when the rate
// is 0, "no limit", or rate limiting is off for the server).
func (o *overrideLimiters) check(req *http.Request, dev *uapi.Device) *httputil.JSONResponse {
	r := *dev.RateLimit
	if !o.cfg.Enabled || r.MessagesPerSecond <= 0 {
		return nil
	}
	o.mu.Lock()
	l := o.m[r]
	if l == nil {
		if o.m == nil || len(o.m) >= maxOverrideLimiters {
			o.m = map[uapi.RateLimitOverride]*httputil.Limiter{}
		}
		l = httputil.NewLimiter(float64(r.MessagesPerSecond), int(r.BurstCount), o.cfg.ExemptIPs)
		o.m[r] = l
	}
	o.mu.Unlock()
	return l.Check(req, dev.UserID)
}
