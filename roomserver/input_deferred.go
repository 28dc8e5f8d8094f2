package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// A /send transaction brings a room's PDUs mostly as a chain of
// messages, each accepted onto the tip. Inserted one at a time, each
// cost a statement (a round trip on PostgreSQL). Such an event's NID is
// not needed while its request is input — it changes no state, and
// the next PDU finds it by ID through the batch's look-up
// (input_lookup.go) — so its row waits and the request's waiting rows
// are inserted in multi-row statements: before any other event is
// stored (NIDs stay in input order), before any input that is not such
// a PDU, and at the end of the request (later requests of the batch
// read the rows back).

// deferredRows are a request's event rows not yet inserted.
type deferredRows struct {
	rows   []*storage.Event
	stored []*stored
	byID   map[string]*stored
}

// deferrable: may ev's row wait? Only an accepted live PDU that moves
// the head without changing state (advance then needs no NID), in a
// request whose IDs the batch looked up (so nothing reads the table
// for it).
func deferrable(b *batch, in *api.InputRoomEvent, ev gomatrixserverlib.PDU, status int, advance bool) bool {
	return advance && status == storage.StatusAccepted && in.Local == nil && in.Event != nil &&
		b.ids != nil && ev.StateKey() == nil && ev.Type() != spec.MRoomRedaction
}

// deferRow keeps row (and its cache entry s) for the next flush.
func (b *batch) deferRow(row *storage.Event, s *stored) {
	if b.deferred.byID == nil {
		b.deferred.byID = map[string]*stored{}
	}
	b.deferred.rows = append(b.deferred.rows, row)
	b.deferred.stored = append(b.deferred.stored, s)
	b.deferred.byID[row.EventID] = s
}

// deferredEvent is a waiting event of the request, or nil.
func (b *batch) deferredEvent(eventID string) *stored {
	return b.deferred.byID[eventID]
}

// flushDeferred inserts the waiting rows and records their NIDs.
func (r *RoomServer) flushDeferred(ctx context.Context, b *batch) error {
	d := b.deferred
	if len(d.rows) == 0 {
		return nil
	}
	b.deferred = deferredRows{}
	return r.insertStored(ctx, b, d.rows, d.stored)
}

// insertStored inserts rows in multi-row statements, then sets each
// one's NID on its cache entry (ss[k] is rows[k]'s) and records it.
func (r *RoomServer) insertStored(ctx context.Context, b *batch, rows []*storage.Event, ss []*stored) error {
	if err := r.db.InsertEvents(ctx, b.tx, rows); err != nil {
		return err
	}
	for k, row := range rows {
		s := ss[k]
		s.nid = row.NID
		r.events.put(s.nid, s)
		b.noteStored(row.EventID, row.NID)
	}
	return nil
}
