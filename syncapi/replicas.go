package syncapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/notifier"
	"github.com/axon-hs/axon/syncapi/storage"
)

// Replicas (config partitioning.instance; docs/scaling.md). Several
// syncapi processes serve /sync, /messages and sliding sync from the
// same PostgreSQL tables, so a token means the same on every one. The
// tables are written from the streams once: the consumers run only in
// the process holding the writer lease (internal/lease, one partition,
// bucket <prefix>_syncapi_leases). A new holder records the lease epoch
// (ClaimWriter) and then starts the consumers from the positions stored
// with what was applied, so nothing is skipped or applied twice; every
// consumer transaction checks that epoch (storage.SetFence), so a former
// holder paused past its lease commits nothing more.
//
// Every change a process makes (the writer's consumers, and requests
// each process serves: receipts, to-device, presence) is published
// after commit on <prefix>.syncapi.wake; the others take its positions
// and wake their long-polls (notifier.Apply), and drop cached state of
// the room or user concerned.

// writerPartition is the one partition of the writer lease.
const writerPartition = 0

type replica struct {
	s        *SyncAPI
	instance string
	m        atomic.Pointer[lease.Manager] // set once lease.Start returns
	sub      *nats.Subscription

	// writing is the stream consumers, while the writer lease is held.
	writing stream.Running
}

// wakeMsg is what goes on the wake subject.
type wakeMsg struct {
	From string         `json:"from"`
	Wake *notifier.Wake `json:"wake,omitempty"`
	// Progress is what the writer has applied of a stream, for the
	// others' read-your-writes waits (waitCaughtUp).
	Progress map[string]uint64 `json:"progress,omitempty"`
}

func (s *SyncAPI) wakeSubject() string { return s.base.Cfg.NATS.Prefix + ".syncapi.wake" }

// startReplica joins the other syncapi processes: wakes in both
// directions, then the writer lease (a lone process takes it at once).
func (s *SyncAPI) startReplica(ctx context.Context) error {
	cfg := s.base.Cfg.Partitioning
	r := &replica{s: s, instance: cfg.Instance}
	s.db.SetFence(nil) // nothing is written from the streams until the lease is held
	nc := s.base.Bus.Conn()
	subject := s.wakeSubject()
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var w wakeMsg
		if json.Unmarshal(m.Data, &w) != nil || w.From == r.instance {
			return
		}
		if w.Wake != nil {
			s.applyWake(*w.Wake)
		}
		for name, seq := range w.Progress {
			s.progress.apply(name, seq)
		}
	})
	if err != nil {
		return fmt.Errorf("syncapi wakes: %w", err)
	}
	r.sub = sub
	publish := func(w wakeMsg) {
		w.From = r.instance
		data, err := json.Marshal(w)
		if err == nil {
			err = nc.Publish(subject, data)
		}
		if err != nil {
			s.log.Warn("publish syncapi wake", "error", err)
		}
	}
	s.notif.SetPublish(func(w notifier.Wake) { publish(wakeMsg{Wake: &w}) })
	s.progress.mu.Lock()
	s.progress.publish = func(name string, seq uint64) { publish(wakeMsg{Progress: map[string]uint64{name: seq}}) }
	s.progress.mu.Unlock()
	// What the writer had applied when this process started.
	for _, name := range caughtUpStreams {
		seq, err := s.db.ConsumerSeq(ctx, name)
		if err != nil {
			_ = sub.Unsubscribe()
			return fmt.Errorf("syncapi %s position: %w", name, err)
		}
		s.progress.apply(name, seq)
	}
	s.replica = r // before any consumer starts (they read it)
	kv, err := s.base.Bus.KeyValue(ctx, "syncapi_leases", cfg.LeaseTTL)
	if err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	m, err := lease.Start(ctx, kv, lease.Config{Component: "syncapi", Instance: cfg.Instance,
		Partitions: 1, TTL: cfg.LeaseTTL, Log: s.log}, r)
	if err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	r.m.Store(m)
	return nil
}

// applyWake takes in another replica's change.
func (s *SyncAPI) applyWake(w notifier.Wake) {
	if w.RoomEvent {
		// State may have changed; the writer knows, this process does not.
		s.cache.invalidate(w.Room)
	}
	for _, u := range w.Users {
		// Account data (the ignore list) may have changed.
		s.ignores.forget(u)
	}
	s.notif.Apply(w)
}

// replicaHeader names the syncapi replica that published a typing update,
// so the other replicas apply it (typing is held in each one's memory).
const replicaHeader = "Axon-Syncapi-Replica"

// replicaHeaders are the headers of this replica's typing updates (nil
// without replicas).
func (s *SyncAPI) replicaHeaders() map[string]string {
	if s.replica == nil {
		return nil
	}
	return map[string]string{replicaHeader: s.replica.instance}
}

// fromOtherReplica: msg was published by another syncapi replica.
func (s *SyncAPI) fromOtherReplica(msg stream.Message) bool {
	if s.replica == nil || msg.Headers == nil {
		return false
	}
	from := msg.Headers.Get(replicaHeader)
	return from != "" && from != s.replica.instance
}

// Writer reports whether this process holds the writer lease (always
// true for one syncapi without replicas).
func (s *SyncAPI) Writer() bool {
	if s.replica == nil {
		return true
	}
	m := s.replica.m.Load()
	if m == nil {
		// lease.Start has not returned: Acquired may be starting the
		// consumers; the fence decides for their writes.
		return true
	}
	_, ok := m.Owner(writerPartition)
	return ok
}

// Leases is the writer lease manager (nil without replicas), for tests
// and diagnostics.
func (s *SyncAPI) Leases() *lease.Manager {
	if s.replica == nil {
		return nil
	}
	return s.replica.m.Load()
}

// Acquired (lease.Handler) records the epoch, then starts the consumers
// from the stored positions.
func (r *replica) Acquired(ctx context.Context, _ int, e lease.Epoch) error {
	s := r.s
	ctx, cancel := context.WithTimeout(ctx, s.base.Cfg.Partitioning.LeaseTTL/2)
	defer cancel()
	claimed, err := s.db.ClaimWriter(ctx, e.Gen, e.Rev, r.instance)
	if err != nil {
		return fmt.Errorf("record syncapi writer epoch: %w", err)
	}
	if !claimed {
		return fmt.Errorf("syncapi writer epoch %s is older than the recorded one", e)
	}
	s.db.SetFence(&storage.Fence{Gen: e.Gen, Rev: e.Rev})
	// Rules and erasures cached while another process wrote may be stale.
	s.push.reset()
	s.erased.mu.Lock()
	err = s.loadErasedUsers(ctx)
	s.erased.mu.Unlock()
	if err != nil {
		s.db.SetFence(nil)
		return fmt.Errorf("syncapi erased users: %w", err)
	}
	if err := r.writing.Start(func(runCtx context.Context) ([]<-chan struct{}, error) { return s.startWriting(ctx, runCtx) }); err != nil {
		s.db.SetFence(nil)
		return err
	}
	s.log.Info("syncapi writer lease taken: consuming the streams", "instance", r.instance, "epoch", e.String())
	return nil
}

// Lost (lease.Handler) stops the consumers; their writes are refused
// from now on even if one is still running.
func (r *replica) Lost(int) {
	r.s.db.SetFence(nil)
	if r.writing.Stop() {
		r.s.log.Info("syncapi writer lease lost: stopped consuming", "instance", r.instance)
	}
}

// fenced is told of a consumer error: one refused because the lease has
// moved gives the lease up at once rather than retrying.
func (r *replica) fenced(err error) {
	if !errors.Is(err, storage.ErrFenced) {
		return
	}
	m := r.m.Load()
	if m == nil {
		return
	}
	if e, ok := m.Owner(writerPartition); ok {
		go m.Lose(writerPartition, e) // Lost waits for the consumers: not from theirs
	}
}

// close gives the lease back (the consumers stop) and stops the wakes.
func (r *replica) close() {
	if m := r.m.Load(); m != nil {
		m.Close()
	}
	r.Lost(writerPartition)
	_ = r.sub.Unsubscribe()
	r.s.notif.SetPublish(nil)
}
