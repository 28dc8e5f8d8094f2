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
	// del delivers: always with one pushserver; with syncapi replicas
	// only in the one holding the pushserver writer lease (nil elsewhere).
	del     atomic.Pointer[deliverer]
	gw      *gatewayClient
	replica *replica // nil with one pushserver
	// adds counts pushers taken on by delivery, across deliverers: what
	// marks a listing (Wakeups.PusherUsers).
	adds atomic.Uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Wakeups carries syncapi's "new notifications" / "user read" signals to
// the pushserver. It exists before both (syncapi is built first and the
// pushserver reads from it); signals before the pushserver starts are
// dropped. With one pushserver that loses nothing: on start every pusher
// catches up from its stored position. With syncapi replicas delivery may
// already run in another process, which does not: a drop is noted, and
// once this process signals it asks the deliverer to catch every pusher
// up (signalMsg.CatchUp).
type Wakeups struct {
	to       atomic.Pointer[PushServer]
	replicas bool
	missed   atomic.Bool // a signal dropped before New (replicas)
}

// NewWakeups returns signals for New to take over; replicas: this is one
// of several syncapi processes (partitioning instance set).
func NewWakeups(replicas bool) *Wakeups { return &Wakeups{replicas: replicas} }

// target is the pushserver to signal, nil (the drop noted) before New.
func (w *Wakeups) target() *PushServer {
	p := w.to.Load()
	if p == nil && w.replicas {
		w.missed.Store(true)
	}
	return p
}

// Notified wakes the pushers of users with new notifications, after the
// commit that stored them; listed is the PusherUsers listing they came
// from (syncapi.NoPusherListing when all were named).
func (w *Wakeups) Notified(userIDs []string, listed uint64) {
	p := w.target()
	if p == nil {
		return
	}
	m := signalMsg{Notified: userIDs}
	if listed != syncapi.NoPusherListing {
		m.Listing = &listed
	}
	p.signal(m)
}

// PusherUsers lists the users with a pusher for whom member holds (ok
// false with syncapi replicas: delivery may run in another process), and
// marks the listing for Notified: a pusher added after it is woken
// whatever the users named, since the listing (taken before the commit)
// missed it and its first read may have come before that commit. Before
// delivery starts nothing is listed, and every pusher is added later.
func (w *Wakeups) PusherUsers(member func(string) bool) ([]string, uint64, bool) {
	if w.replicas {
		return nil, syncapi.NoPusherListing, false
	}
	p := w.to.Load()
	if p == nil {
		return nil, 0, true
	}
	del := p.del.Load()
	if del == nil {
		return nil, p.adds.Load(), true
	}
	users, listed := del.pusherUsers(member)
	return users, listed, true
}

// Read sends the user's pushers a badge update.
func (w *Wakeups) Read(userID string) {
	if p := w.target(); p != nil {
		p.signal(signalMsg{Read: userID})
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
	p := &PushServer{base: base, log: log.With("component", "pushserver"), db: storage.New(sdb), src: src,
		gw: newGatewayClient(base.Cfg.Push.AllowedPrivateNetworks)}
	if cfg := base.Cfg.Partitioning; cfg.Instance != "" {
		// One of several syncapi processes: delivery runs where the
		// pushserver writer lease is (replicas.go). Signals are taken once
		// they can be published; any dropped until then, the deliverer
		// catches every pusher up after (their commits came before).
		if err := p.startReplica(ctx); err != nil {
			return nil, err
		}
		wake.to.Store(p)
		if wake.missed.Swap(false) {
			p.signal(signalMsg{CatchUp: true})
		}
	} else {
		runCtx, cancel := context.WithCancel(context.Background())
		p.cancel = cancel
		// Take the signals before loading (startDelivery).
		wake.to.Store(p)
		done, err := p.startDelivery(ctx, runCtx)
		if err != nil {
			cancel()
			for _, d := range done {
				<-d
			}
			return nil, err
		}
		p.wg.Add(len(done))
		for _, d := range done {
			go func() { defer p.wg.Done(); <-d }()
		}
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
		if p.replica != nil {
			p.replica.close()
		}
		if p.cancel != nil {
			p.cancel()
		}
		p.wg.Wait()
	})
}

// startDelivery starts delivery for every stored pusher (catching up on
// what arrived meanwhile) and the user_devices consumer, until runCtx
// ends; the channels close once they have stopped.
func (p *PushServer) startDelivery(ctx, runCtx context.Context) ([]<-chan struct{}, error) {
	del := newDeliverer(runCtx, p, p.gw)
	// Take the signals before loading: a wake-up dropped before a pusher
	// is added came after a commit its first read will see.
	p.del.Store(del)
	delDone := make(chan struct{})
	go func() {
		defer close(delDone)
		<-runCtx.Done()
		del.wait()
		p.del.CompareAndSwap(del, nil)
		del.forget()
	}()
	dones := []<-chan struct{}{delDone}
	pushers, err := p.db.AllPushers(ctx)
	if err != nil {
		return dones, fmt.Errorf("pushserver: load pushers: %w", err)
	}
	for i := range pushers {
		del.add(pushers[i])
	}
	done, err := p.startDeviceConsumer(ctx, runCtx)
	if err != nil {
		return dones, err
	}
	return append(dones, done), nil
}

// httpClient is what delivery POSTs with (a test may swap it).
type httpClient interface {
	Do(req *http.Request) (*http.Response, error)
}
