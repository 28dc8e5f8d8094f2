package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
)

// Federated configures a test server to federate: a TLS federation
// listener on a free loopback port with a self-signed certificate made
// for the test, the server name set to that listener's address (so other
// test servers reach it with no DNS), certificate checks towards other
// servers off, no notary, and loopback allowed as a federation
// destination. Compose with your own Configure:
//
//	inst := testserver.Start(t, testserver.Options{Backend: b, Configure: testserver.Federated(t)})
func Federated(t testing.TB) func(cfg *config.Config) {
	t.Helper()
	return FederatedAt(t, "127.0.0.1")
}

// FederatedAt is Federated on another loopback address (e.g. 127.0.0.3):
// server ACLs match server names without their port, so a test that
// denies one server needs it on a host of its own.
func FederatedAt(t testing.TB, host string) func(cfg *config.Config) {
	t.Helper()
	return func(cfg *config.Config) {
		addr := freeAddrOn(t, host)
		certPath, keyPath := selfSignedCert(t, cfg.DataDir)
		cfg.ServerName = addr
		cfg.Listeners.Federation = config.Listener{Address: addr, TLSCert: certPath, TLSKey: keyPath}
		cfg.Federation.Enabled = true
		cfg.Federation.InsecureSkipVerify = true
		cfg.Federation.TrustedKeyServers = nil
		cfg.Federation.AllowedPrivateNetworks = []string{"127.0.0.0/8", "::1"} // the test servers' loopback network
	}
}

// FederationURL is the https base URL of the instance's federation
// listener.
func (i *Instance) FederationURL() string { return "https://" + i.Server.Addr("federation") }

// selfSignedCert writes a fresh certificate for 127.0.0.1 into dir.
func selfSignedCert(t testing.TB, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3), net.IPv4(127, 0, 0, 4)},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "federation.crt"), filepath.Join(dir, "federation.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// freeAddrOn asks the kernel for a free port on a loopback host.
func freeAddrOn(t testing.TB, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
