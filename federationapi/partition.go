package federationapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/nats-io/nats.go"

	"github.com/axon-hs/axon/federationapi/sender"
	"github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/stream"
)

// Several federation senders (config partitioning.instance with
// components [federationapi]; docs/scaling.md). Destinations are hashed
// into partitions (lease.Partition of the server name) and each
// federationapi process holds the leases of some (internal/lease, bucket
// <prefix>_federationapi_leases). Only the holder of a destination's
// partition sends to it:
//
//   - The stream consumers (room events, EDUs) run once, in the holder of
//     partition 0: they keep the joined servers and write the queue rows
//     of every destination with their stream position, as one process
//     does, so positions need no partitioning. Their transactions check
//     partition 0's epoch (storage.SetWriterFence).
//   - After a commit the writer publishes the destinations on core NATS
//     (<prefix>.federationapi.wake); every process wakes the queues it
//     holds. A process taking partitions, and every process each
//     sweepEvery (a lost wake), resumes the queues held with items stored.
//   - A batch gets its transaction ID in the queue table, in a
//     transaction that checks the partition's epoch, before it is sent;
//     the next holder resends an assigned transaction unchanged. So an
//     item is never in two transactions, and a former holder paused past
//     its lease cannot put items in a new one. Before each send the epoch
//     is checked again, so it does not send the new holder's either.
//   - A server reaching a process that does not send to it is announced
//     on the same subject, so its holder ends the backoff at once.
//
// Inbound federation keeps nothing in memory that another process needs
// (answered transactions are in federationapi_inbound_txns). The
// monolith and a single federationapi without an instance build none of
// this: f.parts is nil.

// writerPartition's holder runs the stream consumers.
const writerPartition = 0

// sweepEvery bounds how long items wait when a wake was lost.
const sweepEvery = 10 * time.Second

type partitions struct {
	f        *FederationAPI
	m        atomic.Pointer[lease.Manager] // set once lease.Start returns
	ready    chan struct{}                 // closed then
	n        int
	instance string
	nc       *nats.Conn
	subject  string
	sub      *nats.Subscription
	kick     chan struct{} // sweep now (partitions taken)
	stop     chan struct{}
	swept    chan struct{}

	// consuming is the stream consumers, while partition 0 is held.
	consuming stream.Running
}

// wakeMsg is what goes on the wake subject.
type wakeMsg struct {
	Queued []string `json:"queued,omitempty"`
	Alive  string   `json:"alive,omitempty"`
}

var _ sender.Partitioner = (*partitions)(nil)

func (f *FederationAPI) newPartitions() *partitions {
	cfg := f.base.Cfg.Partitioning
	return &partitions{f: f, ready: make(chan struct{}), n: cfg.Partitions, instance: cfg.Instance,
		nc: f.base.Bus.Conn(), subject: f.base.Cfg.NATS.Prefix + ".federationapi.wake",
		kick: make(chan struct{}, 1), stop: make(chan struct{}), swept: make(chan struct{})}
}

// start listens for wakes, then takes part in the leases (a lone
// process takes every partition at once).
func (pt *partitions) start(ctx context.Context) error {
	f := pt.f
	f.store.SetWriterFence(storage.Fence{}) // no consumer writes until partition 0 is held
	sub, err := pt.nc.Subscribe(pt.subject, func(m *nats.Msg) {
		var w wakeMsg
		if json.Unmarshal(m.Data, &w) != nil {
			return
		}
		f.sender.Wake(w.Queued...)
		if w.Alive != "" {
			f.sender.WakeAlive(spec.ServerName(w.Alive))
		}
	})
	if err != nil {
		return fmt.Errorf("federation sender wakes: %w", err)
	}
	pt.sub = sub
	cfg := f.base.Cfg.Partitioning
	kv, err := f.base.Bus.KeyValue(ctx, "federationapi_leases", cfg.LeaseTTL)
	if err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	m, err := lease.Start(ctx, kv, lease.Config{Component: "federationapi", Instance: cfg.Instance,
		Partitions: cfg.Partitions, TTL: cfg.LeaseTTL, Log: f.base.Log}, pt)
	if err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	pt.m.Store(m)
	close(pt.ready)
	go pt.sweep()
	return nil
}

// Leases is the lease manager of a partitioned federationapi (nil when
// not partitioned), for tests and diagnostics.
func (f *FederationAPI) Leases() *lease.Manager {
	if f.parts == nil {
		return nil
	}
	return f.parts.m.Load()
}

// Fence (sender.Partitioner) is destination's lease here.
func (pt *partitions) Fence(destination string) (storage.Fence, bool) {
	m := pt.m.Load()
	if m == nil {
		return storage.Fence{}, false
	}
	p := lease.Partition(destination, pt.n)
	e, ok := m.Owner(p)
	return storage.Fence{Partition: p, Gen: e.Gen, Rev: e.Rev}, ok
}

// Lose (sender.Partitioner) gives f up: a newer lease exists.
func (pt *partitions) Lose(f storage.Fence) {
	if m := pt.m.Load(); m != nil {
		// Lost may wait for the consumers: never from their goroutine.
		go m.Lose(f.Partition, lease.Epoch{Gen: f.Gen, Rev: f.Rev})
	}
}

// Broadcast (sender.Partitioner) wakes destinations' queues everywhere.
func (pt *partitions) Broadcast(destinations []string) { pt.publish(wakeMsg{Queued: destinations}) }

// BroadcastAlive (sender.Partitioner) ends server's backoff at its holder.
func (pt *partitions) BroadcastAlive(server string) { pt.publish(wakeMsg{Alive: server}) }

func (pt *partitions) publish(w wakeMsg) {
	data, err := json.Marshal(w)
	if err == nil {
		err = pt.nc.Publish(pt.subject, data)
	}
	if err != nil {
		pt.f.base.Log.Warn("publish federation sender wake", "error", err)
	}
}

// Acquired (lease.Handler) records the epoch; partition 0 also starts
// the stream consumers from their stored positions.
func (pt *partitions) Acquired(ctx context.Context, p int, e lease.Epoch) error {
	f := pt.f
	// Bounded well inside the TTL: the manager renews the others after.
	ctx, cancel := context.WithTimeout(ctx, f.base.Cfg.Partitioning.LeaseTTL/3)
	defer cancel()
	claimed, err := f.store.ClaimPartition(ctx, p, e.Gen, e.Rev, pt.instance)
	if err != nil {
		return fmt.Errorf("record federation partition epoch: %w", err)
	}
	if !claimed {
		return fmt.Errorf("federation partition %d: epoch %s is older than the recorded one", p, e)
	}
	if p != writerPartition {
		return nil
	}
	f.store.SetWriterFence(storage.Fence{Partition: p, Gen: e.Gen, Rev: e.Rev})
	if err := pt.consuming.Start(func(runCtx context.Context) ([]<-chan struct{}, error) { return f.startConsumers(ctx, runCtx) }); err != nil {
		f.store.SetWriterFence(storage.Fence{})
		return err
	}
	f.base.Log.Info("federation partition 0 taken: consuming the streams", "instance", pt.instance, "epoch", e.String())
	return nil
}

// Taken (lease.Taker) resumes the partition's queues, now that Fence
// reports it.
func (pt *partitions) Taken(int) {
	select {
	case pt.kick <- struct{}{}:
	default:
	}
}

// Lost (lease.Handler): queues of p stop by themselves (they check the
// lease before each step); partition 0 also stops the consumers, whose
// writes are refused from now on even if one is still running.
func (pt *partitions) Lost(p int) {
	if p != writerPartition {
		return
	}
	pt.f.store.SetWriterFence(storage.Fence{})
	if pt.consuming.Stop() {
		pt.f.base.Log.Info("federation partition 0 lost: stopped consuming", "instance", pt.instance)
	}
}

// sweep resumes the queues held with items stored: at once after
// partitions were taken, and each sweepEvery.
func (pt *partitions) sweep() {
	defer close(pt.swept)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-pt.stop:
			return
		case <-pt.kick:
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), sweepEvery)
		if err := pt.f.sender.WakePending(ctx); err != nil {
			pt.f.base.Log.Warn("resume federation queues", "error", err)
		}
		cancel()
	}
}

// deadLetterer records a message the consumer name gives up on, unless
// it was refused because partition 0 moved (then the lease is given up).
func (f *FederationAPI) deadLetterer(name string) stream.DeadLetterFunc {
	record := f.store.DeadLetterer(name)
	pt := f.parts
	if pt == nil {
		return record
	}
	return func(ctx context.Context, msg stream.Message, cause error) error {
		m := pt.m.Load()
		e, held := lease.Epoch{}, false
		if m != nil {
			e, held = m.Owner(writerPartition)
		}
		if errors.Is(cause, storage.ErrFenced) || !held {
			if held {
				pt.Lose(storage.Fence{Partition: writerPartition, Gen: e.Gen, Rev: e.Rev})
			}
			return fmt.Errorf("not the federation stream writer: %w", cause)
		}
		return record(ctx, msg, cause)
	}
}

// close gives every lease back (the consumers stop) and stops the wakes.
func (pt *partitions) close() {
	if pt == nil {
		return
	}
	select {
	case <-pt.ready:
		close(pt.stop)
		<-pt.swept
		pt.m.Load().Close()
	default:
	}
	pt.Lost(writerPartition)
	if pt.sub != nil {
		_ = pt.sub.Unsubscribe()
	}
}
