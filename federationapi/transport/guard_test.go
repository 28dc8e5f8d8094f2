package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestGuardAllowed(t *testing.T) {
	deny := NewGuard(nil)
	for _, s := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1",
		"fc00::1", "0.0.0.0", "100.64.0.1", "::ffff:127.0.0.1", "224.0.0.1", "255.255.255.255", "::"} {
		if deny.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed by default", s)
		}
	}
	for _, s := range []string{"1.1.1.1", "8.8.8.8", "2606:4700::1111"} {
		if !deny.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("public %s refused", s)
		}
	}
	allow := NewGuard([]string{"127.0.0.0/8", "10.0.0.5"})
	for s, want := range map[string]bool{"127.0.0.3": true, "10.0.0.5": true, "10.0.0.6": false, "::1": false} {
		if got := allow.Allowed(netip.MustParseAddr(s)); got != want {
			t.Errorf("allow-list: %s allowed=%v, want %v", s, got, want)
		}
	}
}

// TestGuardRefusesDial: a real dial to a listening loopback port is
// refused before connecting, unless loopback is allowed.
func TestGuardRefusesDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := NewGuard(nil).Dialer().DialContext(context.Background(), "tcp", ln.Addr().String()); !errors.Is(err, ErrForbiddenDestination) {
		t.Fatalf("dial to loopback: %v, want ErrForbiddenDestination", err)
	}
	c, err := NewGuard([]string{"127.0.0.1"}).Dialer().DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	c.Close()
}
