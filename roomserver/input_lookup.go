package roomserver

import (
	"context"

	"github.com/axon-hs/axon/roomserver/api"
)

// A request of several PDUs (a /send transaction's events of one room)
// names mostly the same events again and again: each one's prev event
// is the one before it, the auth events are the same few. Instead of a
// query per PDU for its own, auth and prev IDs (which also read every
// event's JSON back), the batch looks all of them up at once, NIDs
// only, and then serves them from the event cache; events the batch
// stores are added as it goes. Within the write transaction nobody else
// stores events of this room (its worker is the caller), so what the
// look-up found absent stays absent unless the batch stores it.

// prefetchIDs looks up the IDs every PDU of req names, when it has
// more than one (a join's run of outliers, input_outliers.go, is served
// from it too).
func (r *RoomServer) prefetchIDs(ctx context.Context, b *batch, req *api.InputRoomEventsRequest) error {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if _, known := b.ids[id]; !known && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	pdus := 0
	for i := range req.Events {
		if ev := req.Events[i].Event; ev != nil && ev.PDU != nil {
			pdus++
			add(ev.EventID())
			for _, id := range ev.AuthEventIDs() {
				add(id)
			}
			if isOutlierPDU(&req.Events[i]) {
				continue // an outlier is placed by its auth events alone
			}
			for _, id := range ev.PrevEventIDs() {
				add(id)
			}
		}
	}
	if pdus < 2 || len(ids) == 0 {
		return nil
	}
	found, err := r.db.EventNIDsByID(ctx, b.tx, ids)
	if err != nil {
		return err
	}
	if b.ids == nil {
		b.ids = make(map[string]int64, len(ids))
	}
	for _, id := range ids {
		b.ids[id] = found[id] // 0: not stored
	}
	return nil
}

// knownEvents loads the stored events among ids, through the batch's
// look-up when it covers them.
func (r *RoomServer) knownEvents(ctx context.Context, b *batch, ids []string) (map[string]*stored, error) {
	if b.ids == nil {
		return r.eventsByID(ctx, b.tx, b.rm.version, ids)
	}
	var nids []int64
	var rest []string
	out := make(map[string]*stored, len(ids))
	for _, id := range ids {
		if s := b.deferredEvent(id); s != nil {
			out[id] = s
		} else if nid, ok := b.ids[id]; !ok {
			rest = append(rest, id)
		} else if nid != 0 {
			nids = append(nids, nid)
		}
	}
	if len(rest) > 0 {
		more, err := r.eventsByID(ctx, b.tx, b.rm.version, rest)
		if err != nil {
			return nil, err
		}
		for id, e := range more {
			out[id] = e
		}
	}
	if len(nids) == 0 {
		return out, nil
	}
	evs, err := r.eventsByNID(ctx, b.tx, b.rm.version, nids)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		out[e.pdu.EventID()] = e
	}
	return out, nil
}

// noteStored records an event the batch stored in its look-up.
func (b *batch) noteStored(eventID string, nid int64) {
	if b.ids != nil {
		b.ids[eventID] = nid
	}
}
