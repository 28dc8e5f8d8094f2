package transport

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// ErrForbiddenDestination is a dial to an address federation must not
// reach: loopback, private, link-local and other non-public ranges,
// unless the operator allowed them (federation.allowed_private_networks).
// Without this, anyone could make the server connect to its own network
// by naming a server "127.0.0.1:5432" (server-side request forgery).
var ErrForbiddenDestination = errors.New("destination address is not public")

// nonPublic are ranges that are not on the public internet, beyond what
// netip's IsLoopback/IsPrivate/IsLinkLocal… already cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 (embeds IPv4)
	netip.MustParsePrefix("2001:db8::/32"), // documentation
}

// Guard refuses connections to non-public addresses outside its allowed
// prefixes. The zero Guard refuses all non-public addresses.
type Guard struct {
	allowed []netip.Prefix
}

// NewGuard allows the given IPs and CIDRs (validated by the config).
func NewGuard(allowed []string) *Guard {
	g := &Guard{}
	for _, s := range allowed {
		if p, err := netip.ParsePrefix(s); err == nil {
			g.allowed = append(g.allowed, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			g.allowed = append(g.allowed, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return g
}

// Allowed reports whether ip may be dialled.
func (g *Guard) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range g.allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return isPublic(ip)
}

func isPublic(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Control is a net.Dialer Control function: it checks the address
// actually being connected to, after name resolution, so a name that
// resolves (or re-resolves) to a private address is refused too.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return ErrForbiddenDestination
	}
	if !g.Allowed(ap.Addr()) {
		return ErrForbiddenDestination
	}
	return nil
}

// Dialer is a net.Dialer with this guard and the outbound timeouts.
func (g *Guard) Dialer() *net.Dialer {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}
	if g != nil {
		d.Control = g.Control
	}
	return d
}
