package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// QueryEventVisibility implements api.RoomserverAPI with
// api.VisibilityCheck, reading the state before each event.
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
		c := api.VisibilityCheck{Visibility: vis}
		if c.MembershipBefore, _, err = r.membership(ctx, rm, before, string(userID)); err != nil {
			return nil, err
		}
		switch {
		case ev.Type() == spec.MRoomMember && ev.StateKeyEquals(string(userID)):
			c.OwnMembershipAfter = membershipOf(ev.PDU)
		case ev.Type() == spec.MRoomHistoryVisibility && ev.StateKeyEquals(""):
			c.VisibilityAfter = visibilityOf(ev.PDU)
		}
		if !c.Visible() {
			if c.JoinedAfter, err = r.joinedAfter(ctx, rm, string(userID), st.nid); err != nil {
				return nil, err
			}
		}
		out[i] = c.Visible()
	}
	return out, nil
}

// maxMembershipWalk bounds how many of a user's membership changes
// joinedAfter looks back through.
const maxMembershipWalk = 100

// joinedAfter reports whether userID was joined at some point after the
// event afterNID, walking back from their current member event through
// the state before each earlier one. Events are ordered by when this
// server stored them; an event learned later (backfill) than a join
// therefore counts as after it, which errs towards hiding.
func (r *RoomServer) joinedAfter(ctx context.Context, rm *room, userID string, afterNID int64) (bool, error) {
	key := storage.Tuple{EventType: spec.MRoomMember, StateKey: userID}
	nid := rm.snapshot([]api.StateKey{{Type: spec.MRoomMember, StateKey: userID}})[key]
	for range maxMembershipWalk {
		if nid == 0 || nid <= afterNID {
			return false, nil
		}
		evs, err := r.eventsByNID(ctx, r.db, rm.version, []int64{nid})
		if err != nil {
			return false, err
		}
		m := evs[nid]
		if m == nil {
			return false, nil
		}
		if membershipOf(m.pdu) == spec.Join {
			return true, nil
		}
		before, _, err := r.loadSnapshot(ctx, r.db, m.snapshotNID)
		if err != nil {
			return false, err
		}
		nid = before[key]
	}
	return false, nil
}
