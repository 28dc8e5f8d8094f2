package pushrules

import "strings"

// MayName reports whether the event could name userID for the
// server-default rules, the only ones that see who evaluates them:
// invite_for_me and is_user_mention need the user ID in the event,
// contains_display_name the display name in the body. It errs towards
// true; every member on the default rules for whom it is false gets the
// same result, so a big room evaluates the defaults once, not per member.
func (e *Event) MayName(userID, displayName string) bool {
	if !verbatimInJSON(userID) || strings.Contains(e.root.Raw, userID) {
		return true
	}
	if displayName == "" {
		return false
	}
	body, ok := e.lowerBody()
	return ok && strings.Contains(body, strings.ToLower(displayName))
}

// verbatimInJSON: s has no character a JSON encoder might escape, so
// it appears in the event's JSON as is wherever the event contains it.
func verbatimInJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// VerbatimInJSON: s has no character a JSON encoder might escape (see
// MayName: a member whose ID is not is evaluated on its own).
func VerbatimInJSON(s string) bool { return verbatimInJSON(s) }

// UserIDsEndingIn calls fn with every substring of the event's JSON that
// starts with '@', ends with ":"+domain and is at most maxLen bytes long,
// until fn returns false: every user ID of domain that MayName finds in
// the event is among them, so a room need not ask MayName of every
// member.
func (e *Event) UserIDsEndingIn(domain string, maxLen int, fn func(string) bool) {
	raw, suffix := e.root.Raw, ":"+domain
	for i := 0; i < len(raw); {
		j := strings.Index(raw[i:], suffix)
		if j < 0 {
			return
		}
		end := i + j + len(suffix)
		for at := i + j - 1; at >= 0 && end-at <= maxLen; at-- {
			if raw[at] == '@' && !fn(raw[at:end]) {
				return
			}
		}
		i += j + 1
	}
}

// LowerBody is content.body lowered (false if it is not a string), as
// MayName matches display names against it.
func (e *Event) LowerBody() (string, bool) { return e.lowerBody() }
