package keyserver

import (
	"context"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/outbox"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
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
	db         *storage.DB
	users      Users
	outbox     *outbox.Outbox
	sendWait   time.Duration
	// stopConsumer ends the user_devices consumer; consumerDone closes
	// when it has stopped.
	stopConsumer context.CancelFunc
	consumerDone <-chan struct{}

	remoteMu sync.RWMutex
	remote   Remote

	// userLocks serialise one user's key changes with their publication,
	// so the stream carries each user's stream IDs in order.
	userLocks [64]sync.Mutex
}

var _ api.KeyserverAPI = (*Keyserver)(nil)

// New opens the keyserver's storage and, when base has a client router,
// registers its routes.
func New(ctx context.Context, base *setup.Base, users Users) (*Keyserver, error) {
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
		sendWait:   defaultSendWait,
		outbox: outbox.New(db, st, outbox.Config{Table: storage.OutboxTable, KeyHeader: "user_id",
			MsgIDPrefix: "axon-ks-", Log: log.With("component", "keyserver"), Retain: outbox.DefaultRetain}),
	}
	if err := k.outbox.Start(ctx); err != nil {
		return nil, err
	}
	if err := k.consumeDeviceChanges(ctx, base); err != nil {
		k.outbox.Close()
		return nil, err
	}
	if base.Client != nil {
		RegisterRoutes(base, k, users)
	}
	return k, nil
}

// Close stops consuming and publishing (what is unpublished stays in the
// outbox for the next start). The database is closed by setup.Base.
func (k *Keyserver) Close() {
	if k.stopConsumer != nil {
		k.stopConsumer()
		<-k.consumerDone
		k.stopConsumer = nil
	}
	k.outbox.Close()
}

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
	mu := &k.userLocks[k.lockIndex(userID)]
	mu.Lock()
	return mu
}

// lockUsers takes the locks of several users (in index order, so two
// callers cannot deadlock) and returns their release.
func (k *Keyserver) lockUsers(userIDs []string) (unlock func()) {
	idx := make([]int, 0, len(userIDs))
	for _, u := range userIDs {
		idx = append(idx, k.lockIndex(u))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		k.userLocks[i].Lock()
	}
	return func() {
		for _, i := range idx {
			k.userLocks[i].Unlock()
		}
	}
}

func (k *Keyserver) lockIndex(userID string) int {
	h := fnv.New32a()
	h.Write([]byte(userID))
	return int(h.Sum32() % uint32(len(k.userLocks)))
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
