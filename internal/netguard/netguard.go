// Package netguard is the one rule for which addresses the server's own
// outbound connections (federation, URL previews) may reach: never the
// non-public ranges unless the operator allows them, checked on the
// address actually dialled, after name resolution, so a name that
// resolves (or re-resolves) to a private address is refused too.
// Without it, anyone could make the server connect into its own network
// by naming a server "127.0.0.1:5432" or previewing a URL there.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrForbidden is a connection to an address the guard refuses.
var ErrForbidden = errors.New("destination address not allowed")

// NonPublic is every range that is not the public internet.
var NonPublic = []string{
	"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
	"192.0.0.0/24", "169.254.0.0/16", "192.88.99.0/24", "198.18.0.0/15", "192.0.2.0/24",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8",
	"255.255.255.255/32", "::1/128", "::/128", "fe80::/10", "fc00::/7", "2001:db8::/32",
	"ff00::/8", "fec0::/10", "64:ff9b::/96", "::ffff:0:0/96", "2001::/32", "2002::/16",
}

// Guard refuses addresses in its deny ranges unless they are also in
// its allow ranges.
type Guard struct {
	deny, allow []netip.Prefix
}

// New builds a guard from IPs and CIDRs.
func New(deny, allow []string) (*Guard, error) {
	g := &Guard{}
	var err error
	if g.deny, err = prefixes(deny); err != nil {
		return nil, err
	}
	if g.allow, err = prefixes(allow); err != nil {
		return nil, err
	}
	return g, nil
}

func prefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		} else {
			return nil, fmt.Errorf("netguard: %q is not an IP or CIDR", s)
		}
	}
	return out, nil
}

// Allowed reports whether ip may be connected to. IPv4-mapped IPv6
// addresses are judged as the IPv4 address they carry.
func (g *Guard) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	for _, p := range g.deny {
		if p.Contains(ip) {
			return false
		}
	}
	return ip.IsValid()
}

// Control is a net.Dialer Control function: it runs just before each
// connect, the one place where the address really dialled is known.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	if !g.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbidden, ap.Addr())
	}
	return nil
}
