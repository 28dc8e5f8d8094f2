package userapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/internal/outbox"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// UserAPI implements api.UserAPI and httputil.Authenticator.
type UserAPI struct {
	base       *setup.Base
	serverName string
	db         *storage.DB
	// accountData carries account data changes to their stream; outbox
	// carries device deletions to the user_devices stream.
	accountData *outbox.Outbox
	outbox      *outbox.Outbox
	tokens      *tokenCache
	lastSeen    *lastSeenTracker
	// userLocks serialise a user's account data writes with their
	// publication, so the stream order matches the database order.
	userLocks [64]sync.Mutex

	stop chan struct{}
	done chan struct{}
	// unshare stops sharing token invalidations (several processes).
	unshare func()
}

var _ api.UserAPI = (*UserAPI)(nil)

// New opens the userapi's storage and starts the last-seen writer.
func New(ctx context.Context, base *setup.Base) (*UserAPI, error) {
	db, err := base.OpenDB(ctx, "userapi", storage.Migrations)
	if err != nil {
		return nil, err
	}
	// Without a log (the create-account command, which must not start a
	// second embedded NATS beside a running server) account data changes
	// and device deletions wait in the outboxes for a process that has it.
	var accountDataOut, devicesOut outbox.Publisher
	if base.Bus != nil {
		if accountDataOut, err = base.Stream(ctx, stream.AccountData); err != nil {
			return nil, err
		}
		if devicesOut, err = base.Stream(ctx, stream.UserDevices); err != nil {
			return nil, err
		}
	}
	u := &UserAPI{
		base:       base,
		serverName: base.Cfg.ServerName,
		db:         storage.New(db),
		accountData: outbox.New(db, accountDataOut, outbox.Config{Table: storage.AccountDataOutboxTable, KeyHeader: "user_id",
			MsgIDPrefix: "axon-uad-", Log: base.Log, Retain: outbox.DefaultRetain}),
		outbox: outbox.New(db, devicesOut, outbox.Config{Table: storage.OutboxTable, KeyHeader: "user_id",
			MsgIDPrefix: "axon-ua-", Log: base.Log, Retain: outbox.DefaultRetain}),
		tokens:   newTokenCache(100_000),
		lastSeen: newLastSeenTracker(),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if c := base.Cfg.Registration.PasswordHashCost; c > 0 {
		bcryptCost.Store(int32(c))
	}
	if err := u.db.SeedRegistrationTokens(ctx, base.Cfg.Registration.Tokens); err != nil {
		return nil, fmt.Errorf("seed registration tokens: %w", err)
	}
	for _, o := range []*outbox.Outbox{u.accountData, u.outbox} {
		if err := o.Start(ctx); err != nil {
			return nil, err
		}
	}
	if base.Bus != nil && len(base.Cfg.Components) > 0 {
		// Components in several processes: userapis may run side by side.
		if u.unshare, err = u.shareTokenInvalidations(); err != nil {
			u.accountData.Close()
			u.outbox.Close()
			return nil, err
		}
	}
	go u.flushLastSeenLoop(5 * time.Second)
	return u, nil
}

// Close stops background work, writing pending last-seen data first.
func (u *UserAPI) Close() {
	select {
	case <-u.stop:
		return
	default:
	}
	close(u.stop)
	<-u.done
	if u.unshare != nil {
		u.unshare()
	}
	u.accountData.Close()
	u.outbox.Close()
}

// userID builds a local user ID.
func (u *UserAPI) userID(localpart string) string {
	return "@" + localpart + ":" + u.serverName
}

// localpart returns the localpart of a local user ID, or ErrNotFound for
// malformed and remote IDs.
func (u *UserAPI) localpart(userID string) (string, error) {
	if !strings.HasPrefix(userID, "@") {
		return "", fmt.Errorf("%w: %q is not a user ID", api.ErrNotFound, userID)
	}
	local, server, ok := strings.Cut(userID[1:], ":")
	if !ok || local == "" || server != u.serverName {
		return "", fmt.Errorf("%w: %q is not a local user", api.ErrNotFound, userID)
	}
	return local, nil
}

// account returns a local user's account or api.ErrNotFound.
func (u *UserAPI) account(ctx context.Context, userID string) (*storage.Account, error) {
	local, err := u.localpart(userID)
	if err != nil {
		return nil, err
	}
	acc, err := u.db.Account(ctx, local)
	if err == istorage.ErrNotFound {
		return nil, fmt.Errorf("%w: no user %s", api.ErrNotFound, userID)
	}
	return acc, err
}

func nowMs() int64 { return time.Now().UnixMilli() }
