package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// QueryEventVisibility implements api.RoomserverAPI with
// api.HistoryVisible, reading the state before each event.
func (r *RoomServer) QueryEventVisibility(ctx context.Context, userID matrixid.UserID, events []*api.Event) ([]bool, error) {
	out := make([]bool, len(events))
	for i, ev := range events {
		rm, err := r.room(ctx, ev.RoomID().String())
		if err != nil {
			return nil, err
		}
		if rm == nil {
			continue
		}
		evs, err := r.eventsByID(ctx, r.db, rm.version, []string{ev.EventID()})
		if err != nil {
			return nil, err
		}
		st := evs[ev.EventID()]
		if st == nil {
			continue
		}
		before, _, err := r.loadSnapshot(ctx, r.db, st.snapshotNID)
		if err != nil {
			return nil, err
		}
		vis := api.VisibilityShared
		if nid := before[storage.Tuple{EventType: spec.MRoomHistoryVisibility}]; nid != 0 {
			hv, err := r.eventsByNID(ctx, r.db, rm.version, []int64{nid})
			if err != nil {
				return nil, err
			}
			if hv[nid] != nil {
				vis = visibilityOf(hv[nid].pdu)
			}
		}
		atEvent, _, err := r.membership(ctx, rm, before, string(userID))
		if err != nil {
			return nil, err
		}
		if ev.Type() == spec.MRoomMember && ev.StateKeyEquals(string(userID)) {
			atEvent = membershipOf(ev.PDU)
		}
		current, _, err := r.membership(ctx, rm, rm.snapshot([]api.StateKey{{Type: spec.MRoomMember, StateKey: string(userID)}}), string(userID))
		if err != nil {
			return nil, err
		}
		out[i] = api.HistoryVisible(vis, atEvent, current)
	}
	return out, nil
}
