package api

// History visibility values (m.room.history_visibility).
const (
	VisibilityWorldReadable = "world_readable"
	VisibilityShared        = "shared"
	VisibilityInvited       = "invited"
	VisibilityJoined        = "joined"
)

// HistoryVisible applies the spec's history visibility rules
// (client-server "Room history visibility"):
//
//   - visibility is the m.room.history_visibility in force at the event
//     (state before it; "shared" when unset),
//   - membershipAtEvent is the user's membership at the event (state
//     before it, except that a user's own member event counts with its
//     new membership so users see their own join),
//   - currentMembership is the user's membership now.
//
// syncapi and the roomserver both call this so /sync, /messages, /event
// and /state agree.
func HistoryVisible(visibility, membershipAtEvent, currentMembership string) bool {
	if visibility == "" {
		visibility = VisibilityShared
	}
	switch {
	case visibility == VisibilityWorldReadable:
		return true
	case membershipAtEvent == "join":
		return true
	case visibility == VisibilityShared && currentMembership == "join":
		return true
	case visibility == VisibilityInvited && membershipAtEvent == "invite":
		return true
	}
	return false
}

// ServerHistoryVisible is HistoryVisible for another server reading
// history over federation (get_missing_events, backfill): the server
// counts as its most privileged user at the event (memberships are those
// of its users in the state before the event), and as joined now (callers
// have checked it is in the room). What it may not see it gets redacted.
func ServerHistoryVisible(visibility string, membershipsAtEvent []string) bool {
	best := ""
	for _, m := range membershipsAtEvent {
		switch m {
		case "join":
			return HistoryVisible(visibility, "join", "join")
		case "invite":
			best = "invite"
		}
	}
	return HistoryVisible(visibility, best, "join")
}
