package syncapi

import (
	"context"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// stateAtLeave is the room state as of the user's leave (or ban) event m,
// for the state of a rooms.leave section: syncapi keeps only current
// state, so the roomserver says which events made the state after the
// leave, and syncapi serves its own copies. Only events stored after lo
// count (lo > 0: an incremental sync, where older state is known to the
// client already).
func (s *SyncAPI) stateAtLeave(ctx context.Context, m storage.MembershipChange, lo types.StreamPosition) ([]*types.Event, error) {
	if m.EventID == "" {
		return nil, nil
	}
	if s.rooms == nil {
		return nil, nil
	}
	after, err := s.rooms.QueryStateAfterEvent(ctx, matrixid.RoomID(m.RoomID), matrixid.EventID(m.EventID), nil)
	if err != nil {
		// An unreachable roomserver (polylith) must not fail the whole
		// sync: the section goes out without state.
		s.log.Warn("state at leave", "room_id", m.RoomID, "event_id", m.EventID, "error", err)
		return nil, nil
	}
	ids := make([]string, 0, len(after))
	for _, ev := range after {
		ids = append(ids, ev.EventID())
	}
	evs, err := s.db.EventsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := evs[:0]
	for _, ev := range evs {
		if ev.Pos > lo && ev.RoomID == m.RoomID {
			out = append(out, ev)
		}
	}
	return out, nil
}
