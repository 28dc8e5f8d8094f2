// Package natstest runs a private NATS server with JetStream on a
// loopback port inside a test, so a test can take the log down, bring it
// back, or lose its store — what a shared NATS server must not be put
// through.
package natstest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/axon-hs/axon/internal/stream"
)

// Server is a private NATS server that can be stopped and started again
// on the same address.
type Server struct {
	t        testing.TB
	port     int
	storeDir string
	srv      *server.Server
}

// Start runs a server on a free loopback port, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, port: freePort(t), storeDir: t.TempDir()}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// Bus connects a stream.Bus under prefix, closed when the test ends.
func (s *Server) Bus(t testing.TB, prefix string) *stream.Bus {
	t.Helper()
	bus, err := stream.Connect(context.Background(), stream.Config{URLs: []string{s.URL()}, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	return bus
}

// Stop shuts the server down; its store stays (see Restart, WipeStore).
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// WipeStore gives the next Restart an empty store: the server comes back
// having lost every stream, as an external NATS whose disk was lost.
func (s *Server) WipeStore() { s.storeDir = s.t.TempDir() }

// Restart starts the server (again) on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: s.port, JetStream: true, StoreDir: s.storeDir,
		NoSigs: true, NoLog: true, MaxPayload: stream.MaxPayload,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		s.t.Fatal("NATS did not start within 30s")
	}
	s.srv = srv
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}
