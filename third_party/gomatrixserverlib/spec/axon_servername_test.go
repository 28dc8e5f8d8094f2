package spec

import (
	"net"
	"testing"
)

// referenceServerNameValid is ParseAndValidateServerName's rule as it was
// before Axon patch 16 (net.ParseIP tried on every host).
func referenceServerNameValid(name ServerName) bool {
	host, _ := splitServerName(name)
	if host == "" {
		return false
	}
	if host[0] == '[' {
		return host[len(host)-1] == ']' && net.ParseIP(host[1:len(host)-1]) != nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
		return true
	}
	for _, r := range host {
		if !isDNSNameChar(r) {
			return false
		}
	}
	return true
}

func TestServerNameIPv4FastPathMatches(t *testing.T) {
	names := []ServerName{
		"", "a", "example.org", "example.org:8448", "localhost:18108", "1.2.3.4", "1.2.3.4:80",
		"1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", ".", "...", "1.2.3.4.", "::1",
		"[::1]", "[::1]:8448", "[1.2.3.4]", "[example.org]", "::ffff:1.2.3.4", "1.2.3.4:99999",
		"exa_mple.org", "::ffff:example", "[::ffff:1.2.3.4]", ":1.2.3.4", "ex ample.org", "xn--bcher-kva.example", "1.2.3.a", "123", "0.0.0.0", "-1.2.3.4",
	}
	for _, n := range names {
		_, _, got := ParseAndValidateServerName(n)
		if want := referenceServerNameValid(n); got != want {
			t.Errorf("%q: valid %v, want %v", n, got, want)
		}
	}
}

func BenchmarkNewRoomIDWithDNSName(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := NewRoomID("!abcdefghijklmnopqr:example.org"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNewRoomIDKeepsRules(t *testing.T) {
	for id, ok := range map[string]bool{
		"!abc:example.org": true, "!abc:1.2.3.4:8448": true, "!abc:[::1]": true, "!a:b": true,
		"!abc:exa_mple.org": false, "!:example.org": false, "abc:example.org": false, "!ab": false,
		"!" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ": true, "!" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP+": false,
	} {
		r, err := NewRoomID(id)
		if (err == nil) != ok || (ok && r.String() != id) {
			t.Errorf("%q: %v, %v; want ok %v", id, r, err, ok)
		}
	}
}
