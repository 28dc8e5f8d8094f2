package pushserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/pushserver/storage"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

// NotificationSource is what the pushserver reads from syncapi.
type NotificationSource interface {
	// PushNotificationsAfter lists a user's notifications after position
	// after, oldest first.
	PushNotificationsAfter(ctx context.Context, userID string, after int64, limit int) ([]syncapi.PushNotification, error)
	// PushCounts are the user's badge counts.
	PushCounts(ctx context.Context, userID string) (syncapi.PushCounts, error)
	// PushPosition is the newest position: where a new pusher starts.
	PushPosition(ctx context.Context) (int64, error)
}

// PushServer serves the pusher routes and delivers notifications.
type PushServer struct {
	base *setup.Base
	log  *slog.Logger
	db   *storage.DB
	src  NotificationSource
	del  *deliverer

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Wakeups carries syncapi's "new notifications" / "user read" signals to
// the pushserver. It exists before both (syncapi is built first and the
// pushserver reads from it); signals before the pushserver starts are
// dropped, which loses nothing: on start every pusher catches up from its
// stored position.
type Wakeups struct {
	to atomic.Pointer[PushServer]
}

// NewWakeups returns signals for New to take over.
func NewWakeups() *Wakeups { return &Wakeups{} }

// Notified wakes the pushers of users with new notifications.
func (w *Wakeups) Notified(userIDs []string) {
	if p := w.to.Load(); p != nil {
		p.del.wakeNotified(userIDs)
	}
}

// Read sends the user's pushers a badge update.
func (w *Wakeups) Read(userID string) {
	if p := w.to.Load(); p != nil {
		p.del.wake(userID, true)
	}
}

// New opens the pushserver's database, starts delivery for every stored
// pusher (catching up on what arrived while it was down), takes over
// wake's signals and registers its routes.
func New(ctx context.Context, base *setup.Base, src NotificationSource, wake *Wakeups) (*PushServer, error) {
	sdb, err := base.OpenDB(ctx, "pushserver", storage.Migrations)
	if err != nil {
		return nil, err
	}
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	p := &PushServer{base: base, log: log.With("component", "pushserver"), db: storage.New(sdb), src: src}
	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.del = newDeliverer(runCtx, p, newGatewayClient(base.Cfg.Push.AllowedPrivateNetworks))
	// Take the signals before loading: a wake-up dropped before a pusher
	// is added came after a commit its first read will see.
	wake.to.Store(p)
	pushers, err := p.db.AllPushers(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("pushserver: load pushers: %w", err)
	}
	for i := range pushers {
		p.del.add(pushers[i])
	}
	if err := p.startDeviceConsumer(ctx, runCtx); err != nil {
		cancel()
		return nil, err
	}
	if base.Client != nil {
		p.registerRoutes()
	}
	return p, nil
}

// Close stops delivery (in-flight requests are cancelled; positions are
// stored, so the next start resumes).
func (p *PushServer) Close() {
	p.once.Do(func() {
		p.cancel()
		p.del.wait()
		p.wg.Wait()
		p.del.forget()
	})
}

// httpClient is what delivery POSTs with (a test may swap it).
type httpClient interface {
	Do(req *http.Request) (*http.Response, error)
}
