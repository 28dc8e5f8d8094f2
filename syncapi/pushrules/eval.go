package pushrules

import (
	"encoding/json"
	"strings"
)

// Context is what conditions need beyond the event itself.
type Context struct {
	UserID      string
	DisplayName string
	MemberCount int
	// SenderPowerLevel and NotificationLevels[key] for
	// sender_notification_permission.
	SenderPowerLevel   int64
	NotificationLevels map[string]int64
}

// Result is the outcome of evaluating a rule set for one event.
type Result struct {
	Notify    bool
	Highlight bool
	Actions   []json.RawMessage
	// ActionsJSON is Actions encoded once, for storing notifications.
	ActionsJSON json.RawMessage
	RuleID      string
}

// Evaluate runs rs against the client-format event JSON: the first
// enabled matching rule decides. It compiles rs each time; callers that
// evaluate many events keep a Compiled.
func Evaluate(rs *Ruleset, event []byte, c *Context) Result {
	return Compile(rs).Evaluate(NewEvent(event), c)
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
