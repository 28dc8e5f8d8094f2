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
}

func newRateLimits(cfg config.RateLimits) rateLimits {
	return rateLimits{
		loginIP:    httputil.NewRateLimiter(cfg, cfg.Login),
		loginUser:  httputil.NewRateLimiter(cfg, cfg.Login),
		registerIP: httputil.NewRateLimiter(cfg, cfg.Registration),
	}
}
