package api

// History visibility values (m.room.history_visibility).
const (
	VisibilityWorldReadable = "world_readable"
	VisibilityShared        = "shared"
	VisibilityInvited       = "invited"
	VisibilityJoined        = "joined"
)

// VisibilityCheck is what the spec's history visibility rules
// (client-server "Room history visibility", server behaviour) need to
// know about one event and one user. syncapi and the roomserver fill it
// from their own tables and call Visible, so every read path (/sync,
// sliding sync, /messages, /context, /event, /relations, /threads)
// applies the same rule.
type VisibilityCheck struct {
	// Visibility is the m.room.history_visibility in force at the event
	// (state before it; "shared" when unset or not understood).
	Visibility string
	// MembershipBefore is the user's membership in the state before the
	// event ("" when none).
	MembershipBefore string
	// JoinedAfter: the user's membership was join at some point after
	// the event (for "shared").
	JoinedAfter bool
	// OwnMembershipAfter is, for the user's own m.room.member event, the
	// membership it sets; "" for other events.
	OwnMembershipAfter string
	// VisibilityAfter is, for an m.room.history_visibility event, the
	// value it sets; "" for other events.
	VisibilityAfter string
}

// Visible applies the rules; a user's own member event and a history
// visibility event are visible if the membership (visibility) before or
// after them allows it. A user's own leave or ban is always visible:
// it is how their clients learn that a knock was withdrawn or refused,
// an invite rejected or that they were removed.
func (c VisibilityCheck) Visible() bool {
	if c.OwnMembershipAfter == "leave" || c.OwnMembershipAfter == "ban" {
		return true
	}
	if historyVisible(c.Visibility, c.MembershipBefore, c.JoinedAfter) {
		return true
	}
	if c.OwnMembershipAfter != "" && historyVisible(c.Visibility, c.OwnMembershipAfter, c.JoinedAfter) {
		return true
	}
	return c.VisibilityAfter != "" && historyVisible(c.VisibilityAfter, c.MembershipBefore, c.JoinedAfter)
}

// historyVisible is the spec's list: world_readable; joined at the
// event; shared and joined at any point after it; invited at the event
// with "invited"; else deny.
func historyVisible(visibility, membership string, joinedAfter bool) bool {
	switch visibility {
	case VisibilityWorldReadable, VisibilityInvited, VisibilityJoined:
	default:
		visibility = VisibilityShared
	}
	switch {
	case visibility == VisibilityWorldReadable:
		return true
	case membership == "join":
		return true
	case visibility == VisibilityShared && joinedAfter:
		return true
	case visibility == VisibilityInvited && membership == "invite":
		return true
	}
	return false
}

// ServerHistoryVisible is the same rule for another server reading
// history over federation (get_missing_events, backfill): the server
// counts as its most privileged user at the event (memberships are those
// of its users in the state before the event), and as joined after it
// (callers have checked it is in the room). What it may not see it gets
// redacted.
func ServerHistoryVisible(visibility string, membershipsAtEvent []string) bool {
	best := ""
	for _, m := range membershipsAtEvent {
		switch m {
		case "join":
			return historyVisible(visibility, "join", true)
		case "invite":
			best = "invite"
		}
	}
	return historyVisible(visibility, best, true)
}
