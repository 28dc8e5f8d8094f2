package httputil

import (
	"net"
	"net/http"
	"strings"
)

// TrustedProxies knows which peers may tell us the client's address.
type TrustedProxies []*net.IPNet

// ParseTrustedProxies parses IPs and CIDRs (validated by the config).
func ParseTrustedProxies(list []string) TrustedProxies {
	var out TrustedProxies
	for _, p := range list {
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		if _, n, err := net.ParseCIDR(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (t TrustedProxies) trusts(ip net.IP) bool {
	for _, n := range t {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// rewriteRemoteAddr replaces req.RemoteAddr with the client address from
// X-Forwarded-For when the peer is a trusted proxy: the right-most address
// not itself a trusted proxy (earlier entries are client-supplied and
// could be forged).
func (t TrustedProxies) rewriteRemoteAddr(req *http.Request) {
	if len(t) == 0 {
		return
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return
	}
	if peer := net.ParseIP(host); peer == nil || !t.trusts(peer) {
		return
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			return
		}
		if !t.trusts(ip) {
			req.RemoteAddr = net.JoinHostPort(ip.String(), "0")
			return
		}
	}
}
