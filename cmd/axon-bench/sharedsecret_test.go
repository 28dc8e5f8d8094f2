package main

import "testing"

// The expected MACs were computed independently with Python:
// hmac.new(b'sekrit', b'abcnonce\x00alice\x00pw0rd\x00notadmin', hashlib.sha1).hexdigest()
func TestSharedSecretMAC(t *testing.T) {
	if got, want := sharedSecretMAC("sekrit", "abcnonce", "alice", "pw0rd", false), "10c5b35b3ec2e64fff092c0307588f31b4fab59c"; got != want {
		t.Errorf("notadmin MAC = %s, want %s", got, want)
	}
	if got, want := sharedSecretMAC("sekrit", "abcnonce", "alice", "pw0rd", true), "4c530ab1169d9cbf40fc14c4d2d82b23ad90e8e9"; got != want {
		t.Errorf("admin MAC = %s, want %s", got, want)
	}
}
