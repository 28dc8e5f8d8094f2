package syncapi

import (
	"context"

	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// removedRooms are the rooms among memberships the user was banned or
// kicked from (a leave someone else sent). An initial sync shows them even
// without include_leave, so a client learns why a room went away; rooms
// the user left themselves stay out, as the filter's default says.
func (s *SyncAPI) removedRooms(ctx context.Context, userID string, memberships []storage.MembershipChange, rf *types.RoomFilter) (map[string]bool, error) {
	out := map[string]bool{}
	var leaves []string
	for _, m := range memberships {
		if !rf.AllowsRoom(m.RoomID) {
			continue
		}
		switch m.Membership {
		case "ban":
			out[m.RoomID] = true
		case "leave":
			leaves = append(leaves, m.EventID)
		}
	}
	if len(leaves) == 0 {
		return out, nil
	}
	evs, err := s.db.EventsByIDs(ctx, leaves)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if ev.Sender != userID {
			out[ev.RoomID] = true
		}
	}
	return out, nil
}
