// Package pushrules holds the spec's default push rules and evaluates
// rule sets against events, deciding notify/highlight per user.
package pushrules

import (
	"encoding/json"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// Condition is one push rule condition.
type Condition struct {
	Kind    string          `json:"kind"`
	Key     string          `json:"key,omitempty"`
	Pattern *string         `json:"pattern,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
	Is      string          `json:"is,omitempty"`
}

// Rule is one push rule.
type Rule struct {
	RuleID     string            `json:"rule_id"`
	Default    bool              `json:"default"`
	Enabled    bool              `json:"enabled"`
	Conditions []Condition       `json:"conditions,omitempty"`
	Actions    []json.RawMessage `json:"actions"`
	Pattern    *string           `json:"pattern,omitempty"`
}

// Ruleset is the "global" scope, kinds in priority order.
type Ruleset struct {
	Override  []*Rule `json:"override"`
	Content   []*Rule `json:"content"`
	Room      []*Rule `json:"room"`
	Sender    []*Rule `json:"sender"`
	Underride []*Rule `json:"underride"`
}

// AccountData is the m.push_rules account data content.
type AccountData struct {
	Global Ruleset `json:"global"`
}

// Kinds lists the rule kinds in evaluation order.
var Kinds = []string{"override", "content", "room", "sender", "underride"}

// List returns the rule list of a kind, or nil for an unknown kind.
func (r *Ruleset) List(kind string) *[]*Rule {
	switch kind {
	case "override":
		return &r.Override
	case "content":
		return &r.Content
	case "room":
		return &r.Room
	case "sender":
		return &r.Sender
	case "underride":
		return &r.Underride
	}
	return nil
}

// Find returns the rule with id in kind, or nil.
func (r *Ruleset) Find(kind, id string) *Rule {
	l := r.List(kind)
	if l == nil {
		return nil
	}
	for _, rule := range *l {
		if rule.RuleID == id {
			return rule
		}
	}
	return nil
}

func str(s string) *string { return &s }

func match(key, pattern string) Condition {
	return Condition{Kind: "event_match", Key: key, Pattern: str(pattern)}
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

var (
	actNotify    = raw(`"notify"`)
	actSound     = raw(`{"set_tweak":"sound","value":"default"}`)
	actRing      = raw(`{"set_tweak":"sound","value":"ring"}`)
	actHighlight = raw(`{"set_tweak":"highlight"}`)
)

// The event types of polls (MSC3381, unstable names, which clients send).
const (
	pollStart    = "org.matrix.msc3381.poll.start"
	pollResponse = "org.matrix.msc3381.poll.response"
	pollEnd      = "org.matrix.msc3381.poll.end"
)

// Defaults returns the server-default rules for userID (spec "Predefined
// Rules"), plus the legacy display-name/@room rules clients still expect
// and MSC3930's poll rules.
func Defaults(userID string) *Ruleset {
	d := func(id string, enabled bool, conds []Condition, acts ...json.RawMessage) *Rule {
		if conds == nil {
			conds = []Condition{}
		}
		if acts == nil {
			acts = []json.RawMessage{}
		}
		return &Rule{RuleID: id, Default: true, Enabled: enabled, Conditions: conds, Actions: acts}
	}
	return &Ruleset{
		Override: []*Rule{
			d(".m.rule.master", false, nil),
			d(".m.rule.suppress_notices", true, []Condition{match("content.msgtype", "m.notice")}),
			d(".m.rule.invite_for_me", true, []Condition{match("type", spec.MRoomMember), match("content.membership", "invite"), match("state_key", userID)}, actNotify, actSound),
			d(".m.rule.member_event", true, []Condition{match("type", spec.MRoomMember)}),
			d(".m.rule.is_user_mention", true, []Condition{{Kind: "event_property_contains", Key: `content.m\.mentions.user_ids`, Value: mustJSON(userID)}}, actNotify, actSound, actHighlight),
			d(".m.rule.contains_display_name", true, []Condition{{Kind: "contains_display_name"}}, actNotify, actSound, actHighlight),
			d(".m.rule.is_room_mention", true, []Condition{{Kind: "event_property_is", Key: `content.m\.mentions.room`, Value: raw("true")}, {Kind: "sender_notification_permission", Key: "room"}}, actNotify, actHighlight),
			d(".m.rule.roomnotif", true, []Condition{match("content.body", "@room"), {Kind: "sender_notification_permission", Key: "room"}}, actNotify, actHighlight),
			d(".m.rule.tombstone", true, []Condition{match("type", matrixrules.MRoomTombstone), match("state_key", "")}, actNotify, actHighlight),
			d(".m.rule.reaction", true, []Condition{match("type", matrixrules.MReaction)}),
			d(".m.rule.room.server_acl", true, []Condition{match("type", matrixrules.MRoomServerACL), match("state_key", "")}),
			d(".m.rule.suppress_edits", true, []Condition{{Kind: "event_property_is", Key: `content.m\.relates_to.rel_type`, Value: raw(`"m.replace"`)}}),
			// MSC3930: poll votes are silent, like reactions.
			d(".org.matrix.msc3930.rule.poll_response", true, []Condition{match("type", pollResponse)}),
		},
		Content: []*Rule{},
		Room:    []*Rule{},
		Sender:  []*Rule{},
		Underride: []*Rule{
			d(".m.rule.call", true, []Condition{match("type", matrixrules.MCallInvite)}, actNotify, actRing),
			d(".m.rule.encrypted_room_one_to_one", true, []Condition{{Kind: "room_member_count", Is: "2"}, match("type", matrixrules.MRoomEncrypted)}, actNotify, actSound),
			d(".m.rule.room_one_to_one", true, []Condition{{Kind: "room_member_count", Is: "2"}, match("type", matrixrules.MRoomMessage)}, actNotify, actSound),
			d(".m.rule.message", true, []Condition{match("type", matrixrules.MRoomMessage)}, actNotify),
			d(".m.rule.encrypted", true, []Condition{match("type", matrixrules.MRoomEncrypted)}, actNotify),
			// MSC3930: a poll starting or ending notifies like a message
			// (with a sound in a one-to-one room, whose rules come first).
			d(".org.matrix.msc3930.rule.poll_start_one_to_one", true, []Condition{{Kind: "room_member_count", Is: "2"}, match("type", pollStart)}, actNotify, actSound),
			d(".org.matrix.msc3930.rule.poll_start", true, []Condition{match("type", pollStart)}, actNotify),
			d(".org.matrix.msc3930.rule.poll_end_one_to_one", true, []Condition{{Kind: "room_member_count", Is: "2"}, match("type", pollEnd)}, actNotify, actSound),
			d(".org.matrix.msc3930.rule.poll_end", true, []Condition{match("type", pollEnd)}, actNotify),
		},
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// WithDefaults parses stored m.push_rules content (nil: none) and adds
// any server-default rule it lacks, so new defaults reach old accounts.
// The master rule always stays first.
func WithDefaults(userID string, stored []byte) *Ruleset {
	def := Defaults(userID)
	if len(stored) == 0 {
		return def
	}
	var ad AccountData
	if err := json.Unmarshal(stored, &ad); err != nil {
		return def
	}
	rs := &ad.Global
	for _, kind := range Kinds {
		have := map[string]bool{}
		l := rs.List(kind)
		if *l == nil {
			*l = []*Rule{}
		}
		for _, r := range *l {
			have[r.RuleID] = true
		}
		for _, r := range *def.List(kind) {
			if have[r.RuleID] {
				continue
			}
			if kind == "underride" || kind != "override" {
				*l = append(*l, r)
			} else if r.RuleID == ".m.rule.master" {
				*l = append([]*Rule{r}, *l...)
			} else {
				*l = append(*l, r)
			}
		}
	}
	return rs
}
