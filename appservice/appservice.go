package appservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/axon-hs/axon/appservice/api"
	"github.com/axon-hs/axon/appservice/storage"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/writer"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// UserQuerier is what the component needs of the userapi.
type UserQuerier interface {
	CreateAccount(ctx context.Context, localpart, password string, admin bool) (matrixid.UserID, error)
	QueryDevices(ctx context.Context, userID matrixid.UserID) ([]uapi.DeviceInfo, error)
}

// Component pushes to and queries the registered application services.
type Component struct {
	cfg      *config.Config
	log      *slog.Logger
	db       *storage.DB
	users    UserQuerier
	keys     KeyCounter
	interest *interest
	typing   typingRooms
	http     *http.Client
	// senders, one per appservice with a URL, by ID.
	senders map[string]*sender
	clients map[string]*asClient

	stop context.CancelFunc
	wg   sync.WaitGroup
	// writer, with several appservice processes (partitioning.instance),
	// runs the consumers and senders in the one holding the writer lease.
	writer *writer.Writer
}

var _ api.AppserviceAPI = (*Component)(nil)

// New opens the component's database, makes sure each appservice's
// sender user exists and starts consuming and pushing. keys (may be nil)
// gives MSC3202 one-time key counts.
func New(ctx context.Context, base *setup.Base, users UserQuerier, rooms roomQuerier, keys KeyCounter) (*Component, error) {
	sqlDB, err := base.OpenDB(ctx, "appservice", storage.Migrations)
	if err != nil {
		return nil, err
	}
	c := &Component{
		cfg: base.Cfg, log: base.Log.With("component", "appservice"), db: storage.New(sqlDB), users: users, keys: keys,
		// Per-call timeouts are set on each request's context.
		http:    &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, Proxy: http.ProxyFromEnvironment}},
		senders: map[string]*sender{}, clients: map[string]*asClient{},
	}
	var pushed []*config.AppService
	for _, reg := range base.Cfg.AppServices {
		c.clients[reg.ID] = &asClient{reg: reg, http: c.http}
		if reg.HasURL() {
			pushed = append(pushed, reg)
		}
	}
	c.interest = newInterest(pushed, base.Cfg.ServerName, rooms)
	for _, w := range base.Cfg.AppServiceWarnings {
		c.log.Warn("application service registration", "warning", w)
	}
	c.ensureSenders(ctx)
	runCtx, stop := context.WithCancel(context.Background())
	c.stop = stop
	if len(pushed) == 0 {
		if err := c.db.ForgetPositions(ctx); err != nil {
			stop()
			return nil, err
		}
		return c, nil
	}
	// Senders exist before the consumers that wake them.
	for _, reg := range pushed {
		c.senders[reg.ID] = newSender(reg, c.db, c.clients[reg.ID], c.keys, c.log, sharedMetrics)
	}
	if cfg := base.Cfg.Partitioning; cfg.Instance != "" {
		// Every process serves the appservice API; the queues are filled
		// and delivered where the writer lease is (docs/scaling.md).
		stop()
		c.writer = writer.New(c.db.DB, c.db.Fence, writer.Config{Component: "appservice", Instance: cfg.Instance,
			TTL: cfg.LeaseTTL, Log: c.log}, func(ctx, runCtx context.Context) ([]<-chan struct{}, error) {
			return c.startDelivery(ctx, runCtx, base, pushed)
		})
		for _, s := range c.senders {
			s.fenced = c.writer.Fenced
		}
		if err := c.writer.Start(ctx, base.Bus); err != nil {
			return nil, err
		}
		return c, nil
	}
	done, err := c.startDelivery(ctx, runCtx, base, pushed)
	for _, d := range done {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); <-d }()
	}
	if err != nil {
		stop()
		c.wg.Wait()
		return nil, err
	}
	return c, nil
}

// startDelivery starts the consumers filling the queues and the senders
// delivering them, until runCtx ends (the channels close once stopped).
func (c *Component) startDelivery(ctx, runCtx context.Context, base *setup.Base, pushed []*config.AppService) ([]<-chan struct{}, error) {
	dones, err := c.startConsumers(ctx, runCtx, base, pushed)
	if err != nil {
		return dones, err
	}
	for _, s := range c.senders {
		done := make(chan struct{})
		go func() { defer close(done); s.run(runCtx) }()
		dones = append(dones, done)
	}
	return dones, nil
}

// Writer reports whether this process fills and delivers the queues
// (always with one appservice process).
func (c *Component) Writer() bool { return c.writer == nil || c.writer.Held() }

// Leases is the writer lease manager (nil with one appservice process).
func (c *Component) Leases() *lease.Manager {
	if c.writer == nil {
		return nil
	}
	return c.writer.Leases()
}

// ensureSenders creates each appservice's sender_localpart user if it can
// be registered (random mixed-case ones bridges generate cannot; the
// appservice then acts as it without an account).
func (c *Component) ensureSenders(ctx context.Context) {
	for _, reg := range c.cfg.AppServices {
		_, err := c.users.CreateAccount(ctx, reg.SenderLocalpart, "", false)
		switch {
		case err == nil:
			c.log.Info("created the appservice sender user", "appservice", reg.ID, "user_id", reg.SenderUserID(c.cfg.ServerName))
		case errors.Is(err, uapi.ErrUserInUse), errors.Is(err, uapi.ErrInvalidUsername):
		default:
			c.log.Warn("could not create the appservice sender user", "appservice", reg.ID, "error", err)
		}
	}
}

// startConsumers consumes room_events, and the ephemeral, to-device and
// device list streams when some registration asks for them.
func (c *Component) startConsumers(ctx, runCtx context.Context, base *setup.Base, pushed []*config.AppService) ([]<-chan struct{}, error) {
	handlers := map[string]stream.BatchHandler{
		stream.RoomEvents: c.onRoomEvents,
	}
	for _, a := range pushed {
		if a.WantsEphemeral() {
			handlers[stream.Typing] = c.consumeInto(stream.Typing, c.typingItems)
			handlers[stream.Receipts] = c.consumeInto(stream.Receipts, c.receiptItems)
			handlers[stream.Presence] = c.consumeInto(stream.Presence, c.presenceItems)
		}
		if a.WantsToDevice() {
			handlers[stream.SendToDevice] = c.consumeInto(stream.SendToDevice, c.toDeviceItems)
		}
		if a.MSC3202 {
			handlers[stream.DeviceListUpdates] = c.consumeInto(stream.DeviceListUpdates, c.deviceListItems)
		}
	}
	var unused []string
	for _, name := range []string{stream.Typing, stream.Receipts, stream.Presence, stream.SendToDevice, stream.DeviceListUpdates} {
		if handlers[name] == nil {
			unused = append(unused, name)
		}
	}
	if len(unused) > 0 {
		if err := c.db.ForgetPositions(ctx, unused...); err != nil {
			return nil, fmt.Errorf("appservice: positions: %w", err)
		}
	}
	var dones []<-chan struct{}
	for name, h := range handlers {
		st, err := base.Stream(ctx, name)
		if err != nil {
			return dones, fmt.Errorf("appservice: open %s: %w", name, err)
		}
		last, err := st.LastSeq(ctx)
		if err != nil {
			return dones, fmt.Errorf("appservice: %s position: %w", name, err)
		}
		seq, err := c.db.StartPosition(ctx, name, last)
		if err != nil {
			return dones, fmt.Errorf("appservice: %s position: %w", name, err)
		}
		deadLetter := c.db.DeadLetterer(name)
		if c.writer != nil {
			deadLetter = c.writer.DeadLetterer(deadLetter)
		}
		done, err := st.ConsumeBatch(runCtx, "appservice", seq, stream.BatchOptions{DeadLetter: deadLetter}, h)
		if err != nil {
			return dones, fmt.Errorf("appservice: consume %s: %w", name, err)
		}
		dones = append(dones, done)
	}
	return dones, nil
}

// Close stops consuming and pushing (what is queued stays queued).
func (c *Component) Close() {
	if c.writer != nil {
		c.writer.Close()
	}
	if c.stop != nil {
		c.stop()
	}
	c.wg.Wait()
}
