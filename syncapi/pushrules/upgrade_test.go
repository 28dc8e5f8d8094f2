package pushrules

import (
	"encoding/json"
	"testing"
)

func TestCopyForUpgrade(t *testing.T) {
	old, nw := "!old:hs", "!new:hs"
	mute := []json.RawMessage{json.RawMessage(`"dont_notify"`)}
	p := old
	other := "!other:hs"
	rs := WithDefaults("@a:hs", nil)
	rs.Room = append([]*Rule{{RuleID: old, Enabled: true, Actions: mute}, {RuleID: other, Enabled: true, Actions: mute}}, rs.Room...)
	rs.Override = append([]*Rule{
		{RuleID: "q-" + old, Enabled: false, Actions: mute, Conditions: []Condition{{Kind: "event_match", Key: "room_id", Pattern: &p}}},
		{RuleID: "fixed", Enabled: true, Actions: mute, Conditions: []Condition{{Kind: "event_match", Key: "room_id", Pattern: &p}}},
	}, rs.Override...)
	if !rs.CopyForUpgrade(old, nw) {
		t.Fatal("nothing copied")
	}
	if r := rs.Find("room", nw); r == nil || string(r.Actions[0]) != `"dont_notify"` {
		t.Fatalf("room rule: %+v", r)
	}
	if rs.Find("room", other) == nil || rs.Room[1].RuleID != nw {
		t.Fatalf("copy not right after its original: %v", rs.Room)
	}
	r := rs.Find("override", "q-"+nw)
	if r == nil || r.Enabled || *r.Conditions[0].Pattern != nw || *rs.Find("override", "q-"+old).Conditions[0].Pattern != old {
		t.Fatalf("override copy %+v", r)
	}
	if n := rs.UserRules(); n != 6 {
		t.Fatalf("%d user rules, want 6 (a rule whose ID does not name the room is not copied)", n)
	}
	if rs.CopyForUpgrade(old, nw) {
		t.Fatal("second copy changed the rules")
	}
}
