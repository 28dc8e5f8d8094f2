package syncapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/writer"
	"github.com/axon-hs/axon/syncapi/notifier"
)

// Replicas (config partitioning.instance; docs/scaling.md). Several
// syncapi processes serve /sync, /messages and sliding sync from the
// same PostgreSQL tables, so a token means the same on every one. The
// tables are written from the streams once: the consumers run only in
// the process holding the syncapi writer lease (internal/writer), fenced
// by its epoch, so nothing is skipped or applied twice across a handover.
//
// Every change a process makes (the writer's consumers, and requests
// each process serves: receipts, to-device, presence) is published
// after commit on <prefix>.syncapi.wake; the others take its positions
// and wake their long-polls (notifier.Apply), and drop cached state of
// the room or user concerned.

type replica struct {
	s        *SyncAPI
	instance string
	w        *writer.Writer
	sub      *nats.Subscription
	publish  func(wakeMsg) // to the other replicas
}

// wakeMsg is what goes on the wake subject.
type wakeMsg struct {
	From string         `json:"from"`
	Wake *notifier.Wake `json:"wake,omitempty"`
	// Progress is what the writer has applied of a stream, for the
	// others' read-your-writes waits (waitCaughtUp).
	Progress map[string]uint64 `json:"progress,omitempty"`
	// Resync: a new writer took over; read positions and members from
	// the tables again (replicas_resync.go).
	Resync bool `json:"resync,omitempty"`
}

func (s *SyncAPI) wakeSubject() string { return s.base.Cfg.NATS.Prefix + ".syncapi.wake" }

// startReplica joins the other syncapi processes: wakes in both
// directions, then the writer lease (a lone process takes it at once).
func (s *SyncAPI) startReplica(ctx context.Context) error {
	cfg := s.base.Cfg.Partitioning
	r := &replica{s: s, instance: cfg.Instance, w: writer.New(s.db.DB, s.db.Fence, writer.Config{Component: "syncapi",
		Instance: cfg.Instance, TTL: cfg.LeaseTTL, Log: s.log}, s.startWritingReplica)}
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
		if w.Resync {
			// In the subscription's goroutine: wakes published after it
			// are applied after the resync.
			s.resyncFromTables()
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
	r.publish = publish
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
	if err := r.w.Start(ctx, s.base.Bus); err != nil {
		_ = sub.Unsubscribe()
		return err
	}
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
	return s.replica.w.Held()
}

// Leases is the writer lease manager (nil without replicas), for tests
// and diagnostics.
func (s *SyncAPI) Leases() *lease.Manager {
	if s.replica == nil {
		return nil
	}
	return s.replica.w.Leases()
}

// startWritingReplica (writer.Work) starts the consumers once this
// replica holds the writer lease.
func (s *SyncAPI) startWritingReplica(ctx, runCtx context.Context) ([]<-chan struct{}, error) {
	// Rules and erasures cached while another process wrote may be stale.
	s.push.reset()
	s.erased.mu.Lock()
	err := s.loadErasedUsers(ctx)
	s.erased.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("syncapi erased users: %w", err)
	}
	if err := s.takeOverWriting(ctx); err != nil {
		return nil, err
	}
	return s.startWriting(ctx, runCtx)
}

// close gives the lease back (the consumers stop) and stops the wakes.
func (r *replica) close() {
	r.w.Close()
	_ = r.sub.Unsubscribe()
	r.s.notif.SetPublish(nil)
}
