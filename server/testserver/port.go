package testserver

import (
	"net"
	"testing"
)

// FreeLoopbackAddr asks the kernel for a free loopback port. There is a
// small window before the server binds it; tests run few enough servers
// for that not to matter.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
