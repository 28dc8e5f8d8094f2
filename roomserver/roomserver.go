package roomserver

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"github.com/axon-hs/axon/internal/outbox"
	"log/slog"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// RoomServer implements api.RoomserverAPI.
type RoomServer struct {
	base *setup.Base
	db   *storage.DB
	out  publisher
	log  *slog.Logger
	// guests is nil in tests that build the roomserver alone.
	guests GuestAccounts

	serverName spec.ServerName
	keyID      gomatrixserverlib.KeyID
	key        ed25519.PrivateKey

	roomsMu sync.Mutex
	rooms   map[string]*room

	events    *lru[int64, *stored]
	snapshots *lru[int64, cachedSnapshot]
	// memberships: member event NID → membership (members_count.go).
	memberships *lru[int64, string]
	txns        *txnCache

	// outbox publishes outputs committed with their events.
	outbox *outbox.Outbox
	// answerAfter bounds how long a sender waits for its committed event
	// to reach the log before being answered anyway.
	answerAfter time.Duration

	// parts routes input by partition when several roomserver processes
	// share the rooms (partition.go); nil otherwise.
	parts *partitions

	workers sync.WaitGroup
	// idle hands a room's queue to a worker whose own room is drained
	// (input_workers.go); stopIdle ends those waiting, at Close.
	idle     chan *room
	stopIdle chan struct{}
	closeMu  sync.RWMutex
	closed   bool
}

var _ api.RoomserverAPI = (*RoomServer)(nil)

// publisher is the part of *stream.Stream the roomserver uses (tests and
// benchmarks may swap it).
type publisher interface {
	Publish(ctx context.Context, data []byte, headers map[string]string) (uint64, error)
}

// New opens the roomserver's storage and output stream; guests (the
// userapi) says who is a guest, for the guest_access rule.
func New(ctx context.Context, base *setup.Base, guests GuestAccounts) (*RoomServer, error) {
	db, err := base.OpenDB(ctx, "roomserver", storage.Migrations)
	if err != nil {
		return nil, err
	}
	out, err := base.Stream(ctx, stream.RoomEvents)
	if err != nil {
		return nil, fmt.Errorf("room events stream: %w", err)
	}
	r, err := newRoomServer(ctx, base, storage.New(db), out)
	if err != nil {
		return nil, err
	}
	r.guests = guests
	if base.Cfg.Partitioning.Instance != "" {
		if err := r.startPartitions(ctx); err != nil {
			r.Close()
			return nil, fmt.Errorf("roomserver partitions: %w", err)
		}
	}
	return r, nil
}

func newRoomServer(ctx context.Context, base *setup.Base, db *storage.DB, out publisher) (*RoomServer, error) {
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	r := &RoomServer{
		base:        base,
		answerAfter: 5 * time.Second,
		db:          db,
		out:         out,
		log:         log.With("component", "roomserver"),
		serverName:  spec.ServerName(base.Cfg.ServerName),
		keyID:       gomatrixserverlib.KeyID(base.Cfg.KeyID),
		key:         base.Cfg.SigningKey,
		rooms:       make(map[string]*room),
		idle:        make(chan *room),
		stopIdle:    make(chan struct{}),
		// ~1.4 KB per parsed event; every committed event goes in, so
		// 10,000 held ~14 MB of recent messages nobody reads again.
		events:      newLRU[int64, *stored](2048),
		snapshots:   newLRU[int64, cachedSnapshot](256),
		memberships: newLRU[int64, string](membershipCacheSize),
		// Recent client transactions, to answer a retry before it queues
		// (preTxnCheck; older ones are found when the write claims the
		// transaction): ~4 s at 2,000 events/s.
		txns: newTxnCache(8192),
	}
	r.outbox = outbox.New(db.DB, out, outboxConfig(r))
	// Outputs a previous run committed but did not publish go out before
	// any new input.
	if err := r.outbox.Start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Close stops the per-room workers after they finish their current event.
func (r *RoomServer) Close() {
	r.parts.close()
	r.closeMu.Lock()
	first := !r.closed
	r.closed = true
	r.closeMu.Unlock()
	r.workers.Wait()
	if first {
		close(r.stopIdle)
	}
	r.outbox.Close()
}
