package syncapi

import (
	"context"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/types"
)

// Backfill: a server that joined a room late has none of its earlier
// history. When /messages pages backwards past the oldest event syncapi
// has for a room (and that is not the room's creation), it asks the
// federation API to backfill before it; the roomserver stores what comes
// back and outputs it as OutputTypeBackfill, which is placed below live
// history by depth (types.BackfillPos), and the page is read again,
// round after round until it is full (backfillPage).

const (
	// backfillTimeout bounds the wait for other servers in a request.
	backfillTimeout = 20 * time.Second
	// backfillRetryAfter: the same oldest event is not asked about again
	// sooner (the other servers had nothing, or failed).
	backfillRetryAfter = 5 * time.Minute
	// maxBackfillRounds bounds the /backfill requests one /messages page
	// makes to fill itself.
	maxBackfillRounds = 5
)

// backfillPage fills a backwards page that ran out of stored history
// (evs, last from paginate): it backfills before the room's oldest event
// and pages again, round after round, until the page is full, other
// servers have nothing more (or the room's creation is reached), or the
// rounds or backfillTimeout run out.
func (s *SyncAPI) backfillPage(ctx context.Context, roomID string, p *paging, cur types.StreamPosition, filter *types.RoomEventFilter, mv *memberView, evs []*types.Event, last types.StreamPosition) ([]*types.Event, types.StreamPosition, bool, error) {
	bctx, cancel := context.WithTimeout(ctx, backfillTimeout)
	defer cancel()
	more, backfilled := false, false
	for round := 0; round < maxBackfillRounds && !more && len(evs) < p.limit && s.backfillRoom(bctx, roomID, p.limit); round++ {
		backfilled = true
		var err error
		if evs, last, more, err = s.paginate(ctx, roomID, p, cur, filter, mv); err != nil {
			return nil, 0, false, err
		}
	}
	// Other servers had history: there may be more before it, which the
	// next page backfills.
	return evs, last, more || (backfilled && len(evs) > 0), nil
}

// backfillTries remembers, per room, the oldest event last backfilled
// from and when, so a room with no more history is not asked every page.
type backfillTries struct {
	mu    sync.Mutex
	tried map[string]backfillTry
}

type backfillTry struct {
	eventID string
	at      time.Time
}

// claim reports whether to backfill roomID before eventID now, and if so
// records the attempt.
func (t *backfillTries) claim(roomID, eventID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tried == nil {
		t.tried = map[string]backfillTry{}
	}
	if prev, ok := t.tried[roomID]; ok && prev.eventID == eventID && time.Since(prev.at) < backfillRetryAfter {
		return false
	}
	t.tried[roomID] = backfillTry{eventID: eventID, at: time.Now()}
	return true
}

// backfillRoom fetches history before the room's oldest stored event and
// waits until it has been applied. It reports whether anything came.
func (s *SyncAPI) backfillRoom(ctx context.Context, roomID string, limit int) bool {
	if s.fed == nil { // federation off: /messages ends at our oldest event
		return false
	}
	oldest, err := s.db.RoomEvents(ctx, roomID, types.MinBackfillPos-1, types.StreamPosition(1<<62-1), 1, false)
	if err != nil || len(oldest) == 0 || oldest[0].Type == spec.MRoomCreate {
		return false
	}
	if !s.backfills.claim(roomID, oldest[0].EventID) {
		return false
	}
	bctx, cancel := context.WithTimeout(ctx, backfillTimeout)
	defer cancel()
	n, err := s.fed.Backfill(bctx, matrixid.RoomID(roomID), []matrixid.EventID{matrixid.EventID(oldest[0].EventID)}, min(max(limit, 10), 100))
	if err != nil {
		s.log.Warn("backfill", "room_id", roomID, "error", err)
		return false
	}
	if n == 0 {
		return false
	}
	// The roomserver published the outputs before answering.
	s.waitCaughtUp(ctx)
	return true
}

// backfill stores one backfilled event (roomserver OutputTypeBackfill).
func (b *roomBatch) backfill(ctx context.Context, ob *rsapi.OutputBackfill) error {
	pdu, err := types.ParsePDU(ob.RoomVersion, ob.Event, false)
	if err != nil {
		b.s.log.Error("unparseable backfilled event; skipping", "event_id", ob.EventID, "error", err)
		return nil
	}
	ev, err := types.EventFromPDU(pdu, ob.HistoryVisibility)
	if err != nil {
		return err
	}
	if err := eraseIfErased(ev, b.erased); err != nil {
		return err
	}
	_, err = b.s.db.InsertBackfilledEvent(ctx, b.tx, ev, ob.Depth)
	return err
}
