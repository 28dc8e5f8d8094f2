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
