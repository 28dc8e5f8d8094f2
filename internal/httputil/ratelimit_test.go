package httputil

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
)

// TestRateLimiter covers the shared Limiter the account routes
// use: burst, retry hint, per-key buckets, exemptions, disabled limits.
func TestRateLimiter(t *testing.T) {
	l := NewLimiter(0.5, 2, []string{"10.0.0.0/8", "::1"})
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
	if me, _ := resp.JSON.(*MatrixError); me == nil || me.ErrCode != "M_LIMIT_EXCEEDED" || me.RetryAfterMs <= 0 {
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

	var disabled *Limiter = NewRateLimiter(config.RateLimits{Enabled: false}, config.Rate{PerSecond: 1, Burst: 1})
	if disabled != nil || disabled.Check(req, "x") != nil || disabled.CheckIP(req) != nil {
		t.Fatal("disabled limiter limits")
	}
	if ok, _ := disabled.Allow("x"); !ok {
		t.Fatal("nil limiter refused")
	}
}

// TestRateLimiterBounded: a flood of distinct keys never holds more than
// maxKeys buckets, and the limiter stays usable.
func TestRateLimiterBounded(t *testing.T) {
	l := NewLimiter(1, 1, nil)
	l.maxKeys = 1000
	for i := range 20 * l.maxKeys {
		if ok, _ := l.Allow(fmt.Sprint(i)); !ok {
			t.Fatalf("new key %d refused", i)
		}
		if n := len(l.buckets); n > l.maxKeys {
			t.Fatalf("after %d keys the limiter holds %d buckets, bound %d", i+1, n, l.maxKeys)
		}
	}
	if ok, _ := l.Allow("fresh"); !ok {
		t.Fatal("new key refused after flood")
	}
}

// TestRateLimiterEvictsIdleFirst: when full, buckets that have refilled
// (equivalent to new ones) go first, so a client that is being limited
// right now stays limited.
func TestRateLimiterEvictsIdleFirst(t *testing.T) {
	l := NewLimiter(0.001, 1, nil) // an empty bucket takes ~17 minutes to refill
	l.maxKeys = 10
	if ok, _ := l.Allow("hot"); !ok {
		t.Fatal("first request refused")
	}
	for i := range l.maxKeys - 1 {
		l.Allow(fmt.Sprint("idle", i))
		l.buckets[fmt.Sprint("idle", i)].last = time.Now().Add(-time.Hour) // refilled long ago
	}
	l.Allow("newcomer") // the limiter is full: evicts
	if _, ok := l.buckets["idle0"]; ok {
		t.Fatal("idle bucket kept when the limiter was full")
	}
	if ok, _ := l.Allow("hot"); ok {
		t.Fatal("eviction reset a limited client's bucket")
	}
}
