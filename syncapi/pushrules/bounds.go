package pushrules

import (
	"fmt"
	"strings"
)

// Bounds on what a user may store: every rule is evaluated for every
// event in the user's rooms, so rule lists and rule sizes are bounded.
const (
	MaxActions    = 20
	MaxConditions = 20
	// MaxUserRules is the user's own rules over all kinds (server
	// defaults not counted).
	MaxUserRules = 200
)

// CheckRule refuses a rule with more actions or conditions than allowed.
func CheckRule(r *Rule) error {
	if len(r.Actions) > MaxActions {
		return fmt.Errorf("a push rule may have at most %d actions", MaxActions)
	}
	if len(r.Conditions) > MaxConditions {
		return fmt.Errorf("a push rule may have at most %d conditions", MaxConditions)
	}
	return nil
}

// UserRules counts the rules in r that are not server defaults.
func (r *Ruleset) UserRules() int {
	n := 0
	for _, kind := range []string{"override", "content", "room", "sender", "underride"} {
		for _, rule := range *r.List(kind) {
			if !strings.HasPrefix(rule.RuleID, ".") {
				n++
			}
		}
	}
	return n
}
