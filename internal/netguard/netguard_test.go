package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestNonPublicDenied(t *testing.T) {
	g, err := New(NonPublic, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1",
		"fc00::1", "0.0.0.0", "100.64.0.1", "::ffff:127.0.0.1", "224.0.0.1", "255.255.255.255", "::"} {
		if g.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
	}
	for _, s := range []string{"1.1.1.1", "8.8.8.8", "2606:4700::1111"} {
		if !g.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("public %s refused", s)
		}
	}
	allow, err := New(NonPublic, []string{"127.0.0.0/8", "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"127.0.0.3": true, "10.0.0.5": true, "10.0.0.6": false, "::1": false} {
		if got := allow.Allowed(netip.MustParseAddr(s)); got != want {
			t.Errorf("allow-list: %s allowed=%v, want %v", s, got, want)
		}
	}
	if _, err := New([]string{"nope"}, nil); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
}

// TestControlRefusesDial: a real dial to a listening loopback port is
// refused before connecting, unless loopback is allowed.
func TestControlRefusesDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	deny, _ := New(NonPublic, nil)
	if _, err := (&net.Dialer{Control: deny.Control}).DialContext(context.Background(), "tcp", ln.Addr().String()); !errors.Is(err, ErrForbidden) {
		t.Fatalf("dial to loopback: %v, want ErrForbidden", err)
	}
	allow, _ := New(NonPublic, []string{"127.0.0.1"})
	c, err := (&net.Dialer{Control: allow.Control}).DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	c.Close()
}
