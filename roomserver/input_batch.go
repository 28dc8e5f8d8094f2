package roomserver

import (
	"context"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/outbox"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// batch is the room head while one transaction of input runs: changes
// are collected here and applied to the room only after commit, so a
// rolled-back transaction leaves memory untouched and queries never see
// uncommitted state.
type batch struct {
	rm          *room
	tx          *istorage.Tx
	snapNID     int64
	chainLen    int
	stateLen    int
	changes     storage.StateMap
	extremities []string
	depth       int64
	headChanged bool
	outputs     []api.OutputEvent
	staged      []outbox.Entry
	txns        []sentTxn
	// newRoom is set while creating a room: it is registered on commit.
	newRoom bool
	// reader serves reads before the transaction is open.
	reader istorage.Querier
	// prepared is the batch's first local event, built and signed before
	// the write transaction (see runBatch).
	prepared *preparedLocal
	// persisted counts the events stored, by origin (metrics.go).
	persisted [2]int
	// ids: event ID → NID (0: not stored) as of this transaction, for
	// the IDs a request of several PDUs names (input_lookup.go).
	ids map[string]int64
	// outliers is the run of outliers being input, if any (input_outliers.go).
	outliers *outlierRun
	// deferred are event rows waiting for one insert (input_deferred.go).
	deferred deferredRows
	// tally is the member tally's delta of this batch's state changes;
	// tallyUnknown: a membership could not be read (members_tally.go).
	tally        *memberTally
	tallyUnknown bool
}

// q reads through the transaction once open (to see its own writes),
// before that from the reader pool.
func (b *batch) q() istorage.Querier {
	if b.tx != nil {
		return b.tx
	}
	return b.reader
}

func newBatch(rm *room, tx *istorage.Tx) *batch {
	b := &batch{changes: storage.StateMap{}}
	b.reset(rm, tx)
	return b
}

// reset makes b a new batch of rm in tx (nothing of what it held before),
// keeping its state-change map's memory.
func (b *batch) reset(rm *room, tx *istorage.Tx) {
	changes := b.changes
	clear(changes)
	*b = batch{rm: rm, tx: tx, snapNID: rm.snapNID, chainLen: rm.chainLen, stateLen: len(rm.state),
		changes: changes, extremities: rm.extremities, depth: rm.depth}
}

// get reads current state as of this batch. Only the room's worker
// changes rm.state, and it is the caller, so no lock is needed.
func (b *batch) get(t storage.Tuple) int64 {
	if v, ok := b.changes[t]; ok {
		return v
	}
	return b.rm.state[t]
}

func (b *batch) set(t storage.Tuple, nid int64) {
	if _, had := b.changes[t]; !had {
		if _, had := b.rm.state[t]; !had {
			b.stateLen++
		}
	}
	b.changes[t] = nid
}

// fullState is the current state as of this batch (a new map).
func (b *batch) fullState() storage.StateMap {
	out := make(storage.StateMap, len(b.rm.state)+len(b.changes))
	for k, v := range b.rm.state {
		out[k] = v
	}
	for k, v := range b.changes {
		if v == 0 {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// apply publishes the committed batch into the room.
func (b *batch) apply() {
	rm := b.rm
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for k, v := range b.changes {
		if v == 0 {
			delete(rm.state, k)
			delete(rm.nonMembers, k)
		} else {
			rm.state[k] = v
			if k.EventType != spec.MRoomMember {
				rm.nonMembers[k] = struct{}{}
			}
		}
	}
	b.applyTally()
	rm.snapNID, rm.chainLen = b.snapNID, b.chainLen
	rm.extremities, rm.depth = b.extremities, b.depth
}

// authProvider gathers the current-state events for the tuples an event
// needs for auth.
func (r *RoomServer) authProvider(ctx context.Context, b *batch, tuples []gomatrixserverlib.StateKeyTuple) (*gomatrixserverlib.AuthEvents, error) {
	nids := make([]int64, 0, len(tuples))
	for _, t := range tuples {
		if nid := b.get(t); nid != 0 {
			nids = append(nids, nid)
		}
	}
	evs, err := r.eventsByNID(ctx, b.q(), b.rm.version, nids)
	if err != nil {
		return nil, err
	}
	pdus := make([]gomatrixserverlib.PDU, 0, len(evs))
	for _, nid := range nids {
		if e := evs[nid]; e != nil {
			pdus = append(pdus, e.pdu)
		}
	}
	return gomatrixserverlib.NewAuthEvents(pdus)
}

// currentPDU is the current state event for t, or nil.
func (r *RoomServer) currentPDU(ctx context.Context, b *batch, t storage.Tuple) (gomatrixserverlib.PDU, error) {
	nid := b.get(t)
	if nid == 0 {
		return nil, nil
	}
	evs, err := r.eventsByNID(ctx, b.q(), b.rm.version, []int64{nid})
	if err != nil || evs[nid] == nil {
		return nil, err
	}
	return evs[nid].pdu, nil
}

// runBatch processes tasks in one transaction, then applies the result to
// memory, publishes the outputs in order and answers the callers.
func (r *RoomServer) runBatch(rm *room, tasks []*inputTask) {
	b, err := r.commitBatchContained(rm, tasks)
	if isInputPanic(err) && len(tasks) > 1 {
		// The panic rolled back everyone's input: run each alone so only
		// the input that panics fails.
		for _, t := range tasks {
			r.runBatch(rm, []*inputTask{t})
		}
		return
	}
	if err != nil {
		r.failBatch(rm, tasks, err)
		return
	}
	b.apply()
	countPersisted(b.persisted)
	for _, t := range b.txns {
		r.txns.put(t.key, t.eventID)
	}
	// Publish, then answer (see publish).
	r.publish(b.staged)
	r.removeGuestsAfter(b.outputs)
	for _, t := range tasks {
		close(t.done)
	}
}

// commitBatch runs the tasks in one write transaction and returns the
// committed batch, not yet applied to memory.
func (r *RoomServer) commitBatch(rm *room, tasks []*inputTask) (*batch, error) {
	ctx := context.Background()
	b := newBatch(rm, nil)
	b.reader = r.db
	// Build and sign the first event before taking the (on SQLite,
	// server-wide) write lock: with many rooms, batches are mostly one
	// event, and signing is the costliest CPU step, so this lets it run
	// in parallel across rooms.
	// Announced first, so the writer waits for it rather than commit the
	// other rooms' writes without it (storage/announce.go).
	write := r.db.Announce()
	defer write.Withdraw() // on a refusal or panic before the write
	if first := &tasks[0].req.Events[0]; first.Local != nil && first.Local.Type != spec.MRoomCreate {
		pre, err := r.prepareLocal(ctx, b, first)
		if err != nil {
			return nil, err
		}
		b.prepared = pre
	}
	prepared := b.prepared
	err := write.WriteTx(ctx, r.batchTx(func(tx *istorage.Tx) (err error) {
		// Run again (PostgreSQL, after a lost connection) it starts from
		// the room as committed: the failed run's changes, outputs and
		// rows were not applied, in the database or in memory.
		b.reset(rm, tx)
		b.reader, b.prepared = r.db, prepared
		for _, t := range tasks {
			resp, err := r.processTask(ctx, b, t.req)
			if err != nil {
				return err
			}
			t.resp = resp
		}
		if b.headChanged {
			if err := r.db.UpdateRoomHead(ctx, tx, rm.nid, b.snapNID, b.extremities, b.depth); err != nil {
				return err
			}
		}
		if b.staged, err = r.stageOutputs(ctx, tx, rm.id, b.outputs); err != nil {
			return err
		}
		return r.fence(ctx, tx, rm)
	}))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// batchTx wraps a room batch's write function for what it leaves in the
// roomserver's caches (forgetUncommitted): run again, it starts with them
// forgotten; failing (an error or a panic), it forgets them at once, since
// on SQLite the next write of the same group commit may be given the
// rolled-back rows' NIDs. (A failed commit is forgotten by the caller.)
func (r *RoomServer) batchTx(fn func(tx *istorage.Tx) error) func(tx *istorage.Tx) error {
	runs := 0
	return func(tx *istorage.Tx) error {
		if runs++; runs > 1 {
			r.forgetUncommitted()
		}
		done := false
		defer func() {
			if !done {
				r.forgetUncommitted()
			}
		}()
		err := fn(tx)
		done = err == nil
		return err
	}
}

func (r *RoomServer) failBatch(rm *room, tasks []*inputTask, err error) {
	r.forgetUncommitted() // the commit may have failed (batchTx forgot the rest)
	if movedAway(err) {
		r.log.Info("room input retried at the partition's holder", "room_id", rm.id, "error", err)
	} else {
		r.log.Error("room input failed", "room_id", rm.id, "error", err)
	}
	for _, t := range tasks {
		t.resp, t.err = nil, err
		close(t.done)
	}
}

// createRoom runs a request whose first event creates a new room.
func (r *RoomServer) createRoom(req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	ctx := context.Background()
	rm := &room{state: storage.StateMap{}, nonMembers: map[storage.Tuple]struct{}{}, tally: newMemberTally()}
	var b *batch
	var resp *api.InputRoomEventsResponse
	err := r.db.WriteTx(ctx, r.batchTx(func(tx *istorage.Tx) error {
		rm.nid, rm.id, rm.version = 0, "", nil
		b = newBatch(rm, tx)
		b.reader = r.db
		b.newRoom = true
		var err error
		if resp, err = r.processTask(ctx, b, req); err != nil {
			return err
		}
		if rm.nid == 0 { // the create event was rejected
			return nil
		}
		if err := r.db.UpdateRoomHead(ctx, tx, rm.nid, b.snapNID, b.extremities, b.depth); err != nil {
			return err
		}
		if b.staged, err = r.stageOutputs(ctx, tx, rm.id, b.outputs); err != nil {
			return err
		}
		rm.epoch, _ = r.parts.leaseFor(rm.id)
		return r.fence(ctx, tx, rm)
	}))
	if err != nil {
		r.forgetUncommitted() // the commit may have failed
		return nil, err
	}
	if rm.nid == 0 {
		return resp, nil
	}
	b.apply()
	countPersisted(b.persisted)
	r.roomsMu.Lock()
	r.rooms[rm.id] = rm
	r.parts.cached(rm)
	r.roomsMu.Unlock()
	for _, t := range b.txns {
		r.txns.put(t.key, t.eventID)
	}
	r.publish(b.staged)
	return resp, nil
}

// processTask inputs one request's events in order. A returned error is
// internal (the transaction rolls back); rejections are per-event results.
func (r *RoomServer) processTask(ctx context.Context, b *batch, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	resp := &api.InputRoomEventsResponse{Results: make([]api.InputResult, 0, len(req.Events))}
	b.outliers, b.deferred = nil, deferredRows{}
	if err := r.prefetchIDs(ctx, b, req); err != nil {
		return nil, err
	}
	for i := range req.Events {
		in := &req.Events[i]
		if in.Local != nil || in.Event == nil || isOutlierPDU(in) {
			if err := r.flushDeferred(ctx, b); err != nil {
				return nil, err
			}
		}
		if err := r.startOutlierRun(ctx, b, req.Events, i); err != nil {
			return nil, err
		}
		var res api.InputResult
		var err error
		switch {
		case in.Local != nil:
			res, err = r.processLocal(ctx, b, in)
		case in.Event != nil && in.Event.PDU != nil:
			res, err = r.processPDU(ctx, b, in)
		default:
			res.Err = api.Errorf(api.CodeBadJSON, "input event has neither a PDU nor a local event")
		}
		if err != nil {
			return nil, err
		}
		if err := r.endOutlierRun(ctx, b, i); err != nil {
			return nil, err
		}
		resp.Results = append(resp.Results, res)
	}
	if err := r.flushDeferred(ctx, b); err != nil {
		return nil, err
	}
	resp.RoomID = matrixid.RoomID(b.rm.id)
	return resp, nil
}

// now is replaceable in tests.
var now = time.Now
