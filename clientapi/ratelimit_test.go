package clientapi

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
)

// TestRateLimiter covers the shared httputil.Limiter the account routes
// use: burst, retry hint, per-key buckets, exemptions, disabled limits.
func TestRateLimiter(t *testing.T) {
	l := httputil.NewLimiter(0.5, 2, []string{"10.0.0.0/8", "::1"})
	for i := range 2 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("attempt %d within burst refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait.Seconds() > 2.1 {
		t.Fatalf("over burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("keys share a bucket")
	}

	req := httptest.NewRequest("POST", "/", nil)
	req.RemoteAddr = "192.0.2.1:5555"
	l.Check(req, "c")
	l.Check(req, "c")
	resp := l.Check(req, "c")
	if resp == nil || resp.Code != 429 {
		t.Fatalf("Check over limit: %+v", resp)
	}
	if me, _ := resp.JSON.(*httputil.MatrixError); me == nil || me.ErrCode != "M_LIMIT_EXCEEDED" || me.RetryAfterMs <= 0 {
		t.Fatalf("limit error: %+v", resp.JSON)
	}
	for _, addr := range []string{"10.1.2.3:1", "[::1]:1"} {
		req.RemoteAddr = addr
		for range 5 {
			if resp := l.Check(req, "c"); resp != nil {
				t.Fatalf("exempt %s limited", addr)
			}
		}
	}

	var disabled *httputil.Limiter = httputil.NewRateLimiter(config.RateLimits{Enabled: false}, config.Rate{PerSecond: 1, Burst: 1})
	if disabled != nil || disabled.Check(req, "x") != nil || disabled.CheckIP(req) != nil {
		t.Fatal("disabled limiter limits")
	}
	if ok, _ := disabled.Allow("x"); !ok {
		t.Fatal("nil limiter refused")
	}
}

// TestRateLimiterBounded: a flood of distinct keys does not grow the
// limiter without bound, and stays usable.
func TestRateLimiterBounded(t *testing.T) {
	l := httputil.NewLimiter(1, 1, nil)
	for i := range 250_000 {
		l.Allow(fmt.Sprint(i))
	}
	if ok, _ := l.Allow("fresh"); !ok {
		t.Fatal("new key refused after flood")
	}
}
