package roomserver

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/axon-hs/axon/roomserver/api"
)

// errInputPanicked is what an input gets when processing it panicked
// (a bug, or a library tripping over hostile remote events): the
// transaction is rolled back, the panic logged with its stack, and the
// server carries on with the next input.
var errInputPanicked = errors.New("internal error processing room input")

func isInputPanic(err error) bool { return errors.Is(err, errInputPanicked) }

// commitBatchContained is commitBatch with a panic turned into an error
// for this batch, so one room's input can never take the process down.
func (r *RoomServer) commitBatchContained(rm *room, tasks []*inputTask) (b *batch, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic processing room input", "room_id", rm.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			b, err = nil, errInputPanicked
		}
	}()
	return r.commitBatch(rm, tasks)
}

// createRoomContained is createRoom with a panic turned into an error.
func (r *RoomServer) createRoomContained(req *api.InputRoomEventsRequest) (resp *api.InputRoomEventsResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic creating room", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, errInputPanicked
		}
	}()
	return r.createRoom(req)
}
