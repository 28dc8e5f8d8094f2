package syncapi

import (
	"context"
	"sort"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixid"
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
	pre     *roomPrefetch   // rows read for all rooms of an initial /sync, or nil
	// all: a server admin reading the whole room (admin API).
	all bool
}

func (s *SyncAPI) newMemberView(ctx context.Context, userID, roomID string, latest storage.MembershipChange, current string) *memberView {
	return &memberView{s: s, ctx: ctx, userID: userID, roomID: roomID, latest: latest, current: current, ignored: s.ignoredBy(ctx, userID)}
}

// membershipBefore is the user's membership in the state before ev.
func (m *memberView) membershipBefore(ev *types.Event) string {
	if m.latest.Pos > 0 && ev.Pos > m.latest.Pos {
		return m.latest.Membership
	}
	h := m.loadHistory()
	i := sort.Search(len(h), func(i int) bool { return h[i].Pos >= ev.Pos })
	if i == 0 {
		return ""
	}
	return h[i-1].Membership
}

// membershipAt is the user's membership at ev as served to them in
// unsigned.membership: after ev for their own membership events, else
// before it; "leave" when they had none.
func (m *memberView) membershipAt(ev *types.Event) string {
	ms := m.membershipBefore(ev)
	if ev.Type == spec.MRoomMember && ev.StateKey != nil && *ev.StateKey == m.userID {
		ms = ev.Membership
	}
	if ms == "" {
		return "leave"
	}
	return ms
}

// joinedAfter: was the user joined at some point after ev?
func (m *memberView) joinedAfter(ev *types.Event) bool {
	if m.current == "join" && m.latest.Pos > ev.Pos {
		return true
	}
	for _, c := range m.loadHistory() {
		if c.Pos > ev.Pos && c.Membership == "join" {
			return true
		}
	}
	return false
}

func (m *memberView) loadHistory() []storage.MembershipChange {
	if !m.loaded {
		m.loaded = true
		if h, ok := m.pre.membershipHistory(m.roomID); ok {
			m.history = h
		} else {
			m.history, m.err = m.s.db.MembershipHistory(m.ctx, m.userID, m.roomID)
		}
	}
	return m.history
}

// visible applies the roomserver's history visibility rule to ev; events
// of users they ignore are hidden (their own membership events never).
func (m *memberView) visible(ev *types.Event) bool {
	if m.all {
		return true
	}
	own := ev.Type == spec.MRoomMember && ev.StateKey != nil && *ev.StateKey == m.userID
	if !own && hiddenByIgnore(ev, m.ignored) {
		return false
	}
	c := rsapi.VisibilityCheck{Visibility: ev.HistoryVisibility, MembershipBefore: m.membershipBefore(ev)}
	if ev.StateKey != nil {
		switch {
		case ev.Type == spec.MRoomMember && *ev.StateKey == m.userID:
			c.OwnMembershipAfter = ev.Membership
		case ev.Type == spec.MRoomHistoryVisibility && *ev.StateKey == "":
			c.VisibilityAfter = gjson.GetBytes(ev.JSON, "content.history_visibility").Str
		}
	}
	if c.Visible() {
		return true
	}
	c.JoinedAfter = m.joinedAfter(ev)
	return c.Visible()
}

// horizon is the newest position whose room data the user may see: now
// while joined (or if the room is world readable), else their leave.
func (m *memberView) horizon(cur types.StreamPosition, worldReadable bool) types.StreamPosition {
	if m.current == "join" || worldReadable || m.latest.Pos == 0 {
		return cur
	}
	return min(cur, m.latest.Pos)
}

// fetchTimeline returns up to limit visible events of roomID that pass
// filter with lo < pos <= hi, oldest first, and whether older matching
// events were left out. It goes no further back than a history gap.
func (s *SyncAPI) fetchTimeline(ctx context.Context, roomID string, lo, hi types.StreamPosition, limit int, filter *types.RoomEventFilter, mv *memberView) ([]*types.Event, bool, error) {
	if limit <= 0 || hi <= lo {
		return nil, hi > lo && limit == 0, nil
	}
	batch := timelineBatch(limit, filter)
	var pre *roomPrefetch
	if mv != nil {
		pre = mv.pre
	}
	var out []*types.Event
	limited := false
	upper := hi
	for upper > lo {
		rows, ok := pre.roomEvents(roomID, lo, upper, batch)
		if !ok {
			var err error
			if rows, err = s.roomEventsAt(ctx, hi, roomID, lo, upper, batch); err != nil {
				return nil, false, err
			}
		}
		for _, ev := range rows {
			if (filter == nil || filter.AllowsEvent(ev)) && (mv == nil || mv.visible(ev)) {
				if len(out) == limit {
					limited = true
					break
				}
				out = append(out, ev)
			}
			if ev.HistoryGap {
				// What came before is not here: the timeline starts
				// after the gap, and prev_batch leads across it.
				limited = true
				break
			}
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

// viewerState is the room state the user may see: the current state while
// joined (or if the room is world readable), else the state as of their
// latest membership event (leave, kick, ban), so nothing that happened
// after they left shows (a new name, members who joined later). The
// second result is the horizon: the newest position they may see.
func (s *SyncAPI) viewerState(ctx context.Context, mv *memberView, roomID string, cur types.StreamPosition) (*roomState, types.StreamPosition, error) {
	rs, err := s.cache.get(ctx, roomID)
	if err != nil {
		return nil, 0, err
	}
	worldReadable := rs.worldReadable()
	if mv.current == "join" || mv.latest.EventID == "" || worldReadable {
		return rs, cur, nil
	}
	evs, err := s.stateAtLeave(ctx, mv.latest, 0)
	if err != nil {
		return nil, 0, err
	}
	return newRoomState(evs), mv.horizon(cur, worldReadable), nil
}

// isJoined reports whether userID is joined to roomID now. syncapi's copy
// of the room trails the roomserver by the stream's delay, so a "no" is
// asked again of the roomserver: a client that types or reads the moment
// its join (or createRoom) returns is joined.
func (s *SyncAPI) isJoined(ctx context.Context, userID, roomID string) (bool, error) {
	rs, err := s.cache.get(ctx, roomID)
	if err != nil {
		return false, err
	}
	if m := rs.get(spec.MRoomMember, userID); m != nil && m.Membership == "join" {
		return true, nil
	}
	if s.rooms == nil {
		return false, nil
	}
	membership, _, err := s.rooms.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(userID))
	return membership == spec.Join, err
}
