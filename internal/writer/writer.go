package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
)

// partition is the one partition of a writer lease.
const partition = 0

// Config names the component and this process among its replicas.
type Config struct {
	// Component names the lease bucket (<prefix>_<component>_leases),
	// logs and metrics.
	Component string
	Instance  string
	TTL       time.Duration
	Log       *slog.Logger
}

// Work starts what only the writer runs, from the stored positions; each
// part stops when runCtx ends and closes its channel once stopped. ctx
// bounds the start itself. On error the parts started are stopped.
type Work func(ctx, runCtx context.Context) ([]<-chan struct{}, error)

// Writer is one process's part in a component's writer lease.
type Writer struct {
	cfg   Config
	db    *storage.DB
	fence *Fence
	work  Work
	m     atomic.Pointer[lease.Manager] // set once lease.Start returns
	// running: the work has been started under the lease (or is being).
	running atomic.Bool

	// consumers is the work, while the lease is held.
	consumers stream.Running
}

// New prepares this process's part; the work's writes through fence are
// refused from now until Start has taken the lease.
func New(db *storage.DB, fence *Fence, cfg Config, work Work) *Writer {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	fence.set(nil)
	return &Writer{cfg: cfg, db: db, fence: fence, work: work}
}

// Start joins the component's other processes; the work starts here when
// this process takes the lease (a lone process takes it at once).
func (w *Writer) Start(ctx context.Context, bus *stream.Bus) error {
	kv, err := bus.KeyValue(ctx, w.cfg.Component+"_leases", w.cfg.TTL)
	if err != nil {
		return err
	}
	m, err := lease.Start(ctx, kv, lease.Config{Component: w.cfg.Component, Instance: w.cfg.Instance,
		Partitions: 1, TTL: w.cfg.TTL, Log: w.cfg.Log}, w)
	if err != nil {
		return err
	}
	w.m.Store(m)
	return nil
}

// Held reports whether this process holds the lease and runs the work.
func (w *Writer) Held() bool {
	m := w.m.Load()
	if m == nil {
		// lease.Start has not returned: Acquired may be starting the
		// work; the fence decides for its writes.
		return w.running.Load()
	}
	_, ok := m.Owner(partition)
	return ok
}

// Leases is the lease manager, for tests (Freeze) and diagnostics.
func (w *Writer) Leases() *lease.Manager { return w.m.Load() }

// Acquired (lease.Handler) records the epoch, then starts the work.
func (w *Writer) Acquired(ctx context.Context, _ int, e lease.Epoch) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.TTL/2)
	defer cancel()
	claimed, err := w.fence.Claim(ctx, w.db, e, w.cfg.Instance)
	if err != nil {
		return fmt.Errorf("record %s writer epoch: %w", w.cfg.Component, err)
	}
	if !claimed {
		return fmt.Errorf("%s writer epoch %s is older than the recorded one", w.cfg.Component, e)
	}
	w.fence.set(&e)
	w.running.Store(true)
	if err := w.consumers.Start(func(runCtx context.Context) ([]<-chan struct{}, error) { return w.work(ctx, runCtx) }); err != nil {
		w.fence.set(nil)
		w.running.Store(false)
		return err
	}
	w.cfg.Log.Info(w.cfg.Component+" writer lease taken: running the consumers", "instance", w.cfg.Instance, "epoch", e.String())
	return nil
}

// Lost (lease.Handler) stops the work; its writes are refused from now
// on even while a part is still stopping.
func (w *Writer) Lost(int) {
	w.fence.set(nil)
	w.running.Store(false)
	if w.consumers.Stop() {
		w.cfg.Log.Info(w.cfg.Component+" writer lease lost: stopped the consumers", "instance", w.cfg.Instance)
	}
}

// Fenced is told of a write's error: one refused because the lease has
// moved gives the lease up at once rather than retrying.
func (w *Writer) Fenced(err error) {
	if !errors.Is(err, ErrFenced) {
		return
	}
	m := w.m.Load()
	if m == nil {
		return
	}
	if e, ok := m.Owner(partition); ok {
		go m.Lose(partition, e) // Lost waits for the work: not from its goroutines
	}
}

// DeadLetterer wraps a consumer's dead-letter function: a message is
// never recorded as given up on because another process took the
// writing over (it stays for the new writer).
func (w *Writer) DeadLetterer(record stream.DeadLetterFunc) stream.DeadLetterFunc {
	return func(ctx context.Context, msg stream.Message, cause error) error {
		w.Fenced(cause)
		if errors.Is(cause, ErrFenced) || !w.Held() {
			return fmt.Errorf("not the %s writer: %w", w.cfg.Component, cause)
		}
		return record(ctx, msg, cause)
	}
}

// Close stops the work while the lease is still held (so its last
// writes, e.g. the position of a delivery in flight, pass the fence),
// then gives the lease back.
func (w *Writer) Close() {
	w.consumers.Stop()
	if m := w.m.Load(); m != nil {
		m.Close()
	}
	w.Lost(partition)
}
