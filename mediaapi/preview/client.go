package preview

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress: the URL resolves to a blacklisted address.
var ErrForbiddenAddress = errors.New("preview: address not allowed")

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

// ipFilter decides which addresses may be connected to.
type ipFilter struct {
	black, white []netip.Prefix
}

func newIPFilter(black, white []string) (*ipFilter, error) {
	f := &ipFilter{}
	for _, lists := range []struct {
		in  []string
		out *[]netip.Prefix
	}{{black, &f.black}, {white, &f.white}} {
		for _, c := range lists.in {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("preview: %q is not a CIDR", c)
			}
			*lists.out = append(*lists.out, p.Masked())
		}
	}
	return f, nil
}

// allowed: whitelisted, or in no blacklisted range. IPv4-mapped IPv6
// addresses are judged as the IPv4 address they carry.
func (f *ipFilter) allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range f.white {
		if p.Contains(ip) {
			return true
		}
	}
	for _, p := range f.black {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// control runs after resolution, just before each connect: the one place
// where the address really dialled is known.
func (f *ipFilter) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if !f.allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// NewClient is an HTTP client that connects only to allowed addresses,
// follows at most cfg.MaxRedirects redirects (http and https only) and
// gives up after cfg.Timeout.
func NewClient(cfg Config) (*http.Client, error) {
	filter, err := newIPFilter(cfg.Blacklist, cfg.Whitelist)
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
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: filter.control}
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
