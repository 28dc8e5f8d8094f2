package pushrules

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Compiled is a Ruleset prepared once for many evaluations: only enabled
// rules, in priority order, with key paths, globs, comparison values and
// action outcomes already parsed. It is immutable and safe to share.
type Compiled struct {
	rules []*compiledRule // shared between users' sets (CompileDefaults)
}

type compiledRule struct {
	conds []cond
	res   Result
}

type condKind uint8

const (
	condNever condKind = iota
	condEventMatch
	condPropIs
	condPropContains
	condDisplayName
	condMemberCount
	condSenderPermission
)

type cond struct {
	kind  condKind
	path  string       // gjson path of the event field
	glob  glob         // event_match
	value gjson.Result // event_property_is / _contains
	op    string       // room_member_count
	n     int
	key   string // sender_notification_permission
	// shared numbers a condition on the event alone (shared.go), -1.
	shared int16
}

// Compile prepares rs for Evaluate. Rules that can never match (an
// unknown condition kind, a malformed pattern) are kept so they still
// shadow nothing: they simply never match, as the spec requires.
func Compile(rs *Ruleset) *Compiled {
	c := &Compiled{}
	for _, kr := range enabledRules(rs) {
		c.rules = append(c.rules, compileRule(kr.kind, kr.rule))
	}
	return c
}

func compileRule(kind string, r *Rule) *compiledRule {
	conds := compileConds(kind, r)
	for i := range conds {
		conds[i].shared = sharedID(&conds[i])
	}
	return &compiledRule{conds: conds, res: outcome(r)}
}

func compileConds(kind string, r *Rule) []cond {
	switch kind {
	case "content":
		if r.Pattern == nil {
			return []cond{{kind: condNever}}
		}
		return []cond{{kind: condEventMatch, path: "content.body", glob: compileGlob(*r.Pattern, true)}}
	case "room":
		return []cond{{kind: condEventMatch, path: "room_id", glob: exactGlob(r.RuleID)}}
	case "sender":
		return []cond{{kind: condEventMatch, path: "sender", glob: exactGlob(r.RuleID)}}
	}
	out := make([]cond, 0, len(r.Conditions))
	for _, c := range r.Conditions {
		out = append(out, compileCond(c))
	}
	return out
}

func compileCond(c Condition) cond {
	switch c.Kind {
	case "event_match":
		if c.Pattern == nil {
			return cond{kind: condNever}
		}
		return cond{kind: condEventMatch, path: gjsonPath(c.Key), glob: compileGlob(*c.Pattern, c.Key == "content.body")}
	case "event_property_is", "event_property_contains":
		v := gjson.ParseBytes(c.Value)
		if len(c.Value) == 0 || !(v.Type == gjson.String || v.Type == gjson.Number || v.Type == gjson.True || v.Type == gjson.False || v.Type == gjson.Null) {
			return cond{kind: condNever}
		}
		k := condPropIs
		if c.Kind == "event_property_contains" {
			k = condPropContains
		}
		return cond{kind: k, path: gjsonPath(c.Key), value: v}
	case "contains_display_name":
		return cond{kind: condDisplayName}
	case "room_member_count":
		op := strings.TrimRight(c.Is, "0123456789")
		n, err := strconv.Atoi(c.Is[len(op):])
		switch op {
		case "", "==", "<", ">", "<=", ">=":
		default:
			err = strconv.ErrSyntax
		}
		if err != nil {
			return cond{kind: condNever}
		}
		return cond{kind: condMemberCount, op: op, n: n}
	case "sender_notification_permission":
		return cond{kind: condSenderPermission, key: c.Key}
	}
	return cond{kind: condNever}
}

// outcome precomputes what a matching rule means.
func outcome(r *Rule) Result {
	res := Result{Actions: r.Actions, RuleID: r.RuleID}
	for _, a := range r.Actions {
		t := gjson.ParseBytes(a)
		if t.Type == gjson.String && t.Str == "notify" {
			res.Notify = true
		}
		if t.Get("set_tweak").String() == "highlight" {
			hv := t.Get("value")
			res.Highlight = !hv.Exists() || hv.Bool()
		}
	}
	if !res.Notify {
		res.Highlight = false
	}
	actions := r.Actions
	if actions == nil {
		actions = []json.RawMessage{}
	}
	res.ActionsJSON, _ = json.Marshal(actions)
	return res
}

// Evaluate returns the outcome of the first rule matching ev.
func (c *Compiled) Evaluate(ev *Event, ctx *Context) Result {
	for _, r := range c.rules {
		if r.matches(ev, ctx) {
			return r.res
		}
	}
	return Result{}
}

func (r *compiledRule) matches(ev *Event, ctx *Context) bool {
	for i := range r.conds {
		if !r.conds[i].matches(ev, ctx) {
			return false
		}
	}
	return true
}

func (c *cond) matches(ev *Event, ctx *Context) bool {
	if c.shared < 0 {
		return c.eval(ev, ctx)
	}
	switch ev.memo[c.shared] {
	case memoTrue:
		return true
	case memoFalse:
		return false
	}
	ok := c.eval(ev, ctx)
	ev.memo[c.shared] = memoFalse
	if ok {
		ev.memo[c.shared] = memoTrue
	}
	return ok
}

func (c *cond) eval(ev *Event, ctx *Context) bool {
	switch c.kind {
	case condEventMatch:
		v := ev.get(c.path)
		if v.Type != gjson.String {
			return false
		}
		return c.glob.match(v.Str, ev)
	case condPropIs:
		v := ev.get(c.path)
		return v.Exists() && scalarEqual(v, c.value)
	case condPropContains:
		v := ev.get(c.path)
		found := false
		if v.IsArray() {
			v.ForEach(func(_, item gjson.Result) bool {
				found = scalarEqual(item, c.value)
				return !found
			})
		}
		return found
	case condDisplayName:
		if ctx.DisplayName == "" {
			return false
		}
		body, ok := ev.lowerBody()
		return ok && containsWord(body, strings.ToLower(ctx.DisplayName))
	case condMemberCount:
		return memberCountMatches(c.op, c.n, ctx.MemberCount)
	case condSenderPermission:
		need, ok := ctx.NotificationLevels[c.key]
		if !ok {
			need = 50
		}
		return ctx.SenderPowerLevel >= need
	}
	return false
}

func scalarEqual(v, w gjson.Result) bool {
	switch w.Type {
	case gjson.String:
		return v.Type == gjson.String && v.Str == w.Str
	case gjson.Number:
		return v.Type == gjson.Number && v.Raw == w.Raw
	case gjson.True, gjson.False, gjson.Null:
		return v.Type == w.Type
	}
	return false
}

func memberCountMatches(op string, want, n int) bool {
	switch op {
	case "", "==":
		return n == want
	case "<":
		return n < want
	case ">":
		return n > want
	case "<=":
		return n <= want
	case ">=":
		return n >= want
	}
	return false
}

// glob is a case-insensitive glob. Patterns without wildcards (nearly
// all of them) compare without a regexp.
type glob struct {
	literal string // lower-cased pattern when it has no * or ?
	re      *regexp.Regexp
	word    bool // match a word-bounded substring (content.body)
	exact   bool // case-sensitive equality (room and sender rule IDs)
	never   bool
}

func exactGlob(s string) glob { return glob{literal: s, exact: true} }

func compileGlob(pattern string, word bool) glob {
	if !strings.ContainsAny(pattern, "*?") {
		return glob{literal: strings.ToLower(pattern), word: word}
	}
	var b strings.Builder
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*?")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	expr := "(?is)^" + b.String() + "$"
	if word {
		expr = `(?is)(^|[^A-Za-z0-9_])` + b.String() + `([^A-Za-z0-9_]|$)`
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return glob{never: true}
	}
	return glob{re: re, word: word}
}

// match matches s, the value of the condition's key in ev; word globs
// are only built for content.body, whose lower-cased form ev caches.
func (g *glob) match(s string, ev *Event) bool {
	switch {
	case g.never:
		return false
	case g.exact:
		return s == g.literal
	case g.re != nil:
		return g.re.MatchString(s)
	case g.word:
		body, _ := ev.lowerBody()
		return containsWord(body, g.literal)
	}
	return strings.EqualFold(s, g.literal)
}

// containsWord reports whether needle occurs in hay (both lower-cased)
// between word boundaries: string ends or a byte outside [a-z0-9_].
func containsWord(hay, needle string) bool {
	if needle == "" {
		return false
	}
	for off := 0; off <= len(hay)-len(needle); {
		i := strings.Index(hay[off:], needle)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(needle)
		if (start == 0 || !wordByte(hay[start-1])) && (end == len(hay) || !wordByte(hay[end])) {
			return true
		}
		off = start + 1
	}
	return false
}

func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b >= 'A' && b <= 'Z'
}
