package syncapi

import (
	"context"

	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// roomPrefetch holds what full joined-room sections (an initial or
// full_state /sync) read of every room, loaded with a few queries for all
// rooms instead of a few per room. On PostgreSQL each query is a round
// trip: a user in 1,000 rooms paid ~4,000 of them per initial sync.
// Whatever it does not hold (a filtered timeline that needs a second
// page, events outside the prefetched batch) is read per room as before.
type roomPrefetch struct {
	hi       types.StreamPosition
	batch    int                                   // rows per room in timeline
	timeline map[string][]*types.Event             // newest first, pos <= hi
	history  map[string][]storage.MembershipChange // the user's, per room, oldest first
	rels     map[string][]storage.RelationRow      // relations (pos <= hi) by parent
	relsOf   map[string]bool                       // event IDs whose relations rels holds
}

// maxPrefetchBatch bounds the timeline rows prefetched per room; bigger
// timeline limits read room by room, so memory stays that of the response.
const maxPrefetchBatch = 101

// timelineBatch is how many rows fetchTimeline reads per query.
func timelineBatch(limit int, filter *types.RoomEventFilter) int {
	batch := limit + 1
	if filter != nil && !filter.IsEmpty() {
		batch = max(batch, 50)
	}
	return batch
}

// prefetchRooms reads, for the joined rooms, their state (into the state
// cache), their newest timeline batch, the relations of those events and
// the user's membership histories.
func (s *SyncAPI) prefetchRooms(ctx context.Context, sr *syncRequest, rooms []string, hi types.StreamPosition) (*roomPrefetch, error) {
	if len(rooms) == 0 {
		return nil, nil
	}
	if err := s.cache.prefetch(ctx, rooms); err != nil {
		return nil, err
	}
	p := &roomPrefetch{hi: hi}
	var err error
	if p.history, err = s.db.MembershipHistories(ctx, sr.device.UserID); err != nil {
		return nil, err
	}
	limit := sr.filter.TimelineLimit()
	p.batch = timelineBatch(limit, &sr.filter.Room.Timeline)
	if limit <= 0 || p.batch > maxPrefetchBatch {
		return p, nil
	}
	if p.timeline, err = s.db.RecentRoomEvents(ctx, rooms, hi, p.batch); err != nil {
		return nil, err
	}
	var ids []string
	for _, evs := range p.timeline {
		for _, ev := range evs {
			ids = append(ids, ev.EventID)
		}
	}
	rows, err := s.db.RelationsOf(ctx, ids, hi)
	if err != nil {
		return nil, err
	}
	p.relsOf = make(map[string]bool, len(ids))
	for _, id := range ids {
		p.relsOf[id] = true
	}
	p.rels = map[string][]storage.RelationRow{}
	for _, r := range rows {
		p.rels[r.Parent] = append(p.rels[r.Parent], r)
	}
	return p, nil
}

// roomEvents is db.RoomEvents(roomID, lo, upper, batch, backwards),
// answered from the prefetch when it holds exactly that.
func (p *roomPrefetch) roomEvents(roomID string, lo, upper types.StreamPosition, batch int) ([]*types.Event, bool) {
	if p == nil || p.timeline == nil || lo != 0 || upper != p.hi || batch != p.batch {
		return nil, false
	}
	return p.timeline[roomID], true
}

// membershipHistory is db.MembershipHistory(user, roomID) from the prefetch.
func (p *roomPrefetch) membershipHistory(roomID string) ([]storage.MembershipChange, bool) {
	if p == nil || p.history == nil {
		return nil, false
	}
	return p.history[roomID], true
}

// relationsOf is db.RelationsOf(ids, upTo) from the prefetch, when it
// holds the relations of every one of ids as of upTo.
func (p *roomPrefetch) relationsOf(ids []string, upTo types.StreamPosition) ([]storage.RelationRow, bool) {
	if p == nil || p.relsOf == nil || upTo != p.hi {
		return nil, false
	}
	var out []storage.RelationRow
	for _, id := range ids {
		if !p.relsOf[id] {
			return nil, false
		}
		out = append(out, p.rels[id]...)
	}
	return out, true
}
