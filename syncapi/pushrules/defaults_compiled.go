package pushrules

import (
	"encoding/json"
	"slices"
	"sync"
)

// Most users are on the server defaults, and all but two of those rules
// are the same for everyone. Compiled per user they held ~10 KB each
// (regexps, parsed values, actions): megabytes of live heap once a few
// hundred users have been seen. CompileDefaults shares the compiled rules
// that do not name the user (1.6 KB per user is left) and compiles only
// those that do (invite_for_me, is_user_mention).

var defaultsTemplate struct {
	once  sync.Once
	rules []*compiledRule
	// perUser: indexes of rules (in enabledRules order) that differ
	// between users.
	perUser []int
}

// CompileDefaults is Compile(Defaults(userID)), sharing what does not
// depend on the user with every other user's.
func CompileDefaults(userID string) *Compiled {
	t := &defaultsTemplate
	t.once.Do(func() {
		// Two users' defaults: a rule whose JSON differs names the user.
		a, b := enabledRules(Defaults("@a:a")), enabledRules(Defaults("@b:b"))
		for i := range a {
			ja, _ := json.Marshal(a[i].rule)
			jb, _ := json.Marshal(b[i].rule)
			if string(ja) != string(jb) {
				t.perUser = append(t.perUser, i)
			}
		}
		t.rules = Compile(Defaults("@a:a")).rules
	})
	own := enabledRules(Defaults(userID))
	c := &Compiled{rules: slices.Clone(t.rules)}
	for _, i := range t.perUser {
		c.rules[i] = compileRule(own[i].kind, own[i].rule)
	}
	return c
}

type kindRule struct {
	kind string
	rule *Rule
}

// enabledRules lists rs's enabled rules in evaluation order (Compile's).
func enabledRules(rs *Ruleset) []kindRule {
	var out []kindRule
	for _, kind := range Kinds {
		for _, r := range *rs.List(kind) {
			if r.Enabled {
				out = append(out, kindRule{kind, r})
			}
		}
	}
	return out
}
