package roomserver

import (
	"context"
	"slices"
	"strings"

	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// A remote join hands the roomserver the room's whole auth chain and
// state as outliers in one request: tens of thousands of events in a big
// room. Looked up and inserted one at a time, each cost a query and an
// insert (~2 s of a 20,000-event join). A run of consecutive outliers is
// instead looked up with the request's other IDs (prefetchIDs), and its
// events are inserted in multi-row statements when it ends. Every event
// is still checked on its own, in order, as processPDU always does.

// outlierRun is the state of such a run within one request.
type outlierRun struct {
	// end is the index after the run's last event in its request.
	end int
	// known holds the stored events among the run's event and auth event
	// IDs, and the run's own events as they are accepted or rejected: an
	// ID of the run that is absent is not stored.
	known map[string]*stored
	// pending are the run's events not yet inserted, with their entries
	// in known (whose NIDs are set on insert).
	pending       []*storage.Event
	pendingStored []*stored
}

func isOutlierPDU(in *api.InputRoomEvent) bool {
	return in.Kind == api.KindOutlier && in.Event != nil && in.Event.PDU != nil
}

// startOutlierRun begins a run at events[i] when a run of several
// outliers of a known room starts there (the create event of a new room
// is processed alone first: it makes the room the others are read for).
func (r *RoomServer) startOutlierRun(ctx context.Context, b *batch, events []api.InputRoomEvent, i int) error {
	if b.outliers != nil || b.rm.nid == 0 || !isOutlierPDU(&events[i]) {
		return nil
	}
	end := i
	for end < len(events) && isOutlierPDU(&events[end]) {
		end++
	}
	if end-i < 2 {
		return nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, in := range events[i:end] {
		ev := in.Event.PDU
		for _, id := range append([]string{ev.EventID()}, ev.AuthEventIDs()...) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	known, err := r.knownEvents(ctx, b, ids) // through prefetchIDs' look-up
	if err != nil {
		return err
	}
	b.outliers = &outlierRun{end: end, known: known}
	return nil
}

// inOutlierRun: is in one of the current run's events?
func (b *batch) inOutlierRun(in *api.InputRoomEvent) bool {
	return b.outliers != nil && isOutlierPDU(in)
}

// stage keeps an outlier of the run for the run's insert.
func (run *outlierRun) stage(row *storage.Event, s *stored) {
	run.pending = append(run.pending, row)
	run.pendingStored = append(run.pendingStored, s)
	run.known[row.EventID] = s
}

// endOutlierRun inserts the run's events after events[i] was processed,
// if it was the run's last.
func (r *RoomServer) endOutlierRun(ctx context.Context, b *batch, i int) error {
	run := b.outliers
	if run == nil || i+1 < run.end {
		return nil
	}
	b.outliers = nil
	sortByEventID(run.pending, run.pendingStored)
	return r.insertStored(ctx, b, run.pending, run.pendingStored)
}

// knownFor looks up in's event and the auth and prev events it names
// (the stored ones): from the run when in is one of its outliers.
func (r *RoomServer) knownFor(ctx context.Context, b *batch, in *api.InputRoomEvent) (map[string]*stored, error) {
	if b.inOutlierRun(in) {
		return b.outliers.known, nil
	}
	ev := in.Event.PDU
	return r.knownEvents(ctx, b, append(append([]string{ev.EventID()}, ev.AuthEventIDs()...), ev.PrevEventIDs()...))
}

// sortByEventID orders a run's rows (and their entries, alike) by event
// ID, the key of the events' unique index: in the auth order they are
// checked in, each of a join's 20,000 rows went into another page of
// it. Outliers are not read in NID order, so their NIDs need not follow
// the auth order.
func sortByEventID(rows []*storage.Event, ss []*stored) {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return strings.Compare(rows[i].EventID, rows[j].EventID) })
	sortedRows, sortedStored := make([]*storage.Event, len(rows)), make([]*stored, len(ss))
	for k, i := range order {
		sortedRows[k], sortedStored[k] = rows[i], ss[i]
	}
	copy(rows, sortedRows)
	copy(ss, sortedStored)
}
