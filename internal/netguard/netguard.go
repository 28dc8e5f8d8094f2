// Package netguard keeps server-side fetches of user-chosen URLs (URL
// previews, redirects of remote media) away from internal networks: a
// Filter checks the address actually dialled, in the dialer's Control
// hook, so redirects, DNS names resolving to internal addresses and DNS
// rebinding are all covered.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrForbiddenAddress: the connection would go to a blacklisted address.
var ErrForbiddenAddress = errors.New("address not allowed")

// Filter decides which addresses may be connected to.
type Filter struct {
	black, white []netip.Prefix
}

// New builds a Filter from CIDR lists: whitelisted addresses are allowed,
// then blacklisted ones refused, then everything else allowed.
func New(blacklist, whitelist []string) (*Filter, error) {
	f := &Filter{}
	for _, l := range []struct {
		in  []string
		out *[]netip.Prefix
	}{{blacklist, &f.black}, {whitelist, &f.white}} {
		for _, c := range l.in {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("netguard: %q is not a CIDR", c)
			}
			*l.out = append(*l.out, p.Masked())
		}
	}
	return f, nil
}

// Allowed reports whether ip may be connected to. IPv4-mapped IPv6
// addresses are judged as the IPv4 address they carry.
func (f *Filter) Allowed(ip netip.Addr) bool {
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

// Control is a net.Dialer Control hook: it runs after resolution, just
// before each connect, with the address really dialled.
func (f *Filter) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if !f.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}
