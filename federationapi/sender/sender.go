// Package sender delivers PDUs and EDUs to other servers: one queue (and
// goroutine) per destination, batches of at most 50 PDUs and 100 EDUs per
// transaction, everything persisted until the destination acknowledges it
// (a restart resends), exponential backoff for unreachable servers reset
// by any success, and a blacklist after a day of failures. Destinations
// never wait on each other.
package sender

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/federationapi/storage"
	istorage "github.com/axon-hs/axon/internal/storage"
)

// Client sends one transaction; fclient.FederationClient implements it.
type Client interface {
	SendTransaction(ctx context.Context, t gomatrixserverlib.Transaction) (fclient.RespSend, error)
}

// Config tunes the sender; zero fields take the defaults.
type Config struct {
	Origin spec.ServerName
	// MaxPDUs / MaxEDUs per transaction (spec limits: 50 / 100).
	MaxPDUs, MaxEDUs int
	// BaseBackoff doubles per consecutive failure up to MaxBackoff.
	BaseBackoff, MaxBackoff time.Duration
	// BlacklistAfter: a destination failing this long is given up on
	// (queue dropped) until it contacts us.
	BlacklistAfter time.Duration
	// RequestTimeout bounds one transaction.
	RequestTimeout time.Duration
	// IdleExit: a queue goroutine with nothing to do exits after this.
	IdleExit time.Duration
	// Partitions limits this sender to the destinations whose partition
	// this process holds (nil: it sends to every destination).
	Partitions Partitioner
	// Instance names this process among several federationapi processes
	// (in transaction IDs, which must not collide between them).
	Instance string
	Log      *slog.Logger
	Now      func() time.Time
}

// Partitioner shares the destinations among several federationapi
// processes (federationapi/partition.go).
type Partitioner interface {
	// Fence is the lease destination is sent under here; false when its
	// partition is not held here.
	Fence(destination string) (storage.Fence, bool)
	// Lose gives f up at once: a write under it was refused.
	Lose(f storage.Fence)
	// Broadcast tells every process (this one too) that destinations
	// have new items.
	Broadcast(destinations []string)
	// BroadcastAlive tells the holder of server's partition that it
	// reached us.
	BroadcastAlive(server string)
}

func (c *Config) defaults() {
	if c.MaxPDUs <= 0 {
		c.MaxPDUs = 50
	}
	if c.MaxEDUs <= 0 {
		c.MaxEDUs = 100
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 2 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Hour
	}
	if c.BlacklistAfter <= 0 {
		c.BlacklistAfter = 24 * time.Hour
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 60 * time.Second
	}
	if c.IdleExit <= 0 {
		c.IdleExit = time.Minute
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Sender owns the destination queues.
type Sender struct {
	cfg    Config
	store  *storage.DB
	client Client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	queues map[string]*queue
	// troubled holds destinations with stored failures, so MarkAlive
	// (called on every inbound request) skips the store for healthy ones.
	troubled sync.Map

	// Transaction IDs are unique per process (instance and start time)
	// and counter; a batch keeps its ID, stored with its items, until
	// acknowledged.
	epoch   string
	counter atomic.Int64
}

// New returns a stopped sender; call Start.
func New(store *storage.DB, client Client, cfg Config) *Sender {
	cfg.defaults()
	epoch := strconv.FormatInt(cfg.Now().UnixMilli(), 10)
	if cfg.Instance != "" {
		epoch = cfg.Instance + "-" + epoch
	}
	return &Sender{cfg: cfg, store: store, client: client, queues: map[string]*queue{}, epoch: epoch}
}

// Start resumes every destination with queued items.
func (s *Sender) Start(ctx context.Context) error {
	s.mu.Lock()
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Unlock()
	pending, err := s.store.PendingDestinations(ctx)
	if err != nil {
		return fmt.Errorf("federation sender: %w", err)
	}
	failing, err := s.store.FailingDestinations(ctx)
	if err != nil {
		return fmt.Errorf("federation sender: %w", err)
	}
	for _, d := range failing {
		s.troubled.Store(d, true)
	}
	s.Wake(pending...)
	s.wg.Add(1)
	go s.sampleLoop(s.ctx)
	return nil
}

// Stop ends every queue goroutine; queued items stay stored.
func (s *Sender) Stop() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.queues = map[string]*queue{}
	s.mu.Unlock()
	s.wg.Wait()
}

// Notify wakes the queues of destinations after items were enqueued, in
// whichever process sends to them.
func (s *Sender) Notify(destinations ...string) {
	if s.cfg.Partitions != nil && len(destinations) > 0 {
		s.cfg.Partitions.Broadcast(destinations)
	}
	s.Wake(destinations...)
}

// Wake wakes the queues of destinations sent to by this process.
func (s *Sender) Wake(destinations ...string) {
	for _, d := range destinations {
		if spec.ServerName(d) == s.cfg.Origin {
			continue
		}
		s.wakeQueue(d, false)
	}
}

// WakePending wakes every queue with items stored that this process
// sends to (after taking partitions, and now and then in case a
// Broadcast was lost).
func (s *Sender) WakePending(ctx context.Context) error {
	pending, err := s.store.PendingDestinations(ctx)
	if err != nil {
		return err
	}
	s.Wake(pending...)
	return nil
}

// holds reports whether this process sends to dest.
func (s *Sender) holds(dest string) bool {
	if s.cfg.Partitions == nil {
		return true
	}
	_, ok := s.cfg.Partitions.Fence(dest)
	return ok
}

// MarkAlive ends backoff (and blacklisting) for a server that just
// reached us, and resumes sending to it (in the process that does).
func (s *Sender) MarkAlive(server spec.ServerName) {
	if !s.holds(string(server)) {
		s.cfg.Partitions.BroadcastAlive(string(server))
		return
	}
	s.WakeAlive(server)
}

// WakeAlive is MarkAlive in this process only.
func (s *Sender) WakeAlive(server spec.ServerName) {
	if !s.holds(string(server)) {
		return
	}
	s.mu.Lock()
	q, ok := s.queues[string(server)]
	if ok {
		q.wake(true)
	}
	s.mu.Unlock()
	if ok {
		return
	}
	// No queue running: touch the store only if it records a failure.
	if _, troubled := s.troubled.Load(string(server)); !troubled {
		return
	}
	s.mu.Lock()
	ctx := s.ctx
	if ctx == nil || ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := s.store.SetDestination(ctx, storage.Destination{ServerName: string(server)}); err == nil {
			s.troubled.Delete(string(server))
			s.Wake(string(server))
		}
	}()
}

// IsBlacklisted reports whether destination was given up on.
func (s *Sender) IsBlacklisted(ctx context.Context, destination string) bool {
	d, err := s.store.Destination(ctx, destination)
	return err == nil && d.Blacklisted
}

// wakeQueue wakes (starting if needed) dest's queue. It holds s.mu so a
// queue cannot exit between being found and being woken.
func (s *Sender) wakeQueue(dest string, alive bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil {
		return // not running: Start picks up whatever is stored
	}
	if !s.holds(dest) {
		return // another process sends to dest
	}
	q, ok := s.queues[dest]
	if !ok {
		q = &queue{s: s, dest: dest, notify: make(chan struct{}, 1), alive: make(chan struct{}, 1)}
		s.queues[dest] = q
		s.wg.Add(1)
		go q.run()
	}
	q.wake(alive)
}

// Enqueue stores a PDU (or EDU) for destinations in its own transaction
// and wakes their queues.
func (s *Sender) Enqueue(ctx context.Context, destinations []string, isEDU bool, body []byte) error {
	var dests []string
	for _, d := range destinations {
		if spec.ServerName(d) != s.cfg.Origin && !s.IsBlacklisted(ctx, d) {
			dests = append(dests, d)
		}
	}
	err := s.store.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		return s.store.Enqueue(ctx, tx, dests, isEDU, body)
	})
	if err != nil {
		return err
	}
	s.Notify(dests...)
	return nil
}

// exit removes q if nothing woke it meanwhile; it reports whether q may
// stop.
func (s *Sender) exit(q *queue) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-q.notify:
		return false
	case <-q.alive:
		return false
	default:
	}
	delete(s.queues, q.dest)
	return true
}

// drop removes q at once (its destination's partition moved away).
func (s *Sender) drop(q *queue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues[q.dest] == q {
		delete(s.queues, q.dest)
	}
}

func (s *Sender) nextTxnID() gomatrixserverlib.TransactionID {
	return gomatrixserverlib.TransactionID(fmt.Sprintf("%s-%d", s.epoch, s.counter.Add(1)))
}

// backoff is the wait after the n-th consecutive failure.
func (c *Config) backoff(n int64) time.Duration {
	d := c.BaseBackoff
	for i := int64(1); i < n && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// Reset forgets server's failures (and blacklisting) now, in the store
// too, and wakes its queue so anything waiting is sent at once (the admin
// API's reset_connection).
func (s *Sender) Reset(ctx context.Context, server string) error {
	if err := s.store.SetDestination(ctx, storage.Destination{ServerName: server}); err != nil {
		return err
	}
	s.troubled.Delete(server)
	s.MarkAlive(spec.ServerName(server))
	s.Wake(server)
	return nil
}
