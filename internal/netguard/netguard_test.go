package netguard

import (
	"errors"
	"net/netip"
	"testing"
)

func TestFilter(t *testing.T) {
	f, err := New([]string{"127.0.0.0/8", "10.0.0.0/8", "::1/128", "fc00::/7"}, []string{"10.1.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"127.0.0.1": false, "10.9.9.9": false, "10.1.2.3": true, "::1": false, "fd00::1": false,
		"::ffff:127.0.0.1": false, "93.184.216.34": true, "2001:4860::8888": true,
	} {
		if got := f.Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: allowed %v, want %v", addr, got, want)
		}
	}
	if err := f.Control("tcp", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("control: %v", err)
	}
	if err := f.Control("tcp", "93.184.216.34:443", nil); err != nil {
		t.Fatalf("control public: %v", err)
	}
	if _, err := New([]string{"not-a-cidr"}, nil); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}
