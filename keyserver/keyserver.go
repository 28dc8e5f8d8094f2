package keyserver

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/uia"
	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Remote asks other servers for keys (federation /user/keys/query and
// /user/keys/claim). federationapi provides it.
type Remote interface {
	QueryRemoteKeys(ctx context.Context, server string, deviceKeys map[string][]string) (*api.QueryKeysResponse, error)
	ClaimRemoteKeys(ctx context.Context, server string, oneTimeKeys map[string]map[string]string) (*api.ClaimKeysResponse, error)
}

// Keyserver implements api.KeyserverAPI.
type Keyserver struct {
	serverName string
	log        *slog.Logger
	db         *storage.Database
	users      uapi.UserAPI
	updates    *stream.Stream
	uia        *uia.Authenticator

	remoteMu sync.RWMutex
	remote   Remote

	// userLocks serialise one user's key changes with their publication,
	// so the stream carries each user's stream IDs in order.
	userLocks [64]sync.Mutex
}

var _ api.KeyserverAPI = (*Keyserver)(nil)

// New opens the keyserver's storage and, when base has a client router,
// registers its routes.
func New(ctx context.Context, base *setup.Base, users uapi.UserAPI) (*Keyserver, error) {
	db, err := base.OpenDB(ctx, "keyserver", storage.Migrations)
	if err != nil {
		return nil, err
	}
	st, err := base.Stream(ctx, stream.DeviceListUpdates)
	if err != nil {
		return nil, err
	}
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	k := &Keyserver{
		serverName: base.Cfg.ServerName,
		log:        log.With("component", "keyserver"),
		db:         storage.New(db),
		users:      users,
		updates:    st,
		uia: uia.New(uia.Config{
			ServerName: base.Cfg.ServerName, Passwords: users, Log: log,
			RateLimit: httputil.NewRateLimiter(base.Cfg.RateLimits, base.Cfg.RateLimits.Login).Check,
		}),
	}
	if base.Client != nil {
		k.registerRoutes(base)
	}
	return k, nil
}

// Close releases nothing yet: the database is closed by setup.Base. It
// exists so the server closes every component the same way.
func (k *Keyserver) Close() {}

// SetRemote installs the federation hook for users of other servers.
func (k *Keyserver) SetRemote(r Remote) {
	k.remoteMu.Lock()
	k.remote = r
	k.remoteMu.Unlock()
}

func (k *Keyserver) getRemote() Remote {
	k.remoteMu.RLock()
	defer k.remoteMu.RUnlock()
	return k.remote
}

// lockUser returns the held lock for userID's key changes.
func (k *Keyserver) lockUser(userID string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(userID))
	mu := &k.userLocks[h.Sum32()%uint32(len(k.userLocks))]
	mu.Lock()
	return mu
}

// isLocal reports whether userID is of this server.
func (k *Keyserver) isLocal(userID string) bool {
	return serverOf(userID) == k.serverName
}

// serverOf returns the server name of a user ID ("" when malformed).
func serverOf(userID string) string {
	if !strings.HasPrefix(userID, "@") {
		return ""
	}
	_, server, ok := strings.Cut(userID[1:], ":")
	if !ok {
		return ""
	}
	return server
}

// publish announces device list changes. The keys are already committed,
// so a failure is returned to the caller (who may retry) and logged.
func (k *Keyserver) publish(ctx context.Context, updates ...api.DeviceListUpdate) error {
	for _, u := range updates {
		if u.StreamID > 1 && u.PrevID == nil {
			u.PrevID = []int64{u.StreamID - 1}
		}
		data, err := json.Marshal(u)
		if err != nil {
			return err
		}
		if _, err := k.updates.Publish(ctx, data, nil); err != nil {
			k.log.Error("publish device list update", "user_id", u.UserID, "error", err)
			return fmt.Errorf("publish device list update: %w", err)
		}
	}
	return nil
}
