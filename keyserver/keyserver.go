package keyserver

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/outbox"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/writer"
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
	// when it has stopped (one keyserver process).
	stopConsumer context.CancelFunc
	consumerDone <-chan struct{}
	// writer, with several keyserver processes (partitioning.instance),
	// runs the consumer in the one holding the writer lease.
	writer *writer.Writer

	remoteMu sync.RWMutex
	remote   Remote

	// userLocks serialise one user's key changes with their publication,
	// so the stream carries each user's stream IDs in order.
	userLocks [64]sync.Mutex

	// counts keeps key counts when this is the only keyserver (keys_counts.go).
	counts *keyCountsCache
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
	if base.Cfg.Partitioning.Instance == "" {
		k.counts = newKeyCountsCache()
	}
	if err := k.outbox.Start(ctx); err != nil {
		return nil, err
	}
	if err := k.startConsuming(ctx, base); err != nil {
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
	if k.writer != nil {
		k.writer.Close()
	}
	if k.stopConsumer != nil {
		k.stopConsumer()
		<-k.consumerDone
		k.stopConsumer = nil
	}
	k.outbox.Close()
}

// startConsuming runs the user_devices consumer here, or, with several
// keyserver processes, wherever the writer lease is (docs/scaling.md):
// every process serves requests and publishes what it staged itself.
func (k *Keyserver) startConsuming(ctx context.Context, base *setup.Base) error {
	cfg := base.Cfg.Partitioning
	if cfg.Instance == "" {
		runCtx, cancel := context.WithCancel(context.Background())
		done, err := k.consumeDeviceChanges(ctx, runCtx, base)
		if err != nil {
			cancel()
			return err
		}
		k.stopConsumer, k.consumerDone = cancel, done
		return nil
	}
	k.writer = writer.New(k.db.DB, k.db.Fence, writer.Config{Component: "keyserver", Instance: cfg.Instance,
		TTL: cfg.LeaseTTL, Log: k.log}, func(ctx, runCtx context.Context) ([]<-chan struct{}, error) {
		// Rows a stopped process staged and did not publish (the
		// stream drops those a live one publishes too: same ID).
		if _, err := k.outbox.Adopt(ctx, func(string) bool { return true }); err != nil {
			return nil, fmt.Errorf("keyserver outbox: %w", err)
		}
		done, err := k.consumeDeviceChanges(ctx, runCtx, base)
		if err != nil {
			return nil, err
		}
		return []<-chan struct{}{done}, nil
	})
	return k.writer.Start(ctx, base.Bus)
}

// Writer reports whether this process runs the keyserver's consumer
// (always with one keyserver process).
func (k *Keyserver) Writer() bool { return k.writer == nil || k.writer.Held() }

// Leases is the writer lease manager (nil with one keyserver process).
func (k *Keyserver) Leases() *lease.Manager {
	if k.writer == nil {
		return nil
	}
	return k.writer.Leases()
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
