package syncapi

import (
	"context"
	"sort"

	"github.com/matrix-org/gomatrixserverlib/spec"

	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// memberView answers "may this user see that event" for one room with the
// roomserver's shared history visibility rule. The full membership
// history is only loaded when an event predates the latest change.
type memberView struct {
	s       *SyncAPI
	ctx     context.Context
	userID  string
	roomID  string
	latest  storage.MembershipChange // latest change (Pos 0: none)
	current string                   // membership now, for "shared"
	history []storage.MembershipChange
	loaded  bool
	err     error
	ignored map[string]bool // senders the user ignores (ignore.go)
}

func (s *SyncAPI) newMemberView(ctx context.Context, userID, roomID string, latest storage.MembershipChange, current string) *memberView {
	return &memberView{s: s, ctx: ctx, userID: userID, roomID: roomID, latest: latest, current: current, ignored: s.ignoredBy(ctx, userID)}
}

// membershipAt is the user's membership just before ev (its own member
// event counts with the new membership).
func (m *memberView) membershipAt(ev *types.Event) string {
	if ev.Type == spec.MRoomMember && ev.StateKey != nil && *ev.StateKey == m.userID {
		return ev.Membership
	}
	if m.latest.Pos > 0 && ev.Pos > m.latest.Pos {
		return m.latest.Membership
	}
	if !m.loaded {
		m.loaded = true
		m.history, m.err = m.s.db.MembershipHistory(m.ctx, m.userID, m.roomID)
	}
	h := m.history
	i := sort.Search(len(h), func(i int) bool { return h[i].Pos >= ev.Pos })
	if i == 0 {
		return ""
	}
	return h[i-1].Membership
}

// visible: the user's own membership events are always theirs to see
// (their leave, kick or ban ends a rooms.leave timeline); events of users
// they ignore are not.
func (m *memberView) visible(ev *types.Event) bool {
	if ev.Type == spec.MRoomMember && ev.StateKey != nil && *ev.StateKey == m.userID {
		return true
	}
	if hiddenByIgnore(ev, m.ignored) {
		return false
	}
	return rsapi.HistoryVisible(ev.HistoryVisibility, m.membershipAt(ev), m.current)
}

// fetchTimeline returns up to limit visible events of roomID that pass
// filter with lo < pos <= hi, oldest first, and whether older matching
// events were left out.
func (s *SyncAPI) fetchTimeline(ctx context.Context, roomID string, lo, hi types.StreamPosition, limit int, filter *types.RoomEventFilter, mv *memberView) ([]*types.Event, bool, error) {
	if limit <= 0 || hi <= lo {
		return nil, hi > lo && limit == 0, nil
	}
	batch := limit + 1
	if filter != nil && !filter.IsEmpty() {
		batch = max(batch, 50)
	}
	var out []*types.Event
	limited := false
	upper := hi
	for upper > lo {
		rows, err := s.db.RoomEvents(ctx, roomID, lo, upper, batch, true)
		if err != nil {
			return nil, false, err
		}
		for _, ev := range rows {
			if filter != nil && !filter.AllowsEvent(ev) {
				continue
			}
			if mv != nil && !mv.visible(ev) {
				continue
			}
			if len(out) == limit {
				limited = true
				break
			}
			out = append(out, ev)
		}
		if limited || len(rows) < batch {
			break
		}
		upper = rows[len(rows)-1].Pos - 1
	}
	if mv != nil && mv.err != nil {
		return nil, false, mv.err
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, limited, nil
}

// isJoined reports whether userID is joined to roomID now.
func (s *SyncAPI) isJoined(ctx context.Context, userID, roomID string) (bool, error) {
	rs, err := s.cache.get(ctx, roomID)
	if err != nil {
		return false, err
	}
	m := rs.get(spec.MRoomMember, userID)
	return m != nil && m.Membership == "join", nil
}
