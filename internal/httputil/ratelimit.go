package httputil

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/axon-hs/axon/internal/config"
)

// maxLimiterKeys bounds a Limiter's memory: past it, idle buckets (which
// have refilled and so are equivalent to new ones) are dropped, and if
// too few are idle, arbitrary ones down to 90% (so the scan is rare).
const maxLimiterKeys = 100_000

// Limiter is a set of token buckets keyed by string (a client IP, a user
// ID…). A nil *Limiter allows everything, so a disabled limit needs no
// checks at call sites.
type Limiter struct {
	limit   rate.Limit
	burst   int
	refill  time.Duration // time for an empty bucket to fill
	exempt  []*net.IPNet
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewRateLimiter builds a limiter for one of the configured rates. It
// returns nil (allow all) when rate limiting is disabled or r is zero.
func NewRateLimiter(limits config.RateLimits, r config.Rate) *Limiter {
	if !limits.Enabled || r.PerSecond <= 0 {
		return nil
	}
	return NewLimiter(r.PerSecond, r.Burst, limits.ExemptIPs)
}

// NewLimiter allows burst events at once, refilling perSecond per second,
// per key. Requests from exemptIPs (IPs or CIDRs) are never limited by
// Check.
func NewLimiter(perSecond float64, burst int, exemptIPs []string) *Limiter {
	if burst < 1 {
		burst = 1
	}
	l := &Limiter{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		refill:  time.Duration(float64(burst) / perSecond * float64(time.Second)),
		maxKeys: maxLimiterKeys,
		buckets: map[string]*bucket{},
	}
	for _, s := range exemptIPs {
		if _, n, err := net.ParseCIDR(s); err == nil {
			l.exempt = append(l.exempt, n)
		} else if ip := net.ParseIP(s); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			l.exempt = append(l.exempt, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		}
	}
	return l
}

// Allow takes one token from key's bucket. When it is empty it returns
// false and how long until a token is available.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.evictLocked(now)
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, l.refill
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *Limiter) evictLocked(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.refill {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets { // still full: a flood of new keys
		if len(l.buckets) < l.maxKeys*9/10 {
			break
		}
		delete(l.buckets, k)
	}
}

// Exempt reports whether req comes from an exempt IP.
func (l *Limiter) Exempt(req *http.Request) bool {
	if l == nil || len(l.exempt) == 0 {
		return false
	}
	ip := net.ParseIP(ClientIP(req))
	for _, n := range l.exempt {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// Check takes a token for key unless req is exempt, returning the 429
// M_LIMIT_EXCEEDED response (with retry_after_ms) when limited, or nil.
func (l *Limiter) Check(req *http.Request, key string) *JSONResponse {
	if l == nil || l.Exempt(req) {
		return nil
	}
	if ok, wait := l.Allow(key); !ok {
		r := LimitExceeded(max(wait.Milliseconds(), 1))
		return &r
	}
	return nil
}

// CheckIP is Check keyed by the client's IP.
func (l *Limiter) CheckIP(req *http.Request) *JSONResponse {
	if l == nil {
		return nil
	}
	return l.Check(req, ClientIP(req))
}

// ClientIP is the address the request came from. Proxy headers are not
// trusted (no trusted-proxy setting exists yet), so behind a reverse
// proxy every client shares the proxy's address.
func ClientIP(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}
