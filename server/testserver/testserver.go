// Package testserver starts real Axon servers inside tests: real
// listeners on loopback, real databases (SQLite files or a fresh
// PostgreSQL database), real NATS (embedded, or the external server).
// End-to-end tests drive them over HTTP with mautrix-go.
package testserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/server"
)

// Options shape one test server.
type Options struct {
	// Backend is "sqlite" (default) or "postgres".
	Backend string
	// ExternalNATS uses the NATS server at AXON_TEST_NATS or
	// nats://127.0.0.1:4222 instead of the embedded one.
	ExternalNATS bool
	// ServerName defaults to the client listener's 127.0.0.1:port.
	ServerName string
	// Configure edits the config before the server starts.
	Configure func(cfg *config.Config)
}

// Instance is a running test server.
type Instance struct {
	t      testing.TB
	Cfg    *config.Config
	Server *server.Server
	// URL is the client API base URL, e.g. http://127.0.0.1:34567.
	URL string
}

var prefixCounter atomic.Int64

// ForEachBackend runs fn as a subtest on SQLite and on PostgreSQL.
func ForEachBackend(t *testing.T, fn func(t *testing.T, opts Options)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, Options{Backend: b.Name}) })
	}
}

// NewConfig builds the config a test server runs with: open registration,
// no rate limits, loopback ports chosen by the kernel.
func NewConfig(t testing.TB, opts Options) *config.Config {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Listeners.Client.Address = "127.0.0.1:0"
	cfg.Listeners.Metrics.Address = ""
	cfg.Registration.Mode = "open"
	cfg.Registration.SharedSecret = "test-shared-secret"
	cfg.RateLimits.Enabled = false
	// Cheapest bcrypt: tests register hundreds of users on 2 cores.
	cfg.Registration.PasswordHashCost = 4
	cfg.Logging.Level = "warn"
	cfg.Federation.Enabled = false
	cfg.NATS.Prefix = fmt.Sprintf("axontest%d_%d", os.Getpid(), prefixCounter.Add(1))
	if opts.Backend == "postgres" {
		cfg.Database.Default = storagetest.PostgresDSN(t)
	}
	if opts.ExternalNATS {
		url := os.Getenv("AXON_TEST_NATS")
		if url == "" {
			url = "nats://127.0.0.1:4222"
		}
		cfg.NATS.URLs = []string{url}
	}
	cfg.ServerName = opts.ServerName
	if opts.Configure != nil {
		opts.Configure(cfg)
	}
	cleanupExternalNATS(t, cfg)
	return cfg
}

// Start runs a server and stops it when the test ends.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	return StartWithConfig(t, NewConfig(t, opts))
}

// StartWithConfig runs a server on cfg (reuse a stopped instance's Cfg to
// restart on the same data). If cfg.ServerName is empty it becomes the
// bound client address.
func StartWithConfig(t testing.TB, cfg *config.Config) *Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if cfg.ServerName == "" {
		// The server name must be known before the server is built; bind
		// a port now and hand it over.
		addr := FreeLoopbackAddr(t)
		cfg.ServerName = addr
		cfg.Listeners.Client.Address = addr
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	if cfg.SigningKey == nil {
		if err := cfg.LoadSigningKey(); err != nil {
			t.Fatal(err)
		}
	}
	if len(cfg.AppServicePaths) > 0 {
		if _, err := cfg.LoadAppServices(); err != nil {
			t.Fatalf("test config: %v", err)
		}
	}
	log := slog.New(slog.NewTextHandler(logWriter(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("listen: %v", err)
	}
	inst := &Instance{t: t, Cfg: cfg, Server: srv, URL: "http://" + srv.Addr("client")}
	t.Cleanup(inst.Stop)
	return inst
}

func logWriter() io.Writer {
	if os.Getenv("AXON_TEST_LOG") == "1" {
		return os.Stderr
	}
	return io.Discard
}

// Stop shuts the server down (idempotent).
func (i *Instance) Stop() {
	if i.Server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	i.Server.Shutdown(ctx)
	i.Server = nil
}

// cleanupExternalNATS deletes the test's streams from a shared NATS server
// once the test is over (not on Stop: a restarted server must find them).
func cleanupExternalNATS(t testing.TB, cfg *config.Config) {
	if len(cfg.NATS.URLs) == 0 {
		return
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		bus, err := stream.Connect(ctx, stream.Config{URLs: cfg.NATS.URLs, Prefix: cfg.NATS.Prefix})
		if err != nil {
			t.Logf("cleanup NATS streams: %v", err)
			return
		}
		defer bus.Close()
		if err := bus.DeleteStreams(ctx); err != nil {
			t.Logf("cleanup NATS streams: %v", err)
		}
	})
}

// Restart stops the server and starts it again on the same config, data
// dir, databases and address.
func (i *Instance) Restart() *Instance {
	i.Stop()
	// What a new process reads from disk is read again: a key that was
	// only in memory would not survive a real restart.
	cfg := *i.Cfg
	cfg.SigningKey, cfg.KeyID = nil, ""
	return StartWithConfig(i.t, &cfg)
}

// DataPath is a path inside the server's data dir.
func (i *Instance) DataPath(name string) string { return filepath.Join(i.Cfg.DataDir, name) }

// Client returns an unauthenticated mautrix client for this server.
func (i *Instance) Client() *mautrix.Client {
	i.t.Helper()
	c, err := mautrix.NewClient(i.URL, "", "")
	if err != nil {
		i.t.Fatal(err)
	}
	return c
}

// Register creates localpart with password (via UIA m.login.dummy) and
// returns a logged-in client.
func (i *Instance) Register(localpart, password string) *mautrix.Client {
	i.t.Helper()
	c := i.Client()
	resp, err := c.RegisterDummy(context.Background(), &mautrix.ReqRegister{
		Username: localpart,
		Password: password,
	})
	if err != nil {
		i.t.Fatalf("register %s: %v", localpart, err)
	}
	c.UserID, c.AccessToken = resp.UserID, resp.AccessToken
	c.DeviceID = resp.DeviceID
	return c
}

// UserID is the full user ID of localpart on this server.
func (i *Instance) UserID(localpart string) id.UserID {
	return id.NewUserID(localpart, i.Cfg.ServerName)
}
