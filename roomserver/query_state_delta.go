package roomserver

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
)

// QueryStateDelta implements api.RoomserverAPI: the change from one
// snapshot to the other, as replaceState would have put it in the
// output. Snapshots are immutable, so this is the output's delta
// whenever it is asked; a purged room's snapshots are gone and its delta
// reads empty (its purge output follows).
func (r *RoomServer) QueryStateDelta(ctx context.Context, _ matrixid.RoomID, ref api.StateDeltaRef) (*api.StateDelta, error) {
	before, _, err := r.loadSnapshot(ctx, r.db, ref.Before)
	if err != nil {
		return nil, err
	}
	after, _, err := r.loadSnapshot(ctx, r.db, ref.After)
	if err != nil {
		return nil, err
	}
	var adds, removes []int64
	for t, nid := range after {
		if before[t] != nid {
			adds = append(adds, nid)
		}
	}
	for t, nid := range before {
		if after[t] != nid {
			removes = append(removes, nid)
		}
	}
	rows, err := r.stateRows(ctx, r.db, append(slices.Clone(adds), removes...))
	if err != nil {
		return nil, err
	}
	d := &api.StateDelta{
		AddsStateEventIDs: make([]string, 0, len(adds)), AddedStateEvents: make([]json.RawMessage, 0, len(adds)),
	}
	for _, nid := range adds {
		if e := rows[nid]; e != nil {
			d.AddsStateEventIDs = append(d.AddsStateEventIDs, e.EventID)
			d.AddedStateEvents = append(d.AddedStateEvents, e.JSON)
		}
	}
	for _, nid := range removes {
		if e := rows[nid]; e != nil {
			d.RemovesStateEventIDs = append(d.RemovesStateEventIDs, e.EventID)
		}
	}
	return d, nil
}
