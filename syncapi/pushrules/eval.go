package pushrules

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/tidwall/gjson"
)

// Context is what conditions need beyond the event itself.
type Context struct {
	UserID      string
	DisplayName string
	MemberCount int
	// SenderPowerLevel and NotificationLevel(key) for
	// sender_notification_permission.
	SenderPowerLevel   int64
	NotificationLevels map[string]int64
}

// Result is the outcome of evaluating a rule set for one event.
type Result struct {
	Notify    bool
	Highlight bool
	Actions   []json.RawMessage
	RuleID    string
}

// Evaluate runs rs against the client-format event JSON: the first
// enabled matching rule decides.
func Evaluate(rs *Ruleset, event []byte, c *Context) Result {
	ev := gjson.ParseBytes(event)
	for _, kind := range Kinds {
		for _, r := range *rs.List(kind) {
			if !r.Enabled || !ruleMatches(kind, r, ev, c) {
				continue
			}
			res := Result{Actions: r.Actions, RuleID: r.RuleID}
			for _, a := range r.Actions {
				a = bytes.TrimSpace(a)
				if string(a) == `"notify"` {
					res.Notify = true
				}
				t := gjson.ParseBytes(a)
				if t.Get("set_tweak").String() == "highlight" {
					hv := t.Get("value")
					res.Highlight = !hv.Exists() || hv.Bool()
				}
			}
			if !res.Notify {
				res.Highlight = false
			}
			return res
		}
	}
	return Result{}
}

func ruleMatches(kind string, r *Rule, ev gjson.Result, c *Context) bool {
	switch kind {
	case "content":
		if r.Pattern == nil {
			return false
		}
		return globMatch(*r.Pattern, ev.Get("content.body"), true)
	case "room":
		return ev.Get("room_id").String() == r.RuleID
	case "sender":
		return ev.Get("sender").String() == r.RuleID
	}
	for _, cond := range r.Conditions {
		if !conditionMatches(cond, ev, c) {
			return false
		}
	}
	return true
}

func conditionMatches(cond Condition, ev gjson.Result, c *Context) bool {
	switch cond.Kind {
	case "event_match":
		if cond.Pattern == nil {
			return false
		}
		return globMatch(*cond.Pattern, ev.Get(gjsonPath(cond.Key)), cond.Key == "content.body")
	case "event_property_is":
		v := ev.Get(gjsonPath(cond.Key))
		return v.Exists() && scalarEqual(v, cond.Value)
	case "event_property_contains":
		v := ev.Get(gjsonPath(cond.Key))
		if !v.IsArray() {
			return false
		}
		for _, item := range v.Array() {
			if scalarEqual(item, cond.Value) {
				return true
			}
		}
		return false
	case "contains_display_name":
		body := ev.Get("content.body")
		if c.DisplayName == "" || body.Type != gjson.String {
			return false
		}
		return wordMatch(regexp.QuoteMeta(strings.ToLower(c.DisplayName)), strings.ToLower(body.String()))
	case "room_member_count":
		return memberCountMatches(cond.Is, c.MemberCount)
	case "sender_notification_permission":
		need, ok := c.NotificationLevels[cond.Key]
		if !ok {
			need = 50
		}
		return c.SenderPowerLevel >= need
	}
	return false
}

// gjsonPath turns a spec dot-path (with \. escapes) into a gjson path.
func gjsonPath(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch {
		case key[i] == '\\' && i+1 < len(key):
			i++
			if key[i] == '.' || key[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(key[i])
		case key[i] == '*' || key[i] == '?' || key[i] == '#' || key[i] == '|' || key[i] == '@':
			b.WriteByte('\\')
			b.WriteByte(key[i])
		default:
			b.WriteByte(key[i])
		}
	}
	return b.String()
}

func scalarEqual(v gjson.Result, want json.RawMessage) bool {
	w := gjson.ParseBytes(want)
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

func memberCountMatches(is string, n int) bool {
	op := strings.TrimRight(is, "0123456789")
	v, err := strconv.Atoi(is[len(op):])
	if err != nil {
		return false
	}
	switch op {
	case "", "==":
		return n == v
	case "<":
		return n < v
	case ">":
		return n > v
	case "<=":
		return n <= v
	case ">=":
		return n >= v
	}
	return false
}

var globCache sync.Map // pattern+word flag -> *regexp.Regexp

// globMatch matches a string value against a case-insensitive glob; with
// word set it matches any word-bounded substring (content.body rule).
func globMatch(pattern string, v gjson.Result, word bool) bool {
	if v.Type != gjson.String {
		return false
	}
	key := pattern
	if word {
		key = "w:" + pattern
	}
	re, ok := globCache.Load(key)
	if !ok {
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
		compiled, err := regexp.Compile(expr)
		if err != nil {
			return false
		}
		re, _ = globCache.LoadOrStore(key, compiled)
	}
	return re.(*regexp.Regexp).MatchString(v.Str)
}

func wordMatch(quoted, s string) bool {
	re, err := regexp.Compile(`(^|[^a-z0-9_])` + quoted + `([^a-z0-9_]|$)`)
	return err == nil && re.MatchString(s)
}
