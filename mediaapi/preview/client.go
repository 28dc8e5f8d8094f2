package preview

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/axon-hs/axon/internal/netguard"
)

// ErrForbiddenAddress: the URL resolves to a blacklisted address.
var ErrForbiddenAddress = netguard.ErrForbidden

// Config bounds fetches.
type Config struct {
	Blacklist, Whitelist []string // CIDRs
	MaxBytes             int64
	MaxRedirects         int
	Timeout              time.Duration
	// LookupIP resolves host names (tests inject one); nil: the system
	// resolver.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// NewClient is an HTTP client that connects only to allowed addresses,
// follows at most cfg.MaxRedirects redirects (http and https only) and
// gives up after cfg.Timeout.
func NewClient(cfg Config) (*http.Client, error) {
	filter, err := netguard.New(cfg.Blacklist, cfg.Whitelist)
	if err != nil {
		return nil, err
	}
	lookup := cfg.LookupIP
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	// The dialer's Control hook checks the address actually connected to
	// (whatever resolved it); dial resolves here so the resolver can be
	// injected and every address of a name is tried in turn.
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: filter.Control}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips := []netip.Addr{}
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = append(ips, ip)
		} else if ips, err = lookup(ctx, host); err != nil {
			return nil, err
		}
		lastErr := fmt.Errorf("preview: %s has no address", host)
		for _, ip := range ips {
			conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return conn, nil
			}
			lastErr = err
		}
		return nil, lastErr
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would make the checked address the proxy's
		DialContext:           dial,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("preview: more than %d redirects", cfg.MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("preview: redirect to %s URL", req.URL.Scheme)
			}
			return nil
		},
	}, nil
}
