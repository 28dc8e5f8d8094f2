package roomserver

import (
	"context"
	"errors"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/roomserver/api"
)

// ErrClosed is returned for input after Close.
var ErrClosed = errors.New("roomserver is shutting down")

// inputTask is one InputRoomEvents call waiting for its room's worker.
type inputTask struct {
	req  *api.InputRoomEventsRequest
	resp *api.InputRoomEventsResponse
	err  error
	done chan struct{}
	// purge: not input but PurgeRoom, run in its place in the queue.
	purge bool
}

// InputRoomEvents queues the events on their room's worker and waits for
// the result. All events of a room go through one worker at a time, so
// the DAG never forks locally; rooms run in parallel. A request that
// starts with the m.room.create of a new room runs directly: nobody else
// can know the room yet.
func (r *RoomServer) InputRoomEvents(ctx context.Context, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	if len(req.Events) == 0 {
		return &api.InputRoomEventsResponse{}, nil
	}
	if r.parts != nil && !r.parts.routed(ctx) {
		return r.parts.input(ctx, req) // partition.go; observed where it runs
	}
	defer r.observeInput(req, time.Now())
	r.closeMu.RLock()
	if r.closed {
		r.closeMu.RUnlock()
		return nil, ErrClosed
	}
	r.workers.Add(1)
	r.closeMu.RUnlock()

	roomID, isCreate := targetRoom(&req.Events[0])
	if isCreate {
		defer r.workers.Done()
		return r.createRoomContained(req)
	}
	if resp := r.preTxnCheck(req); resp != nil {
		r.workers.Done()
		return resp, nil
	}
	rm, err := r.room(ctx, roomID)
	if err != nil {
		r.workers.Done()
		return nil, err
	}
	if rm == nil {
		if startsRemoteRoom(&req.Events[0]) {
			defer r.workers.Done()
			return r.createRoomContained(req)
		}
		r.workers.Done()
		return nil, api.ErrRoomNotFound
	}
	t := &inputTask{req: req, done: make(chan struct{})}
	r.enqueue(rm, t)
	// The task runs to completion even if ctx ends: once queued, the
	// client's event may be committed, and so must be published.
	select {
	case <-t.done:
		return t.resp, t.err
	case <-ctx.Done():
		<-t.done
		return t.resp, t.err
	}
}

// enqueue adds t to the room's queue, starting its worker if none runs.
// The caller holds one count of r.workers, which passes to the worker.
func (r *RoomServer) enqueue(rm *room, t *inputTask) {
	rm.qmu.Lock()
	rm.pending = append(rm.pending, t)
	start := !rm.running
	rm.running = true
	rm.qmu.Unlock()
	if start {
		r.startWorker(rm)
	} else {
		r.workers.Done() // the running worker holds the count
	}
}

// targetRoom says which room an input event is for, and whether it
// creates a new one.
func targetRoom(ev *api.InputRoomEvent) (string, bool) {
	if ev.Local != nil {
		return string(ev.Local.RoomID), ev.Local.RoomID == "" && ev.Local.Type == spec.MRoomCreate
	}
	if ev.Event != nil && ev.Event.PDU != nil {
		return ev.Event.RoomID().String(), false
	}
	return "", false
}

// drain runs the room's queue until it is empty, one batch (all tasks
// pending) per database transaction.
func (r *RoomServer) drain(rm *room) {
	for {
		rm.qmu.Lock()
		tasks := rm.pending
		rm.pending = nil
		if len(tasks) == 0 {
			rm.running = false
			rm.qmu.Unlock()
			return
		}
		rm.qmu.Unlock()
		for len(tasks) > 0 {
			n := 0
			for n < len(tasks) && !tasks[n].purge {
				n++
			}
			switch {
			case n == 0:
				r.runPurge(rm, tasks[0])
				n = 1
			case rm.gone:
				// Purged: the input finds no room, as if it came later.
				for _, t := range tasks[:n] {
					t.resp, t.err = nil, api.ErrRoomNotFound
					close(t.done)
				}
			default:
				r.runBatch(rm, tasks[:n])
			}
			tasks = tasks[n:]
		}
	}
}
