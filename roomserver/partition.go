package roomserver

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/rpc"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/api"
)

// Partitioned input (config partitioning.instance; docs/scaling.md).
// Rooms are hashed into partitions (lease.Partition of the room ID) and
// every roomserver process holds the leases of some of them
// (internal/lease). A process is the only writer of the rooms in the
// partitions it holds:
//
//   - Input for a room of a partition held here runs here; otherwise it
//     is forwarded to the holder over NATS (subject
//     <prefix>.rpc.roomserver.p<n>.InputRoomEvents, served only while the
//     lease is held) and retried while the partition changes hands, so
//     callers reaching any roomserver process get their answer.
//   - A new room's ID is chosen in a partition held here (a fresh random
//     ID, or for hash-named room versions the create event's timestamp
//     moved on by a millisecond until its hash lands in one).
//   - Fencing: taking a partition records the lease epoch in
//     roomserver_partitions (raising it only), and every input
//     transaction checks, inside itself, that the epoch it loaded the
//     room under is still the recorded one (a shared row lock on
//     PostgreSQL, so the takeover waits for writes in flight). A process
//     stalled past its lease cannot commit afterwards: its transaction
//     sees the newer epoch, rolls back, and the input is retried at the
//     new holder.
//   - A room's head is cached only under a lease and only while that
//     lease lasts (room.epoch); rooms of other partitions are read from
//     the database for queries, and the event cache serves only rooms
//     held. Taking a partition publishes the outputs its former holder
//     committed but did not publish (outbox.Adopt) before any new input,
//     so each room's order on room_events holds across the handover.
//
// The monolith (no instance) never builds any of this: r.parts is nil.

var (
	errNotOwner = errors.New("roomserver: this process does not hold the room's partition")
	errFenced   = errors.New("roomserver: the room's partition was taken over by another process")
)

func init() {
	rpc.RegisterSentinel("roomserver.not_owner", errNotOwner)
	rpc.RegisterSentinel("roomserver.fenced", errFenced)
	rpc.RegisterSentinel("roomserver.closed", ErrClosed)
}

// fencedError is errFenced with the lease that was superseded.
type fencedError struct {
	p int
	e lease.Epoch
}

func (e *fencedError) Error() string        { return errFenced.Error() }
func (e *fencedError) Is(target error) bool { return target == errFenced }

// partitionInput is what a partition's holder serves to other processes.
type partitionInput interface {
	InputRoomEvents(ctx context.Context, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error)
}

type partitions struct {
	r        *RoomServer
	m        *lease.Manager
	n        int
	instance string
	nc       *nats.Conn
	prefix   string
	clients  []*rpc.Client

	mu      sync.Mutex
	serving map[int]context.CancelFunc // guarded by mu

	nids sync.Map // room NID -> *room cached under a lease
}

// routeTimeout bounds how long an input waits for its partition to find
// a holder (a handover takes about one lease TTL).
const routeTimeout = 30 * time.Second

type localInputKey struct{}

// startPartitions takes part in the partitioning of rooms. It returns
// once the first round of leases is taken.
func (r *RoomServer) startPartitions(ctx context.Context) error {
	cfg := r.base.Cfg.Partitioning
	kv, err := r.base.Bus.KeyValue(ctx, "roomserver_leases", cfg.LeaseTTL)
	if err != nil {
		return err
	}
	pt := &partitions{r: r, n: cfg.Partitions, instance: cfg.Instance, nc: r.base.Bus.Conn(),
		prefix: r.base.Cfg.NATS.Prefix, serving: map[int]context.CancelFunc{}}
	for p := 0; p < pt.n; p++ {
		pt.clients = append(pt.clients, rpc.NewClient(pt.nc, pt.prefix, pt.component(p)))
	}
	m, err := lease.Start(ctx, kv, lease.Config{Component: "roomserver", Instance: cfg.Instance,
		Partitions: cfg.Partitions, TTL: cfg.LeaseTTL, Log: r.log}, pt)
	if err != nil {
		return err
	}
	pt.m = m
	r.parts = pt
	return nil
}

// Leases is the lease manager of a partitioned roomserver (nil when not
// partitioned), for the assembly's tests and diagnostics.
func (r *RoomServer) Leases() *lease.Manager {
	if r.parts == nil {
		return nil
	}
	return r.parts.m
}

func (pt *partitions) component(p int) string { return "roomserver.p" + strconv.Itoa(p) }

func (pt *partitions) partition(roomID string) int { return lease.Partition(roomID, pt.n) }

// Acquired (lease.Handler) raises the partition's recorded epoch, drops
// what is cached from an earlier lease, publishes what the former holder
// left, and starts answering forwarded input.
func (pt *partitions) Acquired(ctx context.Context, p int, e lease.Epoch) error {
	r := pt.r
	// Bounded well inside the TTL: the lease manager renews the other
	// partitions after this returns.
	ctx, cancel := context.WithTimeout(ctx, r.base.Cfg.Partitioning.LeaseTTL/3)
	defer cancel()
	var claimed bool
	err := r.db.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		claimed, err = r.db.ClaimPartition(ctx, tx, p, e.Gen, e.Rev, pt.instance)
		return err
	})
	if err != nil {
		return err
	}
	if !claimed {
		return errors.New("a newer lease epoch is recorded for the partition")
	}
	pt.forget(p)
	r.events.clear() // may hold events another holder redacted since
	ticket, err := r.outbox.Adopt(ctx, func(key string) bool { return pt.partition(key) == p })
	if err != nil {
		return err
	}
	if err := r.outbox.Wait(ctx, ticket); err != nil {
		// Queued ahead of new input all the same; published when the log takes them.
		r.log.Warn("outputs of the former holder not yet published", "partition", p, "error", err)
	}
	sctx, stop := context.WithCancel(context.Background())
	if err := rpc.Serve(sctx, pt.nc, pt.prefix, pt.component(p), reflect.TypeOf((*partitionInput)(nil)).Elem(), &partitionServer{pt: pt, p: p}); err != nil {
		stop()
		return err
	}
	pt.mu.Lock()
	pt.serving[p] = stop
	pt.mu.Unlock()
	return nil
}

// Lost (lease.Handler) stops answering for p and forgets its rooms.
func (pt *partitions) Lost(p int) {
	pt.mu.Lock()
	stop := pt.serving[p]
	delete(pt.serving, p)
	pt.mu.Unlock()
	if stop != nil {
		stop()
	}
	pt.forget(p)
}

// forget drops the cached heads of p's rooms.
func (pt *partitions) forget(p int) {
	r := pt.r
	r.roomsMu.Lock()
	defer r.roomsMu.Unlock()
	for id, rm := range r.rooms {
		if pt.partition(id) == p {
			delete(r.rooms, id)
			pt.nids.Delete(rm.nid)
		}
	}
}

// leaseFor is the epoch under which roomID may be cached and written
// here, and whether it is held (always true when not partitioned).
func (pt *partitions) leaseFor(roomID string) (lease.Epoch, bool) {
	if pt == nil {
		return lease.Epoch{}, true
	}
	return pt.m.Owner(pt.partition(roomID))
}

// current reports whether rm's cached head may be used: loaded under the
// lease still held.
func (pt *partitions) current(rm *room) bool {
	if pt == nil {
		return true
	}
	e, ok := pt.m.Owner(pt.partition(rm.id))
	return ok && e == rm.epoch
}

// cached records rm as cached under its lease (for the event cache).
func (pt *partitions) cached(rm *room) {
	if pt != nil {
		pt.nids.Store(rm.nid, rm)
	}
}

// eventCacheable reports whether cached events of the room with NID
// roomNID may be served: only rooms held here (another holder may have
// redacted them since).
func (pt *partitions) eventCacheable(roomNID int64) bool {
	if pt == nil {
		return true
	}
	v, ok := pt.nids.Load(roomNID)
	return ok && pt.current(v.(*room))
}

// placeable reports whether a new room may take roomID here.
func (pt *partitions) placeable(roomID string) bool {
	if pt == nil {
		return true
	}
	_, ok := pt.m.Owner(pt.partition(roomID))
	return ok
}

// cachedEvent is the event cache as far as it may be served.
func (r *RoomServer) cachedEvent(nid int64) (*stored, bool) {
	e, ok := r.events.get(nid)
	if ok && !r.parts.eventCacheable(e.roomNID) {
		return nil, false
	}
	return e, ok
}

// fence checks, inside the input transaction, that rm's lease is still
// the newest recorded for its partition.
func (r *RoomServer) fence(ctx context.Context, tx *istorage.Tx, rm *room) error {
	pt := r.parts
	if pt == nil {
		return nil
	}
	p := pt.partition(rm.id)
	if e, ok := pt.m.Owner(p); !ok || e != rm.epoch {
		return errNotOwner
	}
	ok, err := r.db.CheckPartition(ctx, tx, p, rm.epoch.Gen, rm.epoch.Rev)
	if err != nil {
		return err
	}
	if !ok {
		return &fencedError{p: p, e: rm.epoch}
	}
	return nil
}

// input routes one InputRoomEvents call: here when the room's partition
// is held here, else to its holder, retrying while it changes hands.
func (pt *partitions) input(ctx context.Context, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	roomID, isCreate := targetRoom(&req.Events[0])
	if !isCreate {
		pending := partitionInputs.WithLabelValues("roomserver", pt.instance, strconv.Itoa(pt.partition(roomID)))
		pending.Inc()
		defer pending.Dec()
	}
	ctx, cancel := context.WithTimeout(ctx, routeTimeout)
	defer cancel()
	backoff := 20 * time.Millisecond
	for {
		var resp *api.InputRoomEventsResponse
		var err error
		p := -1
		if isCreate {
			if len(pt.m.Owned()) == 0 {
				p = rand.IntN(pt.n) // its holder places the room in one of its own
			}
		} else {
			p = pt.partition(roomID)
			if _, ok := pt.m.Owner(p); ok {
				p = -1
			}
		}
		if p < 0 {
			resp, err = pt.local(ctx, req)
		} else {
			resp, err = pt.forward(ctx, p, req)
		}
		if !(retryable(err) || (p >= 0 && req.Idempotent() && rpc.Unanswered(err))) || ctx.Err() != nil {
			return resp, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

// forward sends input to partition p's holder. Idempotent input waits
// api.InputAttemptTimeout per attempt, so a holder that died with the
// request costs that long, not the whole route timeout.
func (pt *partitions) forward(ctx context.Context, p int, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	var wait time.Duration
	if req.Idempotent() {
		wait = api.InputAttemptTimeout
	}
	var resp *api.InputRoomEventsResponse
	err := pt.clients[p].CallAttempt(ctx, wait, "InputRoomEvents", []any{req}, &resp)
	return resp, err
}

// local runs input here; a fenced write gives up the lease at once.
func (pt *partitions) local(ctx context.Context, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	resp, err := pt.r.InputRoomEvents(context.WithValue(ctx, localInputKey{}, true), req)
	var fe *fencedError
	if errors.As(err, &fe) {
		pt.m.Lose(fe.p, fe.e)
	}
	return resp, err
}

// movedAway reports an input refused because the room's partition is no
// longer held here (it is retried at the holder, not a failure).
func movedAway(err error) bool { return errors.Is(err, errNotOwner) || errors.Is(err, errFenced) }

func retryable(err error) bool {
	return errors.Is(err, errNotOwner) || errors.Is(err, errFenced) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, ErrClosed)
}

// routed reports whether ctx's input was routed here already.
func (pt *partitions) routed(ctx context.Context) bool {
	return ctx.Value(localInputKey{}) != nil
}

// partitionServer answers input forwarded to partition p.
type partitionServer struct {
	pt *partitions
	p  int
}

func (s *partitionServer) InputRoomEvents(ctx context.Context, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	if len(req.Events) == 0 {
		return &api.InputRoomEventsResponse{}, nil
	}
	if _, isCreate := targetRoom(&req.Events[0]); !isCreate {
		if _, ok := s.pt.m.Owner(s.p); !ok {
			return nil, errNotOwner
		}
	} else if len(s.pt.m.Owned()) == 0 {
		return nil, errNotOwner
	}
	return s.pt.local(ctx, req)
}

// close gives every lease back (input in flight either commits first or
// is fenced and retried at the next holder).
func (pt *partitions) close() {
	if pt != nil {
		pt.m.Close()
	}
}

// maxPlacementTries bounds the search for a new room ID in a partition
// held here (about partitions/held tries are needed).
const maxPlacementTries = 10000
