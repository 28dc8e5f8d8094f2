package httputil

import (
	"net"
	"sync"
)

// LimitConnsPerIP wraps ln so that at most max connections from one
// client IP (IPv6: one /64) are open at a time; further ones are closed as soon as they
// are accepted, so one client cannot use up the process's file
// descriptors. Connections from exempt peers (trusted reverse proxies,
// which carry many clients) are not counted.
func LimitConnsPerIP(ln net.Listener, max int, exempt TrustedProxies) net.Listener {
	if max <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, max: max, exempt: exempt, open: map[string]int{}}
}

type connLimiter struct {
	net.Listener
	max    int
	exempt TrustedProxies

	mu   sync.Mutex
	open map[string]int
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := peerIP(c)
		if ip == nil || l.exempt.trusts(ip) {
			return c, nil
		}
		key := connKey(ip)
		if !l.take(key) {
			c.Close()
			continue
		}
		return &limitedConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

func (l *connLimiter) take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.max {
		return false
	}
	l.open[key]++
	return true
}

func (l *connLimiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// connKey is what one client is counted by: its IPv4 address, or its
// IPv6 /64 (one subscriber's network, in which it may pick any address).
func connKey(ip net.IP) string {
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String()
}

func peerIP(c net.Conn) net.IP {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP
	}
	return nil
}

// limitedConn gives its slot back once, on the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
