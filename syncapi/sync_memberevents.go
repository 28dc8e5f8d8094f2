package syncapi

import (
	"context"

	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// memberEventsRead holds the member events of (from, to] once read, so
// the parts of one /sync that need them (presence's newly shared users,
// device lists) share one query instead of one round trip each.
type memberEventsRead struct {
	from, to types.StreamPosition
	evs      []storage.MembershipChange
	done     bool
}

// memberEventsBetween returns the member events in (from, to], read
// through memo when it is not nil.
func (s *SyncAPI) memberEventsBetween(ctx context.Context, memo *memberEventsRead, from, to types.StreamPosition) ([]storage.MembershipChange, error) {
	if memo != nil && memo.done && memo.from == from && memo.to == to {
		return memo.evs, nil
	}
	evs, err := s.db.MemberEventsBetween(ctx, from, to)
	if err == nil && memo != nil {
		*memo = memberEventsRead{from: from, to: to, evs: evs, done: true}
	}
	return evs, err
}
