package userapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/userapi/api"
)

var natsPrefix atomic.Int64

// forEachBackend runs fn with a UserAPI on a fresh database of each
// engine and an embedded NATS.
func forEachBackend(t *testing.T, fn func(t *testing.T, u *UserAPI)) {
	forEachBackendOnBus(t, func(t *testing.T) stream.Config {
		return stream.Config{StoreDir: t.TempDir(), InMemory: true}
	}, fn)
}

// forEachBackendOnBus is forEachBackend on the log busConfig returns.
func forEachBackendOnBus(t *testing.T, busConfig func(t *testing.T) stream.Config, fn func(t *testing.T, u *UserAPI)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			cfg := config.Defaults()
			cfg.ServerName = "test.local"
			cfg.DataDir = t.TempDir()
			cfg.Database.Default = b.NewDSN(t)
			if b.Name == "sqlite" {
				cfg.Database.Default = "sqlite:" + cfg.Database.Default
			}
			busCfg := busConfig(t)
			busCfg.Prefix = fmt.Sprintf("uapitest%d_%d", os.Getpid(), natsPrefix.Add(1))
			bus, err := stream.Connect(ctx, busCfg)
			if err != nil {
				t.Fatal(err)
			}
			base := &setup.Base{Cfg: cfg, Bus: bus, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			u, err := New(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				u.Close()
				bus.Close()
				base.CloseDatabases()
			})
			fn(t, u)
		})
	}
}

func TestAccountUserAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, u *UserAPI) {
		ctx := context.Background()
		if _, err := u.CreateAccount(ctx, "Bad Name", "password123", false); !errors.Is(err, api.ErrInvalidUsername) {
			t.Fatalf("invalid name: %v", err)
		}
		userID, err := u.CreateAccount(ctx, "alice", "password123", false)
		if err != nil || userID != "@alice:test.local" {
			t.Fatalf("create: %v %s", err, userID)
		}
		if _, err := u.CreateAccount(ctx, "alice", "x", false); !errors.Is(err, api.ErrUserInUse) {
			t.Fatalf("duplicate: %v", err)
		}
		if err := u.CheckPassword(ctx, userID, "password123"); err != nil {
			t.Fatal(err)
		}
		if err := u.CheckPassword(ctx, userID, "wrong"); !errors.Is(err, api.ErrInvalidPassword) {
			t.Fatalf("wrong password: %v", err)
		}
		long := strings.Repeat("long password ", 20) // > 72 bytes
		if err := u.SetPassword(ctx, userID, long, false, ""); err != nil {
			t.Fatal(err)
		}
		if err := u.CheckPassword(ctx, userID, long); err != nil {
			t.Fatalf("long password: %v", err)
		}
		if err := u.CheckPassword(ctx, userID, long[:72]); !errors.Is(err, api.ErrInvalidPassword) {
			t.Fatalf("truncated long password accepted: %v", err)
		}
		if name, _, err := u.QueryProfile(ctx, userID); err != nil || name != "alice" {
			t.Fatalf("profile: %v %q", err, name)
		}
		if _, _, err := u.QueryProfile(ctx, "@alice:elsewhere"); !errors.Is(err, api.ErrNotFound) {
			t.Fatalf("remote profile: %v", err)
		}

		// Tokens: served from the cache, revoked at once on device deletion.
		s1, err := u.Login(ctx, api.LoginRequest{UserID: string(userID), DisplayName: "one", IP: "10.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		s2, err := u.Login(ctx, api.LoginRequest{UserID: string(userID), DisplayName: "two"})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "192.0.2.7:1234"
		for range 3 {
			dev, merr := u.AuthenticateToken(req, s1.AccessToken)
			if merr != nil || matrixid.UserID(dev.UserID) != userID || dev.ID != s1.DeviceID || dev.DisplayName != "one" {
				t.Fatalf("auth: %v %+v", merr, dev)
			}
		}
		if _, merr := u.AuthenticateToken(req, s2.AccessToken); merr != nil {
			t.Fatal(merr)
		}
		if _, merr := u.AuthenticateToken(req, "axa_unknown"); merr == nil || merr.ErrCode != "M_UNKNOWN_TOKEN" || merr.SoftLogout {
			t.Fatalf("unknown token: %+v", merr)
		}
		if err := u.SetDeviceDisplayName(ctx, userID, s1.DeviceID, "renamed"); err != nil {
			t.Fatal(err)
		}
		if dev, err := u.AuthenticateToken(req, s1.AccessToken); err != nil || dev.DisplayName != "renamed" {
			t.Fatalf("cached device not refreshed after rename: %+v", dev)
		}
		// Last seen shows before it is written, and after.
		devs, err := u.QueryDevices(ctx, userID)
		if err != nil || len(devs) != 2 {
			t.Fatalf("devices: %v %+v", err, devs)
		}
		for _, d := range devs {
			if d.DeviceID == s1.DeviceID && d.LastSeenIP != "192.0.2.7" {
				t.Fatalf("pending last seen not shown: %+v", d)
			}
		}
		u.flushLastSeen()
		if d, err := u.QueryDevice(ctx, userID, s1.DeviceID); err != nil || d.LastSeenIP != "192.0.2.7" || d.LastSeenTS == 0 {
			t.Fatalf("last seen after flush: %+v", d)
		}
		if err := u.DeleteDevices(ctx, userID, []string{s1.DeviceID}); err != nil {
			t.Fatal(err)
		}
		if _, merr := u.AuthenticateToken(req, s1.AccessToken); merr == nil {
			t.Fatal("token of deleted device still valid")
		}
		if err := u.DeactivateAccount(ctx, userID, false); err != nil {
			t.Fatal(err)
		}
		if _, merr := u.AuthenticateToken(req, s2.AccessToken); merr == nil {
			t.Fatal("token of deactivated account still valid")
		}
		if _, err := u.Login(ctx, api.LoginRequest{UserID: string(userID)}); !errors.Is(err, api.ErrUserDeactivated) {
			t.Fatalf("login deactivated: %v", err)
		}
	})
}

// TestAccountDataPublished: every change reaches the account_data stream
// in order.
func TestAccountDataPublished(t *testing.T) {
	forEachBackend(t, func(t *testing.T, u *UserAPI) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		userID, err := u.CreateAccount(ctx, "bob", "password123", false)
		if err != nil {
			t.Fatal(err)
		}
		s, err := u.base.Stream(ctx, stream.AccountData)
		if err != nil {
			t.Fatal(err)
		}
		got := consumeAccountData(ctx, t, s)
		if err := u.SetAccountData(ctx, userID, "", "m.direct", json.RawMessage(`{"a": 1}`)); err != nil {
			t.Fatal(err)
		}
		if err := u.SetAccountData(ctx, userID, "!r:test.local", "m.tag", json.RawMessage(`{"tags":{}}`)); err != nil {
			t.Fatal(err)
		}
		for i, want := range []api.OutputAccountData{
			{UserID: string(userID), Type: "m.direct", Content: json.RawMessage(`{"a":1}`)},
			{UserID: string(userID), RoomID: "!r:test.local", Type: "m.tag", Content: json.RawMessage(`{"tags":{}}`)},
		} {
			select {
			case out := <-got:
				if out.UserID != want.UserID || out.RoomID != want.RoomID || out.Type != want.Type || string(out.Content) != string(want.Content) {
					t.Fatalf("message %d: %+v, want %+v", i, out, want)
				}
			case <-ctx.Done():
				t.Fatalf("message %d not published", i)
			}
		}
		all, err := u.AllAccountData(ctx, userID)
		if err != nil || string(all.Global["m.direct"]) != `{"a": 1}` || all.Rooms["!r:test.local"] == nil {
			t.Fatalf("all account data: %v %+v", err, all)
		}
	})
}

// TestAccountTokenCacheRace: a lookup that began before an invalidation
// must not fill the cache with the revoked token.
func TestAccountTokenCacheRace(t *testing.T) {
	c := newTokenCache(10)
	gen := c.generation()
	c.invalidateDevice("alice", "DEV")
	c.put("h1", &cachedToken{localpart: "alice", device: api.Device{ID: "DEV"}, loadedAt: time.Now()}, gen)
	if c.get("h1") != nil {
		t.Fatal("stale lookup filled the cache")
	}
	c.put("h1", &cachedToken{localpart: "alice", device: api.Device{ID: "DEV"}, loadedAt: time.Now()}, c.generation())
	c.put("h2", &cachedToken{localpart: "alice", device: api.Device{ID: "KEEP"}, loadedAt: time.Now()}, c.generation())
	c.invalidateUserExcept("alice", "KEEP")
	if c.get("h1") != nil || c.get("h2") == nil {
		t.Fatal("invalidateUserExcept")
	}
	for i := range 50 {
		c.put(fmt.Sprint(i), &cachedToken{localpart: fmt.Sprint("u", i), loadedAt: time.Now()}, c.generation())
	}
	if len(c.byHash) > 10 {
		t.Fatalf("cache grew to %d entries, cap 10", len(c.byHash))
	}
}

// consumeAccountData delivers the account_data stream's messages from its
// start until ctx ends.
func consumeAccountData(ctx context.Context, t *testing.T, s *stream.Stream) <-chan api.OutputAccountData {
	t.Helper()
	got := make(chan api.OutputAccountData, 10)
	if _, err := s.Consume(ctx, "test", 0, func(_ context.Context, m stream.Message, cause error) error {
		t.Errorf("message %d dead-lettered: %v", m.Seq, cause)
		return nil
	}, func(_ context.Context, m stream.Message) error {
		var out api.OutputAccountData
		if err := json.Unmarshal(m.Data, &out); err != nil {
			return err
		}
		got <- out
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}
