package pushrules

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestSharedConditionsPerUser: one Event evaluated for many users, in
// either order, gives each user the result of evaluating alone, although
// their shared conditions are evaluated once.
func TestSharedConditionsPerUser(t *testing.T) {
	users := []string{"@alice:hs", "@bob:hs", "@carol:hs"}
	events := []string{
		`{"type":"m.room.message","content":{"body":"hi bob","msgtype":"m.text"}}`,
		`{"type":"m.room.message","content":{"body":"x","m.mentions":{"user_ids":["@carol:hs"]}}}`,
		`{"type":"m.room.message","content":{"body":"hi","msgtype":"m.notice"}}`,
		`{"type":"m.room.member","state_key":"@alice:hs","content":{"membership":"invite"}}`,
	}
	for _, js := range events {
		for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
			ev := NewEvent([]byte(js))
			for _, i := range order {
				u := users[i]
				c := &Context{UserID: u, MemberCount: 3}
				got := Compile(Defaults(u)).Evaluate(ev, c)
				alone := Evaluate(Defaults(u), []byte(js), c)
				if got.RuleID != alone.RuleID || got.Highlight != alone.Highlight {
					t.Errorf("%s for %s (order %v): rule %s highlight %v, alone %s %v", js, u, order, got.RuleID, got.Highlight, alone.RuleID, alone.Highlight)
				}
			}
		}
	}
}

// TestSharedConditionsFull: conditions beyond the numbering bound are
// evaluated every time, and still right.
func TestSharedConditionsFull(t *testing.T) {
	var last *Compiled
	for i := range maxSharedConds + 10 {
		rs := &Ruleset{Override: []*Rule{{RuleID: "r", Enabled: true, Actions: []json.RawMessage{actNotify},
			Conditions: []Condition{{Kind: "event_match", Key: "content.body", Pattern: str(fmt.Sprintf("word%d", i))}}}}}
		last = Compile(rs)
	}
	if last.rules[0].conds[0].shared != -1 {
		t.Fatalf("condition %d numbered beyond the bound", maxSharedConds+10)
	}
	ev := NewEvent([]byte(fmt.Sprintf(`{"type":"m.room.message","content":{"body":"a word%d b"}}`, maxSharedConds+9)))
	if !last.Evaluate(ev, &Context{}).Notify {
		t.Fatal("unnumbered condition did not match")
	}
}
