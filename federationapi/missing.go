package federationapi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// Filling gaps in the DAG. A PDU whose prev events we lack gets them from
// /get_missing_events (up to gapLimit); if the gap is wider, the state
// before the oldest event returned comes from /state_ids (unknown events
// from /event) and it is input with that state, stepping over the gap.
// The pushed event itself is stepped over that way only when the origin
// does not answer /get_missing_events. Auth events still missing after
// that come from /event_auth, or one by one from /event when the origin
// does not serve /event_auth.
const (
	gapLimit      = 50
	maxStateFetch = 10000
	fetchWorkers  = 8
)

func inputErr(err error) rsapi.InputResult {
	return rsapi.InputResult{Err: rsapi.Errorf(rsapi.CodeNotFound, err.Error())}
}

func needsFetch(r rsapi.InputResult) bool {
	return len(r.MissingPrevEvents) > 0 || len(r.MissingAuthEvents) > 0
}

// inputPDUs inputs events of one room in order; an internal failure
// becomes every event's result.
func (f *FederationAPI) inputPDUs(ctx context.Context, kind rsapi.InputKind, evs []gomatrixserverlib.PDU) []rsapi.InputResult {
	out := make([]rsapi.InputResult, len(evs))
	if len(evs) == 0 {
		return out
	}
	req := &rsapi.InputRoomEventsRequest{Events: make([]rsapi.InputRoomEvent, len(evs))}
	for i, e := range evs {
		req.Events[i] = rsapi.InputRoomEvent{Kind: kind, Event: rsapi.NewEvent(e)}
	}
	resp, err := f.rooms.InputRoomEvents(ctx, req)
	for i := range evs {
		switch {
		case err != nil:
			out[i] = inputErr(err)
		case resp == nil || i >= len(resp.Results):
			out[i] = inputErr(fmt.Errorf("not processed"))
		default:
			out[i] = resp.Results[i]
		}
	}
	return out
}

// fillGapAndRetry handles a PDU the roomserver could not place.
func (f *FederationAPI) fillGapAndRetry(ctx context.Context, origin spec.ServerName, ev gomatrixserverlib.PDU, res rsapi.InputResult) rsapi.InputResult {
	ctx, cancel := context.WithTimeout(ctx, performTimeout)
	defer cancel()
	ver, err := gomatrixserverlib.GetRoomVersion(ev.Version())
	if err != nil {
		return res
	}
	// An earlier PDU of the same transaction may have filled the gap.
	if res = f.inputPDUs(ctx, rsapi.KindNew, []gomatrixserverlib.PDU{ev})[0]; !needsFetch(res) {
		return res
	}
	// Prev events first: the events get_missing_events returns (or the
	// state /state_ids names) usually hold the missing auth events too.
	if len(res.MissingPrevEvents) > 0 {
		answered := f.fetchMissingEvents(ctx, origin, ver, ev)
		if res = f.inputPDUs(ctx, rsapi.KindNew, []gomatrixserverlib.PDU{ev})[0]; len(res.MissingPrevEvents) > 0 {
			if answered {
				// An origin that answered get_missing_events had its
				// chance: a pushed event whose prev events it cannot (or
				// will not) give is dropped, not placed on state it
				// asserts (which would let any server reset the room's
				// state through an event of its own).
				return res
			}
			// Only when the origin could not say what the gap holds.
			return f.inputWithRemoteState(ctx, origin, ver, ev, rsapi.KindNew)
		}
	}
	if len(res.MissingAuthEvents) > 0 {
		f.fetchAuthEvents(ctx, origin, ver, ev, res.MissingAuthEvents)
		res = f.inputPDUs(ctx, rsapi.KindNew, []gomatrixserverlib.PDU{ev})[0]
	}
	return res
}

// fetchAuthEvents fetches ev's auth chain (/event_auth), or, when the
// origin does not answer that, the missing auth events one by one.
func (f *FederationAPI) fetchAuthEvents(ctx context.Context, origin spec.ServerName, ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU, missing []string) {
	err := f.fetchAuthChain(ctx, origin, ver, ev)
	if err == nil {
		return
	}
	f.base.Log.Info("fetching auth chain failed; fetching the missing auth events", "event_id", ev.EventID(), "origin", origin, "error", err)
	if err := f.fetchUnknown(ctx, origin, ver, missing); err != nil {
		f.base.Log.Info("fetching auth events failed", "event_id", ev.EventID(), "origin", origin, "error", err)
	}
}

// fetchMissingEvents asks origin for the events between our forward
// extremities and ev, and inputs them oldest first; the oldest one, if
// it still has a gap behind it (a gap wider than gapLimit), is input
// with state from /state_ids. Events we cannot parse, whose signatures
// fail, or that are too large are skipped. It reports whether origin
// answered.
func (f *FederationAPI) fetchMissingEvents(ctx context.Context, origin spec.ServerName, ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU) bool {
	roomID := ev.RoomID().String()
	ext, err := f.rooms.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
	if err != nil {
		return false
	}
	resp, err := f.Client.LookupMissingEvents(ctx, f.id.ServerName, origin, roomID, fclient.MissingEvents{
		Limit: gapLimit, EarliestEvents: matrixid.Strings(ext), LatestEvents: []string{ev.EventID()},
	}, ver.Version())
	if err != nil {
		f.base.Log.Info("get_missing_events failed", "room_id", roomID, "origin", origin, "error", err)
		return false
	}
	var evs []gomatrixserverlib.PDU
	for _, e := range resp.Events.UntrustedEvents(ver.Version()) {
		if e.RoomID().String() != roomID || e.EventID() == ev.EventID() {
			continue
		}
		if gomatrixserverlib.VerifyEventSignatures(ctx, e, f.ring, userIDForSender) == nil {
			evs = append(evs, e)
		}
	}
	slices.SortStableFunc(evs, func(a, b gomatrixserverlib.PDU) int { return int(a.Depth() - b.Depth()) })
	stateFetches := 0
	for _, e := range evs {
		res := f.inputPDUs(ctx, rsapi.KindNew, []gomatrixserverlib.PDU{e})[0]
		if needsFetch(res) && stateFetches < 2 {
			stateFetches++
			f.inputWithRemoteState(ctx, origin, ver, e, rsapi.KindNew)
		}
	}
	return true
}

// inputWithRemoteState inputs ev with the state before it as origin
// reports it (/state_ids), fetching the events we lack.
func (f *FederationAPI) inputWithRemoteState(ctx context.Context, origin spec.ServerName, ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU, kind rsapi.InputKind) rsapi.InputResult {
	roomID := ev.RoomID().String()
	ids, err := f.Client.LookupStateIDs(ctx, f.id.ServerName, origin, roomID, ev.EventID())
	if err != nil {
		return inputErr(fmt.Errorf("state_ids from %s: %w", origin, err))
	}
	need := slices.Concat(ids.StateEventIDs, ids.AuthEventIDs, ev.AuthEventIDs())
	if err := f.fetchUnknown(ctx, origin, ver, need); err != nil {
		return inputErr(err)
	}
	resp, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
		{Kind: kind, Event: rsapi.NewEvent(ev), HasState: true, StateEventIDs: ids.StateEventIDs},
	}})
	if err != nil || len(resp.Results) != 1 {
		return inputErr(fmt.Errorf("input with state: %v", err))
	}
	return resp.Results[0]
}

// fetchAuthChain fetches ev's auth chain (/event_auth) and inputs the
// events we lack as outliers.
func (f *FederationAPI) fetchAuthChain(ctx context.Context, origin spec.ServerName, ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU) error {
	resp, err := f.Client.GetEventAuth(ctx, f.id.ServerName, origin, ver.Version(), ev.RoomID().String(), ev.EventID())
	if err != nil {
		return err
	}
	var evs []gomatrixserverlib.PDU
	for _, e := range resp.AuthEvents.UntrustedEvents(ver.Version()) {
		if gomatrixserverlib.VerifyEventSignatures(ctx, e, f.ring, userIDForSender) == nil {
			evs = append(evs, e)
		}
	}
	return f.inputOutliers(ctx, evs)
}

// fetchUnknown fetches (in parallel, each request bounded) the events of
// ids we do not have and inputs them as outliers.
func (f *FederationAPI) fetchUnknown(ctx context.Context, origin spec.ServerName, ver gomatrixserverlib.IRoomVersion, ids []string) error {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	have, err := f.rooms.QueryEvents(ctx, matrixid.From[matrixid.EventID](ids))
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, e := range have {
		known[e.EventID()] = true
	}
	var todo []string
	for _, id := range ids {
		if !known[id] {
			todo = append(todo, id)
		}
	}
	if len(todo) > maxStateFetch {
		return fmt.Errorf("%d events to fetch is too many", len(todo))
	}
	var (
		mu      sync.Mutex
		fetched []gomatrixserverlib.PDU
		wg      sync.WaitGroup
		next    = make(chan string)
	)
	for range min(fetchWorkers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				e, err := f.fetchEvent(ctx, origin, ver, id)
				if err != nil {
					continue // missing ones show up as missing state on input
				}
				mu.Lock()
				fetched = append(fetched, e)
				mu.Unlock()
			}
		}()
	}
	for _, id := range todo {
		next <- id
	}
	close(next)
	wg.Wait()
	return f.inputOutliers(ctx, fetched)
}

// inputOutliers stores events as outliers, each after its auth events.
func (f *FederationAPI) inputOutliers(ctx context.Context, evs []gomatrixserverlib.PDU) error {
	if len(evs) == 0 {
		return nil
	}
	ordered := authOrder(evs)
	_, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: func() []rsapi.InputRoomEvent {
		out := make([]rsapi.InputRoomEvent, len(ordered))
		for i, e := range ordered {
			out[i] = rsapi.InputRoomEvent{Kind: rsapi.KindOutlier, Event: rsapi.NewEvent(e)}
		}
		return out
	}()})
	return err
}

// authOrder orders evs so that each comes after those of its auth events
// that are among evs (depth, then event ID, between unrelated ones). The
// library's ordering is state resolution's, which in room v12 needs the
// create event among the events; fetched events seldom include it.
func authOrder(evs []gomatrixserverlib.PDU) []gomatrixserverlib.PDU {
	byID := make(map[string]gomatrixserverlib.PDU, len(evs))
	for _, e := range evs {
		byID[e.EventID()] = e
	}
	start := slices.Clone(evs)
	slices.SortFunc(start, func(a, b gomatrixserverlib.PDU) int {
		if a.Depth() != b.Depth() {
			return cmp.Compare(a.Depth(), b.Depth())
		}
		return strings.Compare(a.EventID(), b.EventID())
	})
	out := make([]gomatrixserverlib.PDU, 0, len(evs))
	done := make(map[string]bool, len(evs))
	var visit func(e gomatrixserverlib.PDU)
	visit = func(e gomatrixserverlib.PDU) {
		if done[e.EventID()] {
			return
		}
		done[e.EventID()] = true // set first: a cycle cannot loop
		for _, id := range e.AuthEventIDs() {
			if a := byID[id]; a != nil {
				visit(a)
			}
		}
		out = append(out, e)
	}
	for _, e := range start {
		visit(e)
	}
	return out
}
