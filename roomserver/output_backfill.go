package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// outputBackfill queues an accepted backfilled event for the room_events
// stream, so syncapi can serve it in /messages. Its history visibility is
// the one in the state before it, not the current one.
func (r *RoomServer) outputBackfill(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, before storage.StateMap) error {
	vis := api.VisibilityShared
	if nid := before[storage.Tuple{EventType: spec.MRoomHistoryVisibility}]; nid != 0 {
		evs, err := r.eventsByNID(ctx, b.tx, b.rm.version, []int64{nid})
		if err != nil {
			return err
		}
		if e := evs[nid]; e != nil {
			vis = visibilityOf(e.pdu)
		}
	}
	b.outputs = append(b.outputs, api.OutputEvent{Type: api.OutputTypeBackfill, Backfill: &api.OutputBackfill{
		RoomID: b.rm.id, RoomVersion: string(b.rm.version.Version()), EventID: ev.EventID(), Event: ev.JSON(),
		Depth: ev.Depth(), HistoryVisibility: vis,
	}})
	return nil
}
