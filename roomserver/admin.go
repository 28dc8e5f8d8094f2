package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/api"
)

// What server administration asks of rooms: blocking and purging.

// blockedMessage is the refusal for memberships of a blocked room.
const blockedMessage = "This room has been blocked on this server"

// SetRoomBlocked implements api.RoomserverAPI. The room need not be known.
func (r *RoomServer) SetRoomBlocked(ctx context.Context, roomID matrixid.RoomID, blocked bool, by matrixid.UserID) error {
	return r.db.BlockRoom(ctx, string(roomID), blocked, string(by), now().UnixMilli())
}

// QueryRoomBlocked implements api.RoomserverAPI.
func (r *RoomServer) QueryRoomBlocked(ctx context.Context, roomID matrixid.RoomID) (bool, matrixid.UserID, error) {
	blocked, by, err := r.db.RoomBlocked(ctx, r.db, string(roomID))
	return blocked, matrixid.UserID(by), err
}

// refusedByBlock says whether a membership event must be refused because
// its room is blocked: nobody may join, be invited or knock.
func (r *RoomServer) refusedByBlock(ctx context.Context, q istorage.Querier, roomID, evType string, content []byte) (bool, error) {
	if evType != spec.MRoomMember {
		return false, nil
	}
	switch gjson.GetBytes(content, "membership").Str {
	case spec.Join, spec.Invite, spec.Knock:
	default:
		return false, nil
	}
	blocked, _, err := r.db.RoomBlocked(ctx, q, roomID)
	return blocked, err
}

// PurgeRoom implements api.RoomserverAPI: the room's events, state,
// memberships, aliases and directory entries are deleted in one
// transaction that also stages an OutputPurgeRoom, so every consumer of
// room_events deletes its own copy. It runs on the room's input worker,
// after the input queued before it; input queued after it finds no room.
// An unknown room is no error (a purge resumed after a restart).
func (r *RoomServer) PurgeRoom(ctx context.Context, roomID matrixid.RoomID) error {
	r.closeMu.RLock()
	if r.closed {
		r.closeMu.RUnlock()
		return ErrClosed
	}
	r.workers.Add(1)
	r.closeMu.RUnlock()
	rm, err := r.room(ctx, string(roomID))
	if err != nil || rm == nil {
		r.workers.Done()
		return err
	}
	t := &inputTask{purge: true, done: make(chan struct{})}
	r.enqueue(rm, t)
	<-t.done
	return t.err
}

// runPurge deletes the room (see PurgeRoom) and forgets it in memory.
func (r *RoomServer) runPurge(rm *room, t *inputTask) {
	defer close(t.done)
	if rm.gone {
		return
	}
	ctx := context.Background()
	out := []api.OutputEvent{{Type: api.OutputTypePurgeRoom, PurgeRoom: &api.OutputPurgeRoom{RoomID: rm.id}}}
	var staged []outbox.Entry
	err := r.db.WriteTx(ctx, func(tx *istorage.Tx) error {
		if err := r.db.PurgeRoom(ctx, tx, rm.nid, rm.id); err != nil {
			return err
		}
		var err error
		staged, err = r.stageOutputs(ctx, tx, rm.id, out)
		return err
	})
	if err != nil {
		r.log.Error("purge room", "room_id", rm.id, "error", err)
		t.err = err
		return
	}
	rm.gone = true
	r.roomsMu.Lock()
	if r.rooms[rm.id] == rm {
		delete(r.rooms, rm.id)
	}
	r.roomsMu.Unlock()
	r.publish(staged)
}
