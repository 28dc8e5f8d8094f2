package pushrules

import (
	"encoding/json"
	"testing"
)

func TestDefaults(t *testing.T) {
	rs := Defaults("@alice:hs")
	c := &Context{UserID: "@alice:hs", DisplayName: "Alice", MemberCount: 3, SenderPowerLevel: 100}
	cases := []struct {
		name       string
		ev         string
		notify, hl bool
		members    int
	}{
		{"message", `{"type":"m.room.message","content":{"body":"hi","msgtype":"m.text"}}`, true, false, 3},
		{"one to one", `{"type":"m.room.message","content":{"body":"hi"}}`, true, false, 2},
		{"notice", `{"type":"m.room.message","content":{"body":"hi","msgtype":"m.notice"}}`, false, false, 3},
		{"mention", `{"type":"m.room.message","content":{"body":"x","m.mentions":{"user_ids":["@alice:hs"]}}}`, true, true, 3},
		{"display name", `{"type":"m.room.message","content":{"body":"hey alice!"}}`, true, true, 3},
		{"display name inside word", `{"type":"m.room.message","content":{"body":"malicer"}}`, true, false, 3},
		{"room mention", `{"type":"m.room.message","content":{"body":"x","m.mentions":{"room":true}}}`, true, true, 3},
		{"edit", `{"type":"m.room.message","content":{"body":"x","m.relates_to":{"rel_type":"m.replace"}}}`, false, false, 3},
		{"reaction", `{"type":"m.reaction","content":{}}`, false, false, 3},
		{"invite", `{"type":"m.room.member","state_key":"@alice:hs","content":{"membership":"invite"}}`, true, false, 3},
		{"other member", `{"type":"m.room.member","state_key":"@bob:hs","content":{"membership":"join"}}`, false, false, 3},
	}
	for _, tc := range cases {
		c.MemberCount = tc.members
		r := Evaluate(rs, []byte(tc.ev), c)
		if r.Notify != tc.notify || r.Highlight != tc.hl {
			t.Errorf("%s: notify=%v highlight=%v (rule %s)", tc.name, r.Notify, r.Highlight, r.RuleID)
		}
	}
	// The master rule silences everything when enabled.
	rs.Find("override", ".m.rule.master").Enabled = true
	if r := Evaluate(rs, []byte(cases[0].ev), c); r.Notify {
		t.Fatal("master rule did not silence")
	}
}

func TestGlob(t *testing.T) {
	rs := &Ruleset{Content: []*Rule{{RuleID: "x", Enabled: true, Pattern: str("ex*ple"), Actions: nil}}}
	rs.Content[0].Actions = append(rs.Content[0].Actions, actNotify)
	for body, want := range map[string]bool{"An example event.": true, "exple": true, "An exciting triple-whammy": true, "examples": false} {
		r := Evaluate(rs, []byte(`{"type":"m.room.message","content":{"body":"`+body+`"}}`), &Context{})
		if r.Notify != want {
			t.Errorf("%q: %v", body, r.Notify)
		}
	}
}

func TestCompiledConditions(t *testing.T) {
	rule := func(conds ...Condition) *Ruleset {
		return &Ruleset{Override: []*Rule{{RuleID: "r", Enabled: true, Conditions: conds, Actions: []json.RawMessage{actNotify}}}}
	}
	ev := `{"type":"m.room.message","room_id":"!R:hs","sender":"@Bob:hs","content":{"body":"Hello World_x","n":3,"tags":["a",1,true],"flag":false}}`
	cases := []struct {
		name string
		rs   *Ruleset
		want bool
	}{
		{"literal is case-insensitive", rule(match("type", "M.ROOM.MESSAGE")), true},
		{"literal is whole-value", rule(match("type", "m.room")), false},
		{"wildcard", rule(match("type", "m.room.*")), true},
		{"question mark", rule(match("sender", "@bo?:hs")), true},
		{"body word literal", rule(match("content.body", "world_x")), true},
		{"body word boundary", rule(match("content.body", "world")), false},
		{"body word wildcard", rule(match("content.body", "hel*")), true},
		{"non-string value", rule(match("content.n", "3")), false},
		{"missing key", rule(match("content.nope", "*")), false},
		{"property is number", rule(Condition{Kind: "event_property_is", Key: "content.n", Value: raw("3")}), true},
		{"property is false", rule(Condition{Kind: "event_property_is", Key: "content.flag", Value: raw("false")}), true},
		{"property is wrong type", rule(Condition{Kind: "event_property_is", Key: "content.n", Value: raw(`"3"`)}), false},
		{"property is object value never matches", rule(Condition{Kind: "event_property_is", Key: "content", Value: raw(`{}`)}), false},
		{"contains", rule(Condition{Kind: "event_property_contains", Key: "content.tags", Value: raw("true")}), true},
		{"contains missing", rule(Condition{Kind: "event_property_contains", Key: "content.tags", Value: raw(`"b"`)}), false},
		{"member count >=", rule(Condition{Kind: "room_member_count", Is: ">=3"}), true},
		{"member count <", rule(Condition{Kind: "room_member_count", Is: "<3"}), false},
		{"member count malformed", rule(Condition{Kind: "room_member_count", Is: "~3"}), false},
		{"unknown condition kind", rule(Condition{Kind: "org.example.future"}), false},
		{"display name", rule(Condition{Kind: "contains_display_name"}), false},
	}
	c := &Context{UserID: "@alice:hs", DisplayName: "Alice", MemberCount: 3}
	for _, tc := range cases {
		if r := Evaluate(tc.rs, []byte(ev), c); r.Notify != tc.want {
			t.Errorf("%s: notify=%v", tc.name, r.Notify)
		}
	}
	room := &Ruleset{Room: []*Rule{{RuleID: "!R:hs", Enabled: true, Actions: []json.RawMessage{actNotify}}},
		Sender: []*Rule{{RuleID: "@bob:hs", Enabled: true, Actions: []json.RawMessage{actNotify}}}}
	if r := Evaluate(room, []byte(ev), c); !r.Notify || r.RuleID != "!R:hs" {
		t.Errorf("room rule: %+v", r)
	}
	room.Room[0].Enabled = false
	if r := Evaluate(room, []byte(ev), c); r.Notify {
		t.Errorf("sender rule must compare user IDs exactly: %+v", r)
	}
	if r := Evaluate(Defaults("@alice:hs"), []byte(ev), c); string(r.ActionsJSON) != `["notify"]` {
		t.Errorf("actions JSON %s", r.ActionsJSON)
	}
}

func TestContainsWord(t *testing.T) {
	for _, tc := range []struct {
		hay, needle string
		want        bool
	}{
		{"alice", "alice", true}, {"hi alice!", "alice", true}, {"malice", "alice", false},
		{"malice alice", "alice", true}, {"alice_", "alice", false}, {"", "alice", false}, {"alice", "", false},
		{"bob smith:", "bob smith", true},
	} {
		if got := containsWord(tc.hay, tc.needle); got != tc.want {
			t.Errorf("containsWord(%q, %q) = %v", tc.hay, tc.needle, got)
		}
	}
}

func TestMayName(t *testing.T) {
	ev := NewEvent([]byte(`{"type":"m.room.message","sender":"@a:x","content":{"body":"Hello Bob!","m.mentions":{"user_ids":["@carol:x"]}}}`))
	cases := []struct {
		user, name string
		want       bool
	}{
		{"@dave:x", "", false},
		{"@dave:x", "Dave", false},
		{"@carol:x", "", true},  // in m.mentions
		{"@bob:x", "bob", true}, // display name in the body, any case
		{"@b<b:x", "", true},    // might be escaped in JSON: not ruled out
	}
	for _, c := range cases {
		if got := ev.MayName(c.user, c.name); got != c.want {
			t.Errorf("MayName(%q, %q) = %v, want %v", c.user, c.name, got, c.want)
		}
	}
}

// TestMayNameSharedResult: members on the default rules that an event
// does not name all get the representative's result.
func TestMayNameSharedResult(t *testing.T) {
	events := []string{
		`{"type":"m.room.message","sender":"@a:x","content":{"msgtype":"m.text","body":"hi all"}}`,
		`{"type":"m.room.message","sender":"@a:x","content":{"msgtype":"m.text","body":"hi Bob"}}`,
		`{"type":"m.room.message","sender":"@a:x","content":{"msgtype":"m.notice","body":"notice"}}`,
		`{"type":"m.room.message","sender":"@a:x","content":{"msgtype":"m.text","body":"@room look","m.mentions":{"room":true}}}`,
		`{"type":"m.room.message","sender":"@a:x","content":{"msgtype":"m.text","body":"x","m.mentions":{"user_ids":["@carol:x"]}}}`,
		`{"type":"m.room.member","sender":"@a:x","state_key":"@carol:x","content":{"membership":"invite"}}`,
		`{"type":"m.room.encrypted","sender":"@a:x","content":{}}`,
	}
	users := []struct{ id, name string }{{"@bob:x", "Bob"}, {"@carol:x", "Carol"}, {"@dave:x", ""}, {"@erin:x", "Erin"}}
	for _, js := range events {
		ev := NewEvent([]byte(js))
		var plain *Result
		for _, u := range users {
			ctx := &Context{UserID: u.id, DisplayName: u.name, MemberCount: 10, SenderPowerLevel: 100, NotificationLevels: map[string]int64{"room": 50}}
			got := Compile(Defaults(u.id)).Evaluate(ev, ctx)
			if ev.MayName(u.id, u.name) {
				continue
			}
			if plain == nil {
				plain = &got
			} else if got.Notify != plain.Notify || got.Highlight != plain.Highlight || string(got.ActionsJSON) != string(plain.ActionsJSON) {
				t.Errorf("%s: %s got %+v, another unnamed member %+v", js, u.id, got, *plain)
			}
		}
	}
}
