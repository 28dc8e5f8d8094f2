package roomserver

import (
	"context"
	"crypto/ed25519"
	"fmt"
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

	serverName spec.ServerName
	keyID      gomatrixserverlib.KeyID
	key        ed25519.PrivateKey

	roomsMu sync.Mutex
	rooms   map[string]*room

	events    *lru[int64, *stored]
	snapshots *lru[int64, cachedSnapshot]
	txns      *lru[txnKey, string]

	// outboxAcked carries outbox rows the log has acknowledged to the
	// cleaner goroutine; outboxDone closes when it has finished.
	outboxAcked chan int64
	outboxDone  chan struct{}
	closeOnce   sync.Once
	// answerAfter bounds how long a sender waits for its committed event
	// to reach the log before being answered anyway.
	answerAfter time.Duration

	workers sync.WaitGroup
	closeMu sync.RWMutex
	closed  bool
}

var _ api.RoomserverAPI = (*RoomServer)(nil)

// publisher is the part of *stream.Stream the roomserver uses (tests and
// benchmarks may swap it).
type publisher interface {
	Publish(ctx context.Context, data []byte, headers map[string]string) (uint64, error)
}

// New opens the roomserver's storage and output stream.
func New(ctx context.Context, base *setup.Base) (*RoomServer, error) {
	db, err := base.OpenDB(ctx, "roomserver", storage.Migrations)
	if err != nil {
		return nil, err
	}
	out, err := base.Stream(ctx, stream.RoomEvents)
	if err != nil {
		return nil, fmt.Errorf("room events stream: %w", err)
	}
	r := newRoomServer(base, storage.New(db), out)
	if err := r.replayOutbox(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func newRoomServer(base *setup.Base, db *storage.DB, out publisher) *RoomServer {
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	r := &RoomServer{
		base:        base,
		outboxAcked: make(chan int64, 4096),
		outboxDone:  make(chan struct{}),
		answerAfter: 5 * time.Second,
		db:          db,
		out:         out,
		log:         log.With("component", "roomserver"),
		serverName:  spec.ServerName(base.Cfg.ServerName),
		keyID:       gomatrixserverlib.KeyID(base.Cfg.KeyID),
		key:         base.Cfg.SigningKey,
		rooms:       make(map[string]*room),
		events:      newLRU[int64, *stored](10000),
		snapshots:   newLRU[int64, cachedSnapshot](256),
		txns:        newLRU[txnKey, string](20000),
	}
	go r.cleanOutbox()
	return r
}

// Close stops the per-room workers after they finish their current event.
func (r *RoomServer) Close() {
	r.closeMu.Lock()
	r.closed = true
	r.closeMu.Unlock()
	r.workers.Wait()
	r.closeOnce.Do(func() {
		close(r.outboxAcked)
		<-r.outboxDone
	})
}

func (r *RoomServer) isClosed() bool {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	return r.closed
}
