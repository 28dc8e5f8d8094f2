package httputil

import (
	"net"
	"testing"
)

func TestConnKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::",
		"2001:db8:1:2:ffff:0:0:9": "2001:db8:1:2::",
		"2001:db8:1:3::1":         "2001:db8:1:3::",
	} {
		if got := connKey(net.ParseIP(in)); got != want {
			t.Errorf("connKey(%s) = %s, want %s", in, got, want)
		}
	}
}
