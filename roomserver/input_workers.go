package roomserver

import "time"

// A room's worker runs while the room has input queued. With many rooms
// and one event in flight in each, a goroutine started per room and
// ended when its queue empties is a new goroutine per event, and its
// stack grows again each time (2 KB up to what building and signing an
// event needs: runtime.newstack and copystack were ~6 % of the input
// CPU into 50 rooms). So a worker whose room is drained waits a while to
// be handed another room instead of ending.

// workerIdle is how long a drained worker waits for another room.
const workerIdle = 2 * time.Second

// startWorker runs rm's queue on an idle worker, or on a new one. The
// caller's count of r.workers passes to that worker.
func (r *RoomServer) startWorker(rm *room) {
	select {
	case r.idle <- rm:
	default:
		go r.worker(rm)
	}
}

// worker drains rm, then the rooms handed to it while it waits, and ends
// after workerIdle without one (or at Close). It holds a count of
// r.workers only while it drains a room.
func (r *RoomServer) worker(rm *room) {
	var wait *time.Timer
	for {
		r.drain(rm)
		r.workers.Done()
		if wait == nil {
			wait = time.NewTimer(workerIdle)
		} else {
			wait.Reset(workerIdle)
		}
		select {
		case rm = <-r.idle:
			wait.Stop()
		case <-wait.C:
			return
		case <-r.stopIdle:
			wait.Stop()
			return
		}
	}
}
