package roomserver

import (
	"context"
	"fmt"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/storage"
)

// stored is a parsed stored event with its bookkeeping.
type stored struct {
	nid         int64
	roomNID     int64
	snapshotNID int64
	status      int
	pdu         gomatrixserverlib.PDU
}

func (r *RoomServer) parseStored(row *storage.Event, version gomatrixserverlib.IRoomVersion) (*stored, error) {
	pdu, err := version.NewEventFromTrustedJSONWithEventID(row.EventID, row.JSON, row.RedactedBy != "")
	if err != nil {
		return nil, fmt.Errorf("parse stored event %s: %w", row.EventID, err)
	}
	return &stored{nid: row.NID, roomNID: row.RoomNID, snapshotNID: row.SnapshotNID, status: row.Status, pdu: pdu}, nil
}

// eventsByNID loads events of one room by NID through the cache.
func (r *RoomServer) eventsByNID(ctx context.Context, q istorage.Querier, version gomatrixserverlib.IRoomVersion, nids []int64) (map[int64]*stored, error) {
	out, missing := r.cachedByNID(nids)
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := r.db.EventsByNID(ctx, q, missing)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		e, err := r.parseStored(row, version)
		if err != nil {
			return nil, err
		}
		r.events.put(e.nid, e)
		out[e.nid] = e
	}
	return out, nil
}

// eventsByID loads events of one room by ID (not cached by ID).
func (r *RoomServer) eventsByID(ctx context.Context, q istorage.Querier, version gomatrixserverlib.IRoomVersion, ids []string) (map[string]*stored, error) {
	rows, err := r.db.EventsByID(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*stored, len(rows))
	for _, row := range rows {
		if e, ok := r.cachedEvent(row.NID); ok {
			out[row.EventID] = e
			continue
		}
		e, err := r.parseStored(row, version)
		if err != nil {
			return nil, err
		}
		r.events.put(e.nid, e)
		out[row.EventID] = e
	}
	return out, nil
}

// statePDUs loads the events of a state map.
func (r *RoomServer) statePDUs(ctx context.Context, q istorage.Querier, version gomatrixserverlib.IRoomVersion, s storage.StateMap) ([]gomatrixserverlib.PDU, error) {
	nids := make([]int64, 0, len(s))
	for _, nid := range s {
		nids = append(nids, nid)
	}
	evs, err := r.eventsByNID(ctx, q, version, nids)
	if err != nil {
		return nil, err
	}
	out := make([]gomatrixserverlib.PDU, 0, len(evs))
	for _, nid := range nids {
		if e := evs[nid]; e != nil {
			out = append(out, e.pdu)
		}
	}
	return out, nil
}

// loadSnapshot materialises a snapshot through the cache. The returned
// map is shared: callers must not modify it.
func (r *RoomServer) loadSnapshot(ctx context.Context, q istorage.Querier, nid int64) (storage.StateMap, int, error) {
	if s, ok := r.snapshots.get(nid); ok {
		return s.state, s.chainLen, nil
	}
	state, chainLen, err := r.db.LoadSnapshot(ctx, q, nid)
	if err != nil {
		return nil, 0, err
	}
	r.snapshots.put(nid, cachedSnapshot{state: state, chainLen: chainLen})
	return state, chainLen, nil
}

type cachedSnapshot struct {
	state    storage.StateMap
	chainLen int
}

// userIDForSender maps sender IDs to user IDs. Axon supports no pseudo-ID
// room versions, so they are the same.
func userIDForSender(_ spec.RoomID, senderID spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(senderID), true)
}

// stateRows loads the rows of events by NID without parsing them: from
// the cache where held, else as stored. A state change naming a joined
// room's whole state needs only their IDs, types, state keys and JSON,
// and parsing tens of thousands of events again (the cache holds a few
// thousand) cost more than storing them.
func (r *RoomServer) stateRows(ctx context.Context, q istorage.Querier, nids []int64) (map[int64]*storage.Event, error) {
	cached, missing := r.cachedByNID(nids)
	out := make(map[int64]*storage.Event, len(nids))
	for nid, e := range cached {
		out[nid] = &storage.Event{NID: nid, EventID: e.pdu.EventID(), Type: e.pdu.Type(), StateKey: e.pdu.StateKey(), JSON: e.pdu.JSON()}
	}
	rows, err := r.db.EventsByNID(ctx, q, missing) // none: no query
	for _, row := range rows {
		out[row.NID] = row
	}
	return out, err
}

// cachedByNID splits nids into the cached events and the NIDs to read.
func (r *RoomServer) cachedByNID(nids []int64) (map[int64]*stored, []int64) {
	out := make(map[int64]*stored, len(nids))
	var missing []int64
	for _, nid := range nids {
		if e, ok := r.cachedEvent(nid); ok {
			out[nid] = e
		} else if nid != 0 {
			missing = append(missing, nid)
		}
	}
	return out, missing
}
