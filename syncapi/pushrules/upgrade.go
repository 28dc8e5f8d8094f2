package pushrules

import "strings"

// CopyForUpgrade copies the user's rules for room oldRoomID to its
// upgraded successor newRoomID (spec: room upgrades, server behaviour):
// the room rule whose ID is the old room ID, and override and underride
// rules with an event_match condition on room_id naming the old room.
// A copy takes the rule ID with the old room ID replaced by the new one
// and sits right after its original; a rule whose new ID is already in
// use is left alone, so copying twice changes nothing. It reports
// whether rs changed. The user-rule bound still applies.
func (rs *Ruleset) CopyForUpgrade(oldRoomID, newRoomID string) bool {
	if oldRoomID == "" || newRoomID == "" || oldRoomID == newRoomID {
		return false
	}
	changed := false
	count := rs.UserRules()
	for _, kind := range []string{"override", "room", "underride"} {
		list := rs.List(kind)
		for i := 0; i < len(*list); i++ {
			r := (*list)[i]
			if r.Default || !namesRoom(kind, r, oldRoomID) {
				continue
			}
			id := strings.ReplaceAll(r.RuleID, oldRoomID, newRoomID)
			if id == r.RuleID || rs.Find(kind, id) != nil || count >= MaxUserRules {
				continue
			}
			cp := &Rule{RuleID: id, Enabled: r.Enabled, Actions: r.Actions, Pattern: r.Pattern}
			if r.Conditions != nil {
				cp.Conditions = make([]Condition, len(r.Conditions))
				for j, c := range r.Conditions {
					if isRoomMatch(c, oldRoomID) {
						p := newRoomID
						c.Pattern = &p
					}
					cp.Conditions[j] = c
				}
			}
			*list = append((*list)[:i+1], append([]*Rule{cp}, (*list)[i+1:]...)...)
			i++ // skip the copy
			count++
			changed = true
		}
	}
	return changed
}

// namesRoom: is r a rule for the room, by the upgrade copy's terms?
func namesRoom(kind string, r *Rule, roomID string) bool {
	if kind == "room" {
		return r.RuleID == roomID
	}
	for _, c := range r.Conditions {
		if isRoomMatch(c, roomID) {
			return true
		}
	}
	return false
}

func isRoomMatch(c Condition, roomID string) bool {
	return c.Kind == "event_match" && c.Key == "room_id" && c.Pattern != nil && *c.Pattern == roomID
}
