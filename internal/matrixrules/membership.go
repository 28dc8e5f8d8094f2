package matrixrules

import (
	"fmt"
	"slices"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// Membership values of m.room.member (the spec package's names).
const (
	Join   = spec.Join
	Invite = spec.Invite
	Leave  = spec.Leave
	Ban    = spec.Ban
	Knock  = spec.Knock
)

// Action is a membership change a client asks for by name.
type Action string

const (
	ActionInvite Action = "invite"
	ActionKick   Action = "kick"
	ActionBan    Action = "ban"
	ActionUnban  Action = "unban"
	ActionLeave  Action = "leave" // the user's own leave (or rejecting an invite, rescinding a knock)
)

// transitions: the target's current memberships (""= never a member)
// from which each action can succeed under the auth rules. The auth
// rules decide power; this answers early with a clear message.
var transitions = map[Action][]string{
	ActionInvite: {"", Leave, Invite, Knock},
	ActionKick:   {Join, Invite, Knock},
	ActionBan:    {"", Join, Invite, Leave, Ban, Knock},
	ActionUnban:  {Ban},
	ActionLeave:  {Join, Invite, Knock, Leave},
}

// ResultingMembership is the membership event an action sends.
func ResultingMembership(a Action) string {
	switch a {
	case ActionInvite:
		return Invite
	case ActionBan:
		return Ban
	}
	return Leave
}

// CheckTransition says whether a user whose membership is current can be
// the target of a: "" if so, otherwise the message for the client.
func CheckTransition(a Action, current string) string {
	allowed, ok := transitions[a]
	if !ok {
		return fmt.Sprintf("unknown membership action %q", a)
	}
	if slices.Contains(allowed, current) {
		return ""
	}
	switch a {
	case ActionInvite:
		return fmt.Sprintf("The user's membership is %q, so they cannot be invited", current)
	case ActionKick:
		return fmt.Sprintf("The user's membership is %q, so they cannot be kicked", current)
	case ActionUnban:
		return fmt.Sprintf("The user's membership is %q, so they cannot be unbanned", current)
	}
	return fmt.Sprintf("membership %q cannot change by %s", current, a)
}

// IsActive: the user is in the room or asking to be (joined, invited or
// knocking); a room cannot be forgotten while the membership is active.
func IsActive(membership string) bool {
	return membership == Join || membership == Invite || membership == Knock
}

// NeedsRestrictedAuthoriser: a join to a restricted room is vouched for
// by a member who may invite unless the joiner is already invited or in.
func NeedsRestrictedAuthoriser(joinRule, current string) bool {
	return (joinRule == spec.Restricted || joinRule == spec.KnockRestricted) && current != Invite && current != Join
}

// AllowedRoomIDs are the rooms whose members may join a restricted room:
// the m.room_membership conditions of the join rules' allow list. Entries
// of another shape are ignored; an allow that is not a list has none.
func AllowedRoomIDs(joinRulesContent []byte) []string {
	allow := gjson.GetBytes(joinRulesContent, "allow")
	if !allow.IsArray() {
		return nil
	}
	var out []string
	for _, a := range allow.Array() {
		if id := a.Get("room_id"); a.Get("type").Str == "m.room_membership" && id.Type == gjson.String && id.Str != "" {
			out = append(out, id.Str)
		}
	}
	return out
}
