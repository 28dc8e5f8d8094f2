// Package transport finds and reaches other homeservers: server name
// resolution (well-known delegation, SRV, IP literals, explicit ports) with
// caching, and an http.RoundTripper for gomatrixserverlib's matrix://
// URLs that dials the resolved address with the right Host and TLS name.
package transport

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// Result is one place to send requests for a server name.
type Result struct {
	// Addr is the host:port to connect to.
	Addr string
	// Host is the HTTP Host header.
	Host string
	// TLSName is the name the certificate must be valid for (SNI).
	TLSName string
}

// How long resolutions are kept. The spec asks for well-known answers to
// be cached per their headers (default 24h, at most 48h) and failures for
// about an hour.
const (
	defaultWellKnownTTL = 24 * time.Hour
	maxWellKnownTTL     = 48 * time.Hour
	noWellKnownTTL      = time.Hour
)

// SRVLookup is net.Resolver.LookupSRV's shape.
type SRVLookup func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)

// WellKnownLookup returns the delegated server name and how long it may be
// cached, or an error when there is no usable well-known.
type WellKnownLookup func(ctx context.Context, hostname string) (string, time.Duration, error)

// Resolver implements the server-server spec's "resolving server names".
type Resolver struct {
	LookupSRV       SRVLookup
	LookupWellKnown WellKnownLookup
	Now             func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	results []Result
	expires time.Time
}

// NewResolver uses the system DNS resolver and wk for well-known files.
func NewResolver(wk WellKnownLookup) *Resolver {
	return &Resolver{LookupSRV: net.DefaultResolver.LookupSRV, LookupWellKnown: wk, Now: time.Now}
}

// Resolve returns where to reach serverName, most preferred first.
func (r *Resolver) Resolve(ctx context.Context, serverName string) ([]Result, error) {
	host, port, ok := splitServerName(serverName)
	if !ok {
		return nil, fmt.Errorf("invalid server name %q", serverName)
	}
	// Steps 1 and 2 need no lookups, so nothing to cache.
	if res, ok := direct(serverName, host, port); ok {
		return []Result{res}, nil
	}
	now := r.Now()
	r.mu.Lock()
	if c, ok := r.cache[serverName]; ok && now.Before(c.expires) {
		r.mu.Unlock()
		return c.results, nil
	}
	r.mu.Unlock()

	results, ttl := r.resolveHostname(ctx, host)
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]cached{}
	}
	r.cache[serverName] = cached{results: results, expires: now.Add(ttl)}
	r.mu.Unlock()
	return results, nil
}

// Forget drops a cached resolution (e.g. when every address failed).
func (r *Resolver) Forget(serverName string) {
	r.mu.Lock()
	delete(r.cache, serverName)
	r.mu.Unlock()
}

// direct handles IP literals and explicit ports.
func direct(name, host string, port int) (Result, bool) {
	bare := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(bare) != nil {
		if port < 0 {
			port = 8448
		}
		return Result{Addr: net.JoinHostPort(bare, strconv.Itoa(port)), Host: name, TLSName: bare}, true
	}
	if port >= 0 {
		return Result{Addr: net.JoinHostPort(host, strconv.Itoa(port)), Host: name, TLSName: host}, true
	}
	return Result{}, false
}

// resolveHostname is steps 3-6 for a hostname without a port.
func (r *Resolver) resolveHostname(ctx context.Context, hostname string) ([]Result, time.Duration) {
	if r.LookupWellKnown != nil {
		delegated, ttl, err := r.LookupWellKnown(ctx, hostname)
		if err == nil {
			ttl = clampTTL(ttl)
			dhost, dport, ok := splitServerName(delegated)
			if ok {
				if res, ok := direct(delegated, dhost, dport); ok {
					return []Result{res}, ttl
				}
				return r.srvOrDefault(ctx, dhost), ttl
			}
		}
	}
	return r.srvOrDefault(ctx, hostname), noWellKnownTTL
}

// srvOrDefault tries _matrix-fed._tcp, then the deprecated _matrix._tcp,
// then port 8448. The Host header and certificate stay the hostname.
func (r *Resolver) srvOrDefault(ctx context.Context, hostname string) []Result {
	if r.LookupSRV != nil {
		for _, service := range []string{"matrix-fed", "matrix"} {
			_, records, err := r.LookupSRV(ctx, service, "tcp", hostname)
			if err != nil || len(records) == 0 {
				// Not found, or a DNS failure: either way fall through
				// to the next step rather than fail the request.
				continue
			}
			out := make([]Result, 0, len(records))
			for _, rec := range records {
				target := strings.TrimSuffix(rec.Target, ".")
				if target == "" {
					continue
				}
				out = append(out, Result{Addr: net.JoinHostPort(target, strconv.Itoa(int(rec.Port))), Host: hostname, TLSName: hostname})
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	return []Result{{Addr: net.JoinHostPort(hostname, "8448"), Host: hostname, TLSName: hostname}}
}

func clampTTL(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return defaultWellKnownTTL
	}
	return min(ttl, maxWellKnownTTL)
}

// splitServerName validates a server name and splits off its port (-1
// when absent).
func splitServerName(name string) (host string, port int, ok bool) {
	h, p, valid := spec.ParseAndValidateServerName(spec.ServerName(name))
	if !valid {
		return "", 0, false
	}
	return h, p, true
}
