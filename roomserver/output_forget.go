package roomserver

import (
	"context"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/api"
)

// ForgetRoom implements api.RoomserverAPI.
func (r *RoomServer) ForgetRoom(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID) error {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return err
	}
	m, eventID, err := r.QueryMembership(ctx, roomID, userID)
	if err != nil {
		return err
	}
	if matrixrules.IsActive(m) {
		return api.Errorf(api.CodeForbidden, "you must leave the room before forgetting it")
	}
	// syncapi hides forgotten rooms too (initial /sync, /messages): the
	// forget goes out on the room's stream after the leave it forgets.
	out := []api.OutputEvent{{Type: api.OutputTypeForget, Forget: &api.OutputForget{
		RoomID: rm.id, UserID: string(userID), MembershipEventID: string(eventID)}}}
	var staged []outbox.Entry
	err = r.db.WriteTx(ctx, func(tx *istorage.Tx) error {
		if err := r.db.Forget(ctx, tx, rm.nid, string(userID)); err != nil {
			return err
		}
		var err error
		staged, err = r.stageOutputs(ctx, tx, rm.id, out)
		return err
	})
	if err != nil {
		return err
	}
	r.publish(staged)
	return nil
}
