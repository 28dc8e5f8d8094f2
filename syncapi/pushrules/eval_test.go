package pushrules

import "testing"

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
