package roomserver

import (
	"context"
	"maps"

	"github.com/matrix-org/gomatrixserverlib"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/storage"
)

// resolveState merges state sets (the states after each of several prev
// events, or current state and a new branch) with the room version's
// state resolution algorithm (v2 for every version but 1).
func (r *RoomServer) resolveState(ctx context.Context, q istorage.Querier, version gomatrixserverlib.IRoomVersion, sets []storage.StateMap) (storage.StateMap, error) {
	if len(sets) == 0 {
		return storage.StateMap{}, nil
	}
	if len(sets) == 1 || allEqual(sets) {
		return maps.Clone(sets[0]), nil
	}
	var nids []int64
	seen := map[int64]bool{}
	for _, s := range sets {
		for _, nid := range s {
			if !seen[nid] {
				seen[nid] = true
				nids = append(nids, nid)
			}
		}
	}
	evs, err := r.eventsByNID(ctx, q, version, nids)
	if err != nil {
		return nil, err
	}
	idToNID := make(map[string]int64, len(evs))
	rejected := map[string]bool{}
	stateSets := make([][]gomatrixserverlib.PDU, len(sets))
	for i, s := range sets {
		for _, nid := range s {
			if e := evs[nid]; e != nil {
				stateSets[i] = append(stateSets[i], e.pdu)
				idToNID[e.pdu.EventID()] = nid
			}
		}
	}
	// State res v2.1 can resolve a key to an event of the conflicted
	// subgraph, which is in the auth chain but in neither state set.
	authChain, err := r.authChain(ctx, q, version, stateSets, rejected, idToNID)
	if err != nil {
		return nil, err
	}
	resolved, err := gomatrixserverlib.ResolveConflictsNew(version.Version(), stateSets, withStateEvents(authChain, stateSets), userIDForSender,
		func(id string) bool { return rejected[id] })
	if err != nil {
		return nil, err
	}
	out := make(storage.StateMap, len(resolved))
	for _, ev := range resolved {
		if sk := ev.StateKey(); sk != nil {
			if nid, ok := idToNID[ev.EventID()]; ok {
				out[storage.Tuple{EventType: ev.Type(), StateKey: *sk}] = nid
			}
		}
	}
	return out, nil
}

// authChain walks auth_events from every event of the sets, noting which
// of them were rejected and their NIDs.
func (r *RoomServer) authChain(ctx context.Context, q istorage.Querier, version gomatrixserverlib.IRoomVersion, sets [][]gomatrixserverlib.PDU, rejected map[string]bool, idToNID map[string]int64) ([]gomatrixserverlib.PDU, error) {
	seen := map[string]bool{}
	var frontier []string
	for _, s := range sets {
		for _, ev := range s {
			for _, id := range ev.AuthEventIDs() {
				if !seen[id] {
					seen[id] = true
					frontier = append(frontier, id)
				}
			}
		}
	}
	var chain []gomatrixserverlib.PDU
	for len(frontier) > 0 {
		found, err := r.eventsByID(ctx, q, version, frontier)
		if err != nil {
			return nil, err
		}
		frontier = nil
		for id, e := range found {
			chain = append(chain, e.pdu)
			idToNID[id] = e.nid
			if e.status == storage.StatusRejected {
				rejected[id] = true
			}
			for _, a := range e.pdu.AuthEventIDs() {
				if !seen[a] {
					seen[a] = true
					frontier = append(frontier, a)
				}
			}
		}
	}
	return chain, nil
}

// withStateEvents adds the events of the state sets to their auth chain:
// state res v2.1 looks every conflicted event up among the auth events
// when it walks the conflicted subgraph, and an event that is in no auth
// chain (a conflicted name, say) would otherwise come back nil and crash
// the library.
func withStateEvents(authChain []gomatrixserverlib.PDU, sets [][]gomatrixserverlib.PDU) []gomatrixserverlib.PDU {
	seen := make(map[string]bool, len(authChain))
	out := append([]gomatrixserverlib.PDU(nil), authChain...)
	for _, ev := range authChain {
		seen[ev.EventID()] = true
	}
	for _, s := range sets {
		for _, ev := range s {
			if !seen[ev.EventID()] {
				seen[ev.EventID()] = true
				out = append(out, ev)
			}
		}
	}
	return out
}

func allEqual(sets []storage.StateMap) bool {
	for _, s := range sets[1:] {
		if !maps.Equal(s, sets[0]) {
			return false
		}
	}
	return true
}
