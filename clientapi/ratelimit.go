package clientapi

import (
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
)

// rateLimits are the account endpoints' limits. A nil limiter (limits
// disabled) allows everything.
type rateLimits struct {
	// loginIP limits /login attempts per client IP, loginUser per target
	// user (so one account cannot be brute-forced from many IPs); the
	// latter also covers m.login.password UIA stages.
	loginIP, loginUser *httputil.Limiter
	// registerIP limits /register and its availability/validity checks.
	registerIP *httputil.Limiter
	// loginTokenUser limits POST /login/get_token per user more strictly
	// than logins (the spec suggests about one a minute): each token
	// logs in another device.
	loginTokenUser *httputil.Limiter
}

// loginTokenRate: a burst of 3, then one a minute.
var loginTokenRate = config.Rate{PerSecond: 1.0 / 60, Burst: 3}

func newRateLimits(cfg config.RateLimits) rateLimits {
	return rateLimits{
		loginIP:    httputil.NewRateLimiter(cfg, cfg.Login),
		loginUser:  httputil.NewRateLimiter(cfg, cfg.Login),
		registerIP: httputil.NewRateLimiter(cfg, cfg.Registration),

		loginTokenUser: httputil.NewRateLimiter(cfg, loginTokenRate),
	}
}
