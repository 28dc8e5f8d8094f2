package roomserver

import (
	"context"

	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/roomserver/api"
)

// roomMediaPageEvents is how many events one QueryRoomMediaURIs page
// reads (the answer stays far below an RPC message's limit).
const roomMediaPageEvents = 500

// QueryRoomMediaURIs implements api.RoomserverAPI.
func (r *RoomServer) QueryRoomMediaURIs(ctx context.Context, roomID matrixid.RoomID, after int64) (*api.RoomMediaPage, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return nil, err
	}
	rows, err := r.db.RoomEventsAfter(ctx, rm.nid, after, roomMediaPageEvents)
	if err != nil {
		return nil, err
	}
	page := &api.RoomMediaPage{URIs: []string{}}
	seen := map[string]bool{}
	for _, row := range rows {
		for _, u := range matrixrules.MediaURIs([]byte(gjson.GetBytes(row.JSON, "content").Raw)) {
			if !seen[u] {
				seen[u] = true
				page.URIs = append(page.URIs, u)
			}
		}
	}
	if len(rows) == roomMediaPageEvents {
		page.Next = rows[len(rows)-1].NID
	}
	return page, nil
}
