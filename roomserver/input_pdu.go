package roomserver

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/jsontext"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// processPDU inputs an event built by another server (or replayed):
//  1. it must pass auth against its own auth_events (else stored rejected),
//  2. outliers stop there,
//  3. it must pass auth against the state before it, resolved from its
//     prev_events (else stored rejected),
//  4. backfilled events are stored with that state and stop there,
//  5. it must pass auth against the current state, else it is stored
//     soft-failed (kept out of the timeline and of current state),
//  6. otherwise current state becomes the state after it, resolved with
//     the current state when it does not descend from every tip.
//
// Signature and hash checks belong to the federation receiver, before
// this point. Missing prev/auth events are the caller's to fetch first.
func (r *RoomServer) processPDU(ctx context.Context, b *batch, in *api.InputRoomEvent) (api.InputResult, error) {
	ev := in.Event.PDU
	res := api.InputResult{EventID: matrixid.EventID(ev.EventID())}
	if b.rm.nid == 0 {
		if rej := r.startRemoteRoom(ctx, b, in); rej != nil {
			return *rej, nil
		}
	}
	switch {
	case ev.RoomID().String() != b.rm.id:
		return reject(api.CodeBadJSON, "event is for another room"), nil
	case ev.Version() != b.rm.version.Version():
		return reject(api.CodeBadJSON, "event has the wrong room version"), nil
	case len(ev.JSON()) > MaxEventBytes:
		return reject(api.CodeTooLarge, "event too large"), nil
	}
	if err := jsontext.Check(ev.JSON()); err != nil {
		// Refused before anything is stored: such an event could not be
		// kept on PostgreSQL, and would stop every consumer that copies it.
		return reject(api.CodeBadJSON, "event refused: "+err.Error()), nil
	}
	if err := gomatrixserverlib.CheckFields(ev); err != nil && !persistable(b.rm.version, err) {
		return reject(api.CodeBadJSON, err.Error()), nil
	}
	if sk := ev.StateKey(); sk != nil && ev.Type() == spec.MRoomMember && strings.HasSuffix(*sk, ":"+string(r.serverName)) {
		// Our users may not join, be invited to or knock on a blocked
		// room over federation either.
		if refused, err := r.refusedByBlock(ctx, b.q(), b.rm.id, ev.Type(), ev.Content()); err != nil || refused {
			if err != nil {
				return res, err
			}
			return reject(api.CodeForbidden, blockedMessage), nil
		}
	}
	known, err := r.knownFor(ctx, b, in)
	if err != nil {
		return res, err
	}
	if known[ev.EventID()] != nil {
		res.Duplicate = true
		return res, nil
	}
	if in.Kind == api.KindOutOfBand {
		return r.storeOutOfBand(ctx, b, ev, in)
	}

	// 1. auth events
	if missing := missingAuth(ev, known); len(missing) > 0 {
		res := reject(api.CodeNotFound, "missing auth events")
		res.EventID, res.MissingAuthEvents = matrixid.EventID(ev.EventID()), missing
		if in.Kind != api.KindOutlier && !in.HasState {
			// Both at once: the caller fills the prev gap first, which
			// usually brings the auth events with it.
			res.MissingPrevEvents = missingPrev(ev, known)
		}
		return res, nil
	}
	var authPDUs []gomatrixserverlib.PDU
	var authNIDs []int64
	for _, id := range ev.AuthEventIDs() {
		a := known[id]
		if a.status == storage.StatusRejected {
			return r.rejectEarly(ctx, b, ev, in, known, "auth event "+id+" was rejected")
		}
		authPDUs = append(authPDUs, a.pdu)
		authNIDs = append(authNIDs, a.nid)
	}
	provider, err := gomatrixserverlib.NewAuthEvents(authPDUs)
	if err != nil {
		return r.rejectEarly(ctx, b, ev, in, known, err.Error())
	}
	if err := gomatrixserverlib.Allowed(ev, provider, userIDForSender); err != nil {
		return r.rejectEarly(ctx, b, ev, in, known, trimAuthErr(err))
	}
	// 2. outliers
	if in.Kind == api.KindOutlier {
		_, err := r.commitEvent(ctx, b, ev, in, storage.StatusOutlier, 0, false)
		return res, err
	}
	// 3. state before: from the prev events, or given (HasState)
	var before storage.StateMap
	var beforeSnap int64
	onTip := false // ev's one prev event is the room's one forward extremity
	if in.HasState {
		if len(missingPrev(ev, known)) > 0 {
			defer markHistoryGap(b, len(b.outputs), ev.EventID())
		}
		var missing []string
		if before, beforeSnap, missing, err = r.givenState(ctx, b, in.StateEventIDs); err != nil {
			return res, err
		}
		if len(missing) > 0 {
			res := reject(api.CodeNotFound, "missing state events")
			res.EventID, res.MissingAuthEvents = matrixid.EventID(ev.EventID()), missing
			return res, nil
		}
	} else {
		if missing := missingPrev(ev, known); len(missing) > 0 {
			res := reject(api.CodeNotFound, "missing prev events")
			res.EventID, res.MissingPrevEvents = matrixid.EventID(ev.EventID()), missing
			return res, nil
		}
		prevs := prevsOf(ev, known)
		if onTip = len(prevs) == 1 && len(b.extremities) == 1 && b.extremities[0] == prevs[0].pdu.EventID(); onTip {
			// The one forward extremity: the state after it is current
			// state (no snapshot to load, nothing to resolve or copy).
			beforeSnap = b.snapNID
		} else if before, beforeSnap, err = r.stateBefore(ctx, b, prevs); err != nil {
			return res, err
		}
	}
	beforeGet := before.Get
	if onTip {
		beforeGet = b.get
	}
	ok, beforeNIDs, err := r.allowedBy(ctx, b, ev, beforeGet, authNIDs)
	if err != nil || !ok {
		if err != nil {
			return res, err
		}
		return r.storeRejected(ctx, b, ev, in, "not allowed by the state before the event", beforeSnap)
	}
	// 4. backfill
	if in.Kind == api.KindBackfill {
		if onTip {
			before = b.fullState()
		}
		if _, err := r.commitEvent(ctx, b, ev, in, storage.StatusAccepted, beforeSnap, false); err != nil {
			return res, err
		}
		return res, r.outputBackfill(ctx, b, ev, before)
	}
	// 5. soft-fail (unless the given state replaces stale current state)
	if in.HasState {
		current := b.fullState()
		stale, err := r.staleState(ctx, b, current)
		if err != nil {
			return res, err
		}
		if stale {
			return res, r.adoptState(ctx, b, ev, in, current, before, beforeSnap)
		}
	}
	if ok, _, err := r.allowedBy(ctx, b, ev, b.get, beforeNIDs); err != nil || !ok {
		if err != nil {
			return res, err
		}
		_, err := r.commitEvent(ctx, b, ev, in, storage.StatusSoftFailed, beforeSnap, false)
		res.SoftFailed = true
		return res, err
	}
	// 6. advance
	descendsFromAll := coversAll(ev.PrevEventIDs(), b.extremities)
	if descendsFromAll && beforeSnap == b.snapNID {
		_, err := r.commitEvent(ctx, b, ev, in, storage.StatusAccepted, beforeSnap, true)
		return res, err
	}
	nid, err := r.commitEvent(ctx, b, ev, in, storage.StatusAccepted, beforeSnap, false)
	if err != nil {
		return res, err
	}
	current := b.fullState()
	if onTip {
		before = current
	}
	after := maps.Clone(before)
	if sk := ev.StateKey(); sk != nil {
		after[storage.Tuple{EventType: ev.Type(), StateKey: *sk}] = nid
	}
	next := after
	if !descendsFromAll {
		if next, err = r.resolveState(ctx, b.tx, b.rm.version, []storage.StateMap{current, after}); err != nil {
			return res, err
		}
	}
	return res, r.replaceState(ctx, b, ev, in, current, next, nil)
}

// markHistoryGap flags the output of eventID written from outputs[from]
// on: the event was placed on given state over prev events this server
// does not have.
func markHistoryGap(b *batch, from int, eventID string) {
	for _, o := range b.outputs[min(from, len(b.outputs)):] {
		if o.NewRoomEvent != nil && o.NewRoomEvent.EventID == eventID {
			o.NewRoomEvent.HistoryGap = true
		}
	}
}

func coversAll(prevs, extremities []string) bool {
	for _, x := range extremities {
		if !slices.Contains(prevs, x) {
			return false
		}
	}
	return true
}

// allowedBy checks ev against the given state (a lookup), and returns the NIDs of
// the state events the check looked at. When they are the events of
// passed, a set ev was already allowed by, the check is not run again:
// its outcome depends only on the event and that set (on a linear chain
// the state before, current state and the auth events usually agree).
func (r *RoomServer) allowedBy(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, state func(storage.Tuple) int64, passed []int64) (bool, []int64, error) {
	needed := gomatrixserverlib.StateNeededForAuth([]gomatrixserverlib.PDU{ev}).Tuples()
	nids := make([]int64, 0, len(needed))
	for _, t := range needed {
		if nid := state(t); nid != 0 && !slices.Contains(nids, nid) {
			nids = append(nids, nid)
		}
	}
	if sameNIDs(nids, passed) {
		return true, nids, nil
	}
	evs, err := r.eventsByNID(ctx, b.tx, b.rm.version, nids)
	if err != nil {
		return false, nil, err
	}
	pdus := make([]gomatrixserverlib.PDU, 0, len(evs))
	for _, e := range evs {
		pdus = append(pdus, e.pdu)
	}
	provider, err := gomatrixserverlib.NewAuthEvents(pdus)
	if err != nil {
		return false, nil, nil
	}
	return gomatrixserverlib.Allowed(ev, provider, userIDForSender) == nil, nids, nil
}

// sameNIDs: do a and b hold the same events (each without repeats)?
func sameNIDs(a, b []int64) bool {
	if len(a) != len(b) || a == nil {
		return false
	}
	for _, nid := range a {
		if !slices.Contains(b, nid) {
			return false
		}
	}
	return true
}

// stateBefore is the state after each prev event, resolved when there are
// several. It returns a snapshot NID for it, writing one if needed.
func (r *RoomServer) stateBefore(ctx context.Context, b *batch, prevs []*stored) (storage.StateMap, int64, error) {
	sets := make([]storage.StateMap, 0, len(prevs))
	var single *stored
	for _, p := range prevs {
		s, _, err := r.loadSnapshot(ctx, b.tx, p.snapshotNID)
		if err != nil {
			return nil, 0, err
		}
		if sk := stateKeyIfApplied(p); sk != nil {
			s = maps.Clone(s)
			s[storage.Tuple{EventType: p.pdu.Type(), StateKey: *sk}] = p.nid
		}
		sets = append(sets, s)
		single = p
	}
	if len(prevs) == 1 {
		if stateKeyIfApplied(single) == nil {
			return sets[0], single.snapshotNID, nil
		}
		if maps.Equal(sets[0], b.fullState()) {
			return sets[0], b.snapNID, nil
		}
		sk := storage.Tuple{EventType: single.pdu.Type(), StateKey: *single.pdu.StateKey()}
		snap, err := r.db.InsertSnapshot(ctx, b.tx, b.rm.nid, single.snapshotNID, 1, storage.StateMap{sk: single.nid})
		return sets[0], snap, err
	}
	resolved, err := r.resolveState(ctx, b.tx, b.rm.version, sets)
	if err != nil {
		return nil, 0, err
	}
	snap, err := r.db.InsertSnapshot(ctx, b.tx, b.rm.nid, 0, 0, resolved)
	return resolved, snap, err
}

// stateKeyIfApplied is a prev event's state key if it changed the state
// after it: a rejected event changes nothing (spec: the state is
// calculated as normal, not updated with the rejected event).
func stateKeyIfApplied(p *stored) *string {
	if p.status == storage.StatusRejected {
		return nil
	}
	return p.pdu.StateKey()
}

func prevsOf(ev gomatrixserverlib.PDU, known map[string]*stored) []*stored {
	prevs := make([]*stored, 0, len(ev.PrevEventIDs()))
	for _, id := range ev.PrevEventIDs() {
		prevs = append(prevs, known[id])
	}
	return prevs
}

// rejectEarly stores an event that failed auth against its own auth
// events. When its prev events are known the state before it is kept
// with it: later events of other servers may cite it as a prev event
// and must still be placed (spec, "Rejection").
func (r *RoomServer) rejectEarly(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, in *api.InputRoomEvent, known map[string]*stored, why string) (api.InputResult, error) {
	var snap int64
	if in.Kind != api.KindOutlier && !in.HasState && len(missingPrev(ev, known)) == 0 {
		var err error
		if _, snap, err = r.stateBefore(ctx, b, prevsOf(ev, known)); err != nil {
			return api.InputResult{}, err
		}
	}
	return r.storeRejected(ctx, b, ev, in, why, snap)
}

// storeRejected keeps a rejected PDU (so it is not re-fetched and events
// citing it as an auth event are rejected too) and reports it. beforeSnap
// is the state before it, 0 when unknown.
func (r *RoomServer) storeRejected(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, in *api.InputRoomEvent, why string, beforeSnap int64) (api.InputResult, error) {
	if _, err := r.commitEvent(ctx, b, ev, in, storage.StatusRejected, beforeSnap, false); err != nil {
		return api.InputResult{}, err
	}
	return api.InputResult{EventID: matrixid.EventID(ev.EventID()), Err: api.Errorf(api.CodeForbidden, why)}, nil
}

// maxOutputStateDelta is the largest state change an output carries
// itself (events added and removed); past it the output names the
// snapshots instead (api.StateDeltaRef). A variable for tests.
var maxOutputStateDelta = 100

// stateSnapshot names a stored snapshot and its delta chain length.
type stateSnapshot struct {
	nid      int64
	chainLen int
}

// replaceState makes next the current state after ev (a fork merge):
// a snapshot (nextSnap when the caller stored next already, else a full
// one), membership rows for changed members, and an output carrying the
// whole state delta.
func (r *RoomServer) replaceState(ctx context.Context, b *batch, ev gomatrixserverlib.PDU, in *api.InputRoomEvent, current, next storage.StateMap, nextSnap *stateSnapshot) error {
	out := &api.OutputNewRoomEvent{
		RoomID: b.rm.id, RoomVersion: string(b.rm.version.Version()), EventID: ev.EventID(), Event: ev.JSON(),
		TransactionID: in.TransactionID, SendAsServer: in.SendAsServer,
	}
	var err error
	if out.HistoryVisibility, err = r.historyVisibility(ctx, b); err != nil {
		return err
	}
	var changed []int64
	var memberDelta []memberEntry
	for t, nid := range next {
		if current[t] != nid {
			changed = append(changed, nid)
			b.changes[t] = nid
			if t.EventType == spec.MRoomMember {
				memberDelta = append(memberDelta, memberEntry{t.StateKey, current[t], nid})
			}
		}
	}
	var removed []int64
	for t, nid := range current {
		if next[t] != nid {
			removed = append(removed, nid)
			if _, ok := next[t]; !ok {
				b.changes[t] = 0
				if t.EventType == spec.MRoomMember {
					memberDelta = append(memberDelta, memberEntry{t.StateKey, nid, 0})
				}
			}
		}
	}
	// A big change is left for consumers to read from the snapshots
	// (b.snapNID is current's, 0 only while the room has no state).
	inline := len(changed)+len(removed) <= maxOutputStateDelta || (b.snapNID == 0 && len(current) > 0)
	evs, err := r.stateRows(ctx, b.tx, rowsNeeded(ev, next, changed, removed, memberDelta, inline))
	if err != nil {
		return err
	}
	for _, d := range memberDelta {
		was, wasOK := rowMembership(evs, d.was)
		now, nowOK := rowMembership(evs, d.now)
		b.tallyChange(d.userID, was, now, wasOK && nowOK)
	}
	if nextSnap == nil {
		snap, err := r.db.InsertSnapshot(ctx, b.tx, b.rm.nid, 0, 0, next)
		if err != nil {
			return err
		}
		nextSnap = &stateSnapshot{nid: snap}
	}
	if !inline {
		out.StateDelta = &api.StateDeltaRef{Before: b.snapNID, After: nextSnap.nid}
	}
	var members []storage.Membership
	for _, nid := range changed {
		e := evs[nid]
		if e == nil {
			continue
		}
		if e.EventID == ev.EventID() && !inline {
			out.StateDelta.AddsEvent = true
		}
		if inline {
			out.AddsStateEventIDs = append(out.AddsStateEventIDs, e.EventID)
			if e.EventID != ev.EventID() {
				out.AddedStateEvents = append(out.AddedStateEvents, e.JSON)
				out.AddedStateEventIDs = append(out.AddedStateEventIDs, e.EventID)
			}
		}
		if e.Type == spec.MRoomMember && e.StateKey != nil {
			members = append(members, storage.Membership{UserID: *e.StateKey, Membership: gjson.GetBytes(e.JSON, "content.membership").Str, EventNID: nid})
		}
	}
	if err := r.db.UpsertMemberships(ctx, b.tx, b.rm.nid, members); err != nil {
		return err
	}
	for _, nid := range removed {
		if e := evs[nid]; e != nil && inline {
			out.RemovesStateEventIDs = append(out.RemovesStateEventIDs, e.EventID)
		}
	}
	b.snapNID, b.chainLen, b.stateLen = nextSnap.nid, nextSnap.chainLen, len(next)
	b.extremities = nextExtremities(b.extremities, ev)
	b.depth = max(b.depth, ev.Depth())
	b.headChanged = true
	b.outputs = append(b.outputs, api.OutputEvent{Type: api.OutputTypeNewRoomEvent, NewRoomEvent: out})
	if ev.Type() == spec.MRoomRedaction {
		return r.applyRedaction(ctx, b, ev)
	}
	return nil
}

// rowsNeeded are the events replaceState reads: an inline change's
// events go into its output; a big one's output names snapshots, so
// only the member events (for membership rows and the tally) and ev
// itself are read, not every event of a joined room's state.
func rowsNeeded(ev gomatrixserverlib.PDU, next storage.StateMap, changed, removed []int64, memberDelta []memberEntry, inline bool) []int64 {
	if inline {
		return append(slices.Clone(changed), removed...)
	}
	nids := make([]int64, 0, 2*len(memberDelta)+1)
	for _, d := range memberDelta {
		nids = append(nids, d.was, d.now)
	}
	if sk := ev.StateKey(); sk != nil {
		nids = append(nids, next[storage.Tuple{EventType: ev.Type(), StateKey: *sk}])
	}
	return nids
}

// persistable: a size limit the room version enforces leniently (before
// v11, a type or state key over 255 bytes but within 255 code points, as
// other servers always accepted) — the event is kept so the room is not
// broken for us. From v11 the limits count bytes.
func persistable(version gomatrixserverlib.IRoomVersion, err error) bool {
	var ve gomatrixserverlib.EventValidationError
	return errors.As(err, &ve) && ve.Persistable && !version.StrictEventByteLimits()
}
