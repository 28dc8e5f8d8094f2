package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// commitEvent stores an event whose state before is beforeSnap. For an
// accepted live event (advance) it also moves the room head: the event
// becomes part of current state (if a state event), the forward
// extremities and the output.
func (r *RoomServer) commitEvent(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, in *api.InputRoomEvent, status int, beforeSnap int64, advance bool) (int64, error) {
	nid, _, err := r.commitClaimedEvent(ctx, b, ev, in, status, beforeSnap, advance, nil)
	return nid, err
}

// commitClaimedEvent is commitEvent claiming a client transaction for
// the event (claim non-nil: a local event, stored at once) in the
// event's insert. If the transaction was claimed before, nothing is
// stored and first is the event ID it was sent as.
func (r *RoomServer) commitClaimedEvent(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, in *api.InputRoomEvent, status int, beforeSnap int64, advance bool, claim *storage.TxnClaim) (nid int64, first string, err error) {
	row := &storage.Event{
		RoomNID: b.rm.nid, EventID: ev.EventID(), Type: ev.Type(), StateKey: ev.StateKey(),
		Depth: ev.Depth(), OriginServerTS: int64(ev.OriginServerTS()), SnapshotNID: beforeSnap,
		Status: status, JSON: ev.JSON(),
	}
	if claim == nil && b.inOutlierRun(in) {
		// Inserted with the run's others (its NID is set then; nothing
		// reads it before).
		b.persisted[r.originOf(in, ev)]++
		b.outliers.stage(row, &stored{roomNID: b.rm.nid, snapshotNID: beforeSnap, status: status, pdu: ev})
		return 0, "", nil
	}
	if claim == nil && deferrable(b, in, ev, status, advance) {
		b.persisted[r.originOf(in, ev)]++
		b.deferRow(row, &stored{roomNID: b.rm.nid, snapshotNID: beforeSnap, status: status, pdu: ev})
		return 0, "", r.advance(ctx, b, ev, 0, in)
	}
	if err := r.flushDeferred(ctx, b); err != nil {
		return 0, "", err
	}
	if claim != nil {
		nid, first, err = r.db.InsertClaimedEvent(ctx, b.tx, *claim, row)
	} else {
		nid, err = r.db.InsertEvent(ctx, b.tx, row)
	}
	if err != nil || first != "" {
		return 0, first, err
	}
	b.persisted[r.originOf(in, ev)]++
	b.noteStored(ev.EventID(), nid)
	r.events.put(nid, &stored{nid: nid, roomNID: b.rm.nid, snapshotNID: beforeSnap, status: status, pdu: ev})
	if status != storage.StatusAccepted || !advance {
		return nid, "", nil
	}
	return nid, "", r.advance(ctx, b, ev, nid, in)
}

// advance moves the room head over an accepted event whose state before
// is the current state.
func (r *RoomServer) advance(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, nid int64, in *api.InputRoomEvent) error {
	var err error
	out := &api.OutputNewRoomEvent{
		RoomID: b.rm.id, RoomVersion: string(b.rm.version.Version()), EventID: ev.EventID(), Event: ev.JSON(),
		TransactionID: in.TransactionID, SendAsServer: in.SendAsServer,
	}
	out.HistoryVisibility, err = r.historyVisibility(ctx, b)
	if err != nil {
		return err
	}
	if sk := ev.StateKey(); sk != nil {
		t := storage.Tuple{EventType: ev.Type(), StateKey: *sk}
		old := b.get(t)
		if err := r.setState(ctx, b, t, nid); err != nil {
			return err
		}
		out.AddsStateEventIDs = []string{ev.EventID()}
		was, known := "", true
		if old != 0 {
			olds, err := r.eventsByNID(ctx, b.tx, b.rm.version, []int64{old})
			if err != nil {
				return err
			}
			o := olds[old]
			if o != nil {
				out.RemovesStateEventIDs = []string{o.pdu.EventID()}
				was = membershipOf(o.pdu)
			}
			known = o != nil
		}
		if ev.Type() == spec.MRoomMember {
			b.tallyChange(*sk, was, membershipOf(ev), known)
			if err := r.db.UpsertMembership(ctx, b.tx, b.rm.nid, *sk, membershipOf(ev), nid); err != nil {
				return err
			}
		}
	}
	b.extremities = nextExtremities(b.extremities, ev)
	b.depth = max(b.depth, ev.Depth())
	b.headChanged = true
	b.outputs = append(b.outputs, api.OutputEvent{Type: api.OutputTypeNewRoomEvent, NewRoomEvent: out})

	if ev.Type() == spec.MRoomRedaction {
		return r.applyRedaction(ctx, b, ev)
	}
	return nil
}

// nextExtremities: the event replaces the tips it points at.
func nextExtremities(cur []string, ev gomatrixserverlib.PDU) []string {
	prev := ev.PrevEventIDs()
	out := make([]string, 0, len(cur)+1)
	for _, id := range cur {
		referenced := false
		for _, p := range prev {
			if p == id {
				referenced = true
				break
			}
		}
		if !referenced {
			out = append(out, id)
		}
	}
	return append(out, ev.EventID())
}

// setState records a current-state change as a new snapshot: a one-entry
// delta on the previous snapshot, or a full snapshot when the delta chain
// has grown long for this state size (so reading any snapshot back stays
// bounded while a big room's state is not copied per change).
func (r *RoomServer) setState(ctx context.Context, b *batch, t storage.Tuple, nid int64) error {
	b.set(t, nid)
	limit := min(max(b.stateLen/64, 16), 256)
	var err error
	if b.snapNID == 0 || b.chainLen+1 > limit {
		b.snapNID, err = r.db.InsertSnapshot(ctx, b.tx, b.rm.nid, 0, 0, b.fullState())
		b.chainLen = 0
	} else {
		b.snapNID, err = r.db.InsertSnapshot(ctx, b.tx, b.rm.nid, b.snapNID, b.chainLen+1, storage.StateMap{t: nid})
		b.chainLen++
	}
	b.headChanged = true
	return err
}

func membershipOf(ev gomatrixserverlib.PDU) string {
	return gjson.GetBytes(ev.Content(), "membership").Str
}

// historyVisibility is the current m.room.history_visibility ("shared"
// when unset or invalid).
func (r *RoomServer) historyVisibility(ctx context.Context, b *batch) (string, error) {
	ev, err := r.currentPDU(ctx, b, storage.Tuple{EventType: spec.MRoomHistoryVisibility})
	if err != nil || ev == nil {
		return api.VisibilityShared, err
	}
	return visibilityOf(ev), nil
}

func visibilityOf(ev gomatrixserverlib.PDU) string {
	switch v := gjson.GetBytes(ev.Content(), "history_visibility").Str; v {
	case api.VisibilityWorldReadable, api.VisibilityShared, api.VisibilityInvited, api.VisibilityJoined:
		return v
	}
	return api.VisibilityShared
}
