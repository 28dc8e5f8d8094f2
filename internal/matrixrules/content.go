package matrixrules

import (
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/jsontext"
)

// MaxEventBytes is the spec's limit on a PDU, signatures included.
const MaxEventBytes = 65536

// MaxTypeBytes bounds an event type and a state key.
const MaxTypeBytes = 255

// CheckLocalEvent checks what the event builder would otherwise accept or
// fail on obscurely: type and state key lengths, content a JSON object,
// the sender a user ID, a member event's state key a user ID and its
// content a membership string, and the field types of the state events
// CheckStateContent knows. It returns "" or the client's message.
func CheckLocalEvent(evType string, stateKey *string, content []byte, sender string) string {
	switch {
	case evType == "":
		return "event type must not be empty"
	case len(evType) > MaxTypeBytes || jsontext.CheckString(evType) != nil:
		return "event type is too long or not text"
	case stateKey != nil && (len(*stateKey) > MaxTypeBytes || jsontext.CheckString(*stateKey) != nil):
		return "state key is too long or not text"
	case len(content) == 0 || !gjson.ValidBytes(content) || !gjson.ParseBytes(content).IsObject():
		return "content must be a JSON object"
	case jsontext.Check(content) != nil:
		return "content refused: " + jsontext.Check(content).Error()
	case !strings.HasPrefix(sender, "@"):
		return "invalid sender"
	}
	if stateKey != nil {
		if msg := CheckStateContent(evType, content); msg != "" {
			return msg
		}
	}
	if evType == spec.MRoomMember {
		if stateKey == nil {
			return "m.room.member needs a state key"
		}
		if _, err := spec.NewUserID(*stateKey, true); err != nil {
			return "m.room.member state key must be a user ID"
		}
		if m := gjson.GetBytes(content, "membership"); m.Type != gjson.String {
			return "m.room.member content needs a membership string"
		}
	}
	return ""
}

// CheckCanonicalAliasShape checks m.room.canonical_alias content types
// and returns the aliases it names (empty ones skipped); the caller
// checks each points to the room.
func CheckCanonicalAliasShape(content []byte) ([]string, string) {
	c := gjson.ParseBytes(content)
	var aliases []string
	if a := c.Get("alias"); a.Exists() {
		if a.Type != gjson.String {
			return nil, "alias must be a string"
		}
		aliases = append(aliases, a.Str)
	}
	if alts := c.Get("alt_aliases"); alts.Exists() {
		if !alts.IsArray() {
			return nil, "alt_aliases must be an array"
		}
		for _, a := range alts.Array() {
			if a.Type != gjson.String {
				return nil, "alt_aliases entries must be strings"
			}
			aliases = append(aliases, a.Str)
		}
	}
	out := aliases[:0]
	for _, a := range aliases {
		if a != "" {
			out = append(out, a)
		}
	}
	return out, ""
}

// ValidRoomAlias checks the "#localpart:server" form.
func ValidRoomAlias(alias string) bool {
	if len(alias) < 4 || len(alias) > MaxTypeBytes || alias[0] != '#' {
		return false
	}
	local, server, ok := strings.Cut(alias[1:], ":")
	return ok && local != "" && server != "" && !strings.ContainsAny(local, " \t\n:")
}
