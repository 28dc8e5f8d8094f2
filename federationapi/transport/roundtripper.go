package transport

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/netguard"
)

// Timeouts for every outbound connection; the whole request is further
// bounded by the caller's context and the client's timeout.
const (
	dialTimeout           = 5 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 60 * time.Second
	idleConnTimeout       = 90 * time.Second
	keepAlive             = 30 * time.Second
)

// RoundTripper sends matrix://<server name>/path requests to where the
// server name resolves, trying each result in turn.
type RoundTripper struct {
	Resolver *Resolver
	// InsecureSkipVerify turns off certificate checks (test networks).
	InsecureSkipVerify bool
	// Guard refuses non-public destinations; nil allows every address.
	Guard *netguard.Guard

	mu         sync.Mutex
	transports map[string]*http.Transport // by TLS name
}

// NewRoundTripper returns a RoundTripper over r.
func NewRoundTripper(r *Resolver, insecureSkipVerify bool) *RoundTripper {
	return &RoundTripper{Resolver: r, InsecureSkipVerify: insecureSkipVerify}
}

// TLSConfig is the client TLS config for tlsName.
func TLSConfig(tlsName string, insecure bool) *tls.Config {
	return &tls.Config{ServerName: tlsName, InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in for test networks
}

// Dialer is a net.Dialer with the outbound timeouts that connects only
// where guard allows (anywhere if guard is nil).
func Dialer(guard *netguard.Guard) *net.Dialer {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}
	if guard != nil {
		d.Control = guard.Control
	}
	return d
}

// transport returns the pooled transport whose certificate checks use
// tlsName (one per name, since SNI is per transport).
func (rt *RoundTripper) transport(tlsName string) *http.Transport {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if t, ok := rt.transports[tlsName]; ok {
		return t
	}
	if rt.transports == nil {
		rt.transports = map[string]*http.Transport{}
	}
	t := &http.Transport{
		DialContext:           Dialer(rt.Guard).DialContext,
		TLSClientConfig:       TLSConfig(tlsName, rt.InsecureSkipVerify),
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	rt.transports[tlsName] = t
	return t
}

// RoundTrip implements http.RoundTripper.
func (rt *RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "matrix" && req.URL.Scheme != "matrix-federation" {
		return nil, fmt.Errorf("transport: unsupported scheme %q", req.URL.Scheme)
	}
	serverName := req.URL.Host
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		results, err := rt.Resolver.Resolve(req.Context(), serverName)
		if err != nil {
			return nil, err
		}
		for _, res := range results {
			out := req.Clone(req.Context())
			out.URL.Scheme, out.URL.Host, out.Host = "https", res.Addr, res.Host
			if req.Body != nil && req.GetBody != nil {
				if out.Body, err = req.GetBody(); err != nil {
					return nil, err
				}
			}
			resp, err := rt.transport(res.TLSName).RoundTrip(out)
			if err == nil {
				return resp, nil
			}
			lastErr = err
			if req.Context().Err() != nil || (req.Body != nil && req.GetBody == nil) {
				return nil, err
			}
		}
		// Every address failed: the cached resolution may be stale.
		rt.Resolver.Forget(serverName)
	}
	return nil, lastErr
}

// CloseIdleConnections closes pooled connections.
func (rt *RoundTripper) CloseIdleConnections() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, t := range rt.transports {
		t.CloseIdleConnections()
	}
}
